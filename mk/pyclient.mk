# Python client (clients/python, package wse_client): installs it into the
# shared venv from the local tree (no package index), builds the wse-server
# and the Go test application the tests run, type-checks the package
# (mypy --strict) and runs pytest (~45 s).
APT_PY_EXTRA += python3-cryptography python3-msgpack python3-pytest-asyncio python3-mypy
PYCLIENT_BIN := $(CURDIR)/tmp/pyclient

TEST_TARGETS += pyclient
.PHONY: pyclient pyclient-bench

pyclient: venv
	$(GO) build -o $(PYCLIENT_BIN)/wse-server ./cmd/wse-server
	$(GO) build -o $(PYCLIENT_BIN)/testapp ./clients/python/testapp
	$(PY) -m pip install --no-build-isolation --no-index -q ./clients/python
	cd clients/python && $(PY) -m mypy --strict --no-incremental src/wse_client
	cd clients/python && WSE_SERVER_BIN=$(PYCLIENT_BIN)/wse-server WSE_TESTAPP_BIN=$(PYCLIENT_BIN)/testapp \
	  $(PY) -m pytest -q -p no:cacheprovider tests

# pyclient-bench: messages/s one client process receives with recovery on
# (not part of make test; see bench/RESULTS.md).
pyclient-bench: venv
	$(GO) build -o $(PYCLIENT_BIN)/testapp ./clients/python/testapp
	$(PY) -m pip install --no-build-isolation --no-index -q ./clients/python
	$(PY) clients/python/bench_recv.py --testapp $(PYCLIENT_BIN)/testapp
