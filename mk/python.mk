# Shared Python environment for the Python binding and the Python client.
# No Python package index is reachable: dependencies come from Debian's
# packages, and the venv sees them through --system-site-packages. Debian's
# interpreter (/usr/bin/python3, 3.11) is used on purpose: the python3 first
# on PATH may be another build that cannot import Debian's packages.
# Other mk files add their Debian packages with `APT_PY_EXTRA += …`.
PYTHON_SYS  ?= /usr/bin/python3
VENV        ?= $(CURDIR)/.venv
PY          := $(VENV)/bin/python
APT_PY_PKGS := python3-venv python3-pip python3-setuptools python3-wheel \
	python3-pytest python3-websockets

# venv: the interpreter every Python target uses. apt-get runs only for a
# package that is missing, so the target is cheap once the machine has them.
venv:
	@missing=$$(for p in $(APT_PY_PKGS) $(APT_PY_EXTRA); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "apt-get install" $$missing; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing; \
	fi
	@test -x $(PY) || $(PYTHON_SYS) -m venv --system-site-packages $(VENV)
