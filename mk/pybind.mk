# Python binding (bindings/python): the engine as a c-shared Go library and
# the wse_server package over it. `make python` builds and installs it into
# the shared venv; `make pybind-test` (part of `make test`) also vets and
# tests its nested Go module, type-checks the package (mypy --strict) and
# runs its pytest suite against real WebSocket clients and a real
# uvicorn/FastAPI process.
APT_PY_EXTRA += python3-fastapi python3-uvicorn python3-mypy python3-cryptography
PYBIND := bindings/python

TEST_TARGETS += pybind-test

.PHONY: python pybind-test pybind-go-test pybind-bench

python: venv
	GO=$(GO) $(PY) -m pip install -q --no-build-isolation --no-deps --force-reinstall ./$(PYBIND)

pybind-go-test:
	@cd $(PYBIND) && test -z "$$(gofmt -l .)" || { gofmt -l .; echo 'gofmt: files above need formatting'; exit 1; }
	cd $(PYBIND) && $(GO) vet ./... && $(GO) run $(STATICCHECK) ./... && $(GO) test -race -count=1 ./...

# -P: do not put the current directory on sys.path, so that the installed
# package (with its libwse.so) is imported, not the source folder.
pybind-test: python pybind-go-test
	cd $(PYBIND) && $(PY) -m mypy --strict --no-incremental -p wse_server
	cd $(PYBIND) && $(PY) -P -m pytest -q -p no:cacheprovider tests

# pybind-bench: the throughput benchmark of bench/RESULTS.md (not a test).
pybind-bench: python
	cd $(PYBIND) && $(PY) -P bench/bench.py
