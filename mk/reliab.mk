# Reliability runs of issue 16 (bench/soak.sh, bench/chaos.sh): each prints
# one summary line ("soak: PASS …", "chaos: PASS …"). make test runs the
# shortened forms; the full ones are on demand:
#
#   make soak          # 19,000 clients, 1,000 topics, 10 minutes
#   make chaos         # three nodes in network namespaces, 10,000-client restart
.PHONY: soak soak-short chaos chaos-short

TEST_TARGETS += soak-short chaos-short

# soak-short: 2,000 clients, 200 topics, 60 s of publishing (about 90 s).
soak-short:
	SHORT=1 bench/soak.sh

# chaos-short: 300-client fleet, 10 s partition, 1,000-client restart (about
# 2 minutes); prints "chaos: SKIP" without root or iproute2.
chaos-short:
	SHORT=1 bench/chaos.sh

soak:
	bench/soak.sh

chaos:
	bench/chaos.sh
