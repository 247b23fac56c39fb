# Release archives, built locally in the layout GoReleaser uses:
#   dist/wse_<version>_<os>_<arch>.tar.gz  (wse-server, wse-cli, LICENSE,
#                                           README.md, CHANGELOG.md)
#   dist/wse_<version>_checksums.txt       (sha256sum format)
# VERSION defaults to the tag on HEAD (v1.2.3 → 1.2.3), else
# 0.0.0-SNAPSHOT-<commit>. Builds are static (CGO_ENABLED=0), -trimpath, and
# stamped through internal/buildinfo; archives are reproducible (sorted
# entries, owner 0, mtime of the commit).
# wse-server runs on Linux only (its transport is epoll): the darwin
# archives hold wse-cli, which talks to a server anywhere.
DIST_DIR       ?= dist
DIST_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
DIST_COMMIT    := $(shell git rev-parse HEAD 2>/dev/null)
DIST_DATE      := $(shell git log -1 --format=%cI 2>/dev/null)
VERSION        ?= $(shell v=$$(git describe --tags --exact-match 2>/dev/null) && echo $${v\#v} || echo 0.0.0-SNAPSHOT-$$(git rev-parse --short=12 HEAD 2>/dev/null))
BUILDINFO      := github.com/wse-go/wse/internal/buildinfo
DIST_LDFLAGS   := -s -w -X $(BUILDINFO).version=v$(VERSION) -X $(BUILDINFO).commit=$(DIST_COMMIT) -X $(BUILDINFO).date=$(DIST_DATE)

.PHONY: dist
dist:
	rm -rf $(DIST_DIR) && mkdir -p $(DIST_DIR)
	@set -e; for p in $(DIST_PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; name=wse_$(VERSION)_$${os}_$${arch}; dir=$(DIST_DIR)/$$name; \
	  echo "build $$name"; mkdir -p $$dir; \
	  cmds=wse-cli; [ $$os = linux ] && cmds="wse-server wse-cli"; \
	  for cmd in $$cmds; do \
	    CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -buildvcs=false -ldflags '$(DIST_LDFLAGS)' -o $$dir/$$cmd ./cmd/$$cmd; \
	  done; \
	  cp LICENSE README.md CHANGELOG.md $$dir/; \
	  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='$(DIST_DATE)' -C $(DIST_DIR) -czf $(DIST_DIR)/$$name.tar.gz $$name; \
	  rm -rf $$dir; \
	done
	cd $(DIST_DIR) && sha256sum *.tar.gz > wse_$(VERSION)_checksums.txt
	@cat $(DIST_DIR)/wse_$(VERSION)_checksums.txt
