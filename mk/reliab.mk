# Reliability runs of issue 16 (bench/soak.sh, bench/chaos.sh): each prints
# one summary line ("soak: PASS …", "chaos: PASS …"). make test runs the
# shortened forms; the full ones are on demand:
#
#   make soak          # 19,000 clients, 1,000 topics, 10 minutes
#   make chaos         # three nodes in network namespaces, 10,000-client restart
.PHONY: soak soak-short chaos chaos-short reliab-deps

TEST_TARGETS += soak-short chaos-short

# reliab-deps installs what the scripts call besides Go: curl, pgrep
# (procps) and, for chaos, ip and tc (iproute2).
reliab-deps:
	@missing=""; \
	command -v curl >/dev/null || missing="$$missing curl"; \
	command -v pgrep >/dev/null || missing="$$missing procps"; \
	command -v ip >/dev/null && command -v tc >/dev/null || missing="$$missing iproute2"; \
	if [ -n "$$missing" ]; then \
	  echo "reliab: apt-get install$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# soak-short: 2,000 clients, 200 topics, 60 s of publishing (about 90 s).
soak-short: reliab-deps
	SHORT=1 bench/soak.sh

# chaos-short: 300-client fleet, 10 s partition, 1,000-client restart (about
# 2.5 minutes); prints "chaos: SKIP" without root.
chaos-short: reliab-deps
	SHORT=1 bench/chaos.sh

soak: reliab-deps
	bench/soak.sh

chaos: reliab-deps
	bench/chaos.sh
