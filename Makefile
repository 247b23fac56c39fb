# Developer and CI entry points. `make test` is the README's test command and
# what .ci/run runs.
GO        ?= go
FUZZTIME  ?= 60s
BENCHTIME ?= 1s
STATICCHECK = honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: test deps lint race fuzz bench bench-compare venv

# Each part of the project outside the root Go module (SDKs, the Python
# binding, browser tests) has its own mk/<part>.mk that adds its check to
# TEST_TARGETS and installs what it needs (apt-get, npm ci, pip install of
# local packages) in its own recipe, so a clean machine needs no manual step.
TEST_TARGETS :=
-include mk/*.mk

# test: everything CI checks, from a clean checkout.
test: deps lint race $(TEST_TARGETS)

deps:
	$(GO) mod download
	cd bench && $(GO) mod download

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: files above need formatting'; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

race:
	$(GO) test -race -count=1 -timeout 15m ./...
	$(MAKE) -C bench test

# fuzz runs every fuzz target for FUZZTIME each.
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; \
	    $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./...

# bench-compare: BASE's micro-benchmarks against the working tree's,
# interleaved in one run, as benchstat ratios (bench/compare.sh).
# make bench-compare BASE=<commit> [BENCH=regexp] [PKGS='./ ./protocol/'] [COUNT=6]
BENCH ?= .
PKGS  ?= ./...
bench-compare:
	@test -n "$(BASE)" || { echo 'usage: make bench-compare BASE=<commit> [BENCH=regexp] [PKGS=...]'; exit 2; }
	COUNT=$(or $(COUNT),6) BENCHTIME=$(BENCHTIME) bench/compare.sh $(BASE) '$(BENCH)' '$(PKGS)'
