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
ifeq ($(origin VERSION),undefined)
VERSION        := $(shell v=$$(git describe --tags --exact-match 2>/dev/null) && echo $$v | sed s/^v// || echo 0.0.0-SNAPSHOT-$$(git rev-parse --short=12 HEAD 2>/dev/null))
endif
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

# dist-check builds the host's Linux archive alone into a scratch directory
# and checks it: the checksum file verifies, the archive has the GoReleaser
# layout, and the binary reports the stamped version and commit.
TEST_TARGETS += dist-check
DIST_CHECK_DIR := $(CURDIR)/tmp/dist-check

.PHONY: dist-check
dist-check:
	$(MAKE) dist DIST_DIR=$(DIST_CHECK_DIR) DIST_PLATFORMS=linux/$$($(GO) env GOARCH) VERSION=0.0.0-check
	cd $(DIST_CHECK_DIR) && sha256sum -c wse_0.0.0-check_checksums.txt
	@set -e; cd $(DIST_CHECK_DIR); a=wse_0.0.0-check_linux_$$($(GO) env GOARCH); \
	  test "$$(tar tzf $$a.tar.gz | sort | tr '\n' ' ')" = "$$a/ $$a/CHANGELOG.md $$a/LICENSE $$a/README.md $$a/wse-cli $$a/wse-server " \
	    || { echo "dist-check: unexpected archive layout:"; tar tzf $$a.tar.gz; exit 1; }; \
	  tar xzf $$a.tar.gz; v=$$(./$$a/wse-server --version); echo "$$v"; \
	  case "$$v" in "wse-server v0.0.0-check (commit $$(git -C $(CURDIR) rev-parse --short=12 HEAD)"*) ;; *) echo "dist-check: wrong --version"; exit 1;; esac; \
	  ./$$a/wse-cli --version
	rm -rf $(DIST_CHECK_DIR)
