# The demo chat and admin dashboard that wse-server embeds (web/ → server/web/dist)
# and their browser tests: Debian's Chromium driven by playwright-core, against a
# real wse-server built from this checkout.
WEB_DIR     := $(CURDIR)/web
WEB_TMP     := $(WEB_DIR)/.tmp
CHROMIUM    ?= /usr/bin/chromium

TEST_TARGETS += web-check

.PHONY: web-deps web-build web-check web-screenshots

# web-deps: npm packages from the lockfile, and Chromium from Debian when it is missing.
web-deps:
	@test -x $(CHROMIUM) || { echo "apt-get install chromium"; apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }
	cd $(WEB_DIR) && npm ci --no-audit --no-fund --loglevel=error

# web-build regenerates server/web/dist from web/src (commit the result).
web-build: web-deps
	cd $(WEB_DIR) && node build.mjs

# web-check: types, the committed bundles match the sources, then end to end in Chromium.
web-check: web-deps
	cd $(WEB_DIR) && npx tsc --noEmit -p tsconfig.json
	cd $(WEB_DIR) && node build.mjs --check
	mkdir -p $(WEB_TMP) && $(GO) build -o $(WEB_TMP)/wse-server ./cmd/wse-server
	cd $(WEB_DIR) && WSE_SERVER_BIN=$(WEB_TMP)/wse-server CHROMIUM=$(CHROMIUM) node --test --test-concurrency=1 test/e2e.test.mjs

# web-screenshots refreshes docs/demo-chat.png and docs/admin-dashboard.png.
web-screenshots: web-deps
	mkdir -p $(WEB_TMP) && $(GO) build -o $(WEB_TMP)/wse-server ./cmd/wse-server
	cd $(WEB_DIR) && WSE_SERVER_BIN=$(WEB_TMP)/wse-server WSE_SCREENSHOTS=$(CURDIR)/docs node --test --test-concurrency=1 test/e2e.test.mjs
