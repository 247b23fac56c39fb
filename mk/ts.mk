# TypeScript client (clients/ts, npm package wse-client): npm ci from the
# lockfile, build, strict type check (the test app imports the built
# package by name), then Vitest (unit tests and integration
# tests against a wse-server the tests build with `go build`, and one test
# in Debian's headless Chromium, installed with apt-get when missing).
TS_DIR := clients/ts

TEST_TARGETS += ts-test

.PHONY: ts-test ts-bench

ts-test:
	@test -x /usr/bin/chromium || { echo 'apt-get install chromium'; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }
	cd $(TS_DIR) && npm ci --no-audit --no-fund
	cd $(TS_DIR) && npm run build
	cd $(TS_DIR) && npm run typecheck
	cd $(TS_DIR) && GO=$(GO) npx vitest run

# ts-bench: receive throughput of one Node process through WSEClient and
# the bundle sizes (min+gzip) of the core and the hooks. Not part of test.
ts-bench:
	cd $(TS_DIR) && npm ci --no-audit --no-fund && npm run build
	cd $(TS_DIR) && GO=$(GO) node bench/throughput.mjs
	cd $(TS_DIR) && node bench/size.mjs
