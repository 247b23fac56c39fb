# The runnable FastAPI backend of docs/hooks.md (examples/hooks-fastapi),
# tested end to end against a freshly built wse-server. FastAPI and
# uvicorn come from Debian (no Python package index is reachable).
APT_PY_EXTRA += python3-fastapi python3-uvicorn
TEST_TARGETS += hooks-example

.PHONY: hooks-example
hooks-example: venv
	$(GO) build -o $(CURDIR)/bin/wse-server-hooks ./cmd/wse-server
	cd examples/hooks-fastapi && WSE_SERVER_BIN=$(CURDIR)/bin/wse-server-hooks $(PY) -m pytest -q -p no:cacheprovider test_app.py
