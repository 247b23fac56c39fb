# Broker tests (issue 13): the Redis and NATS brokers against a real
# redis-server and nats-server (Debian packages), each started by the tests
# on a loopback port and stopped by them, including three wse-server
# processes on one Redis. Under `make race` these tests skip when a server
# binary is missing; here the binaries are installed first and
# WSE_REQUIRE_BROKERS makes a missing one a failure.
BROKER_APT_PKGS := redis-server nats-server

TEST_TARGETS += broker-test

.PHONY: broker-test broker-deps

broker-deps:
	@missing=$$(for p in $(BROKER_APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install" $$missing; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	fi

broker-test: broker-deps
	WSE_REQUIRE_BROKERS=1 $(GO) test -race -count=1 -timeout 5m ./broker/... ./internal/ring/
