# Set-up is part of every target: a fresh machine needs only python3 and pip.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(PYTHON) -m uv
XDIST ?= 2

.PHONY: setup check test gate bench baseline report accept clean

$(VENV)/.ok: pyproject.toml
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	@test -x $(PY) || $(UV) venv -q --seed --python $(PYTHON) $(VENV)
	$(UV) pip install -q --python $(PY) -e .
	@touch $@

setup: $(VENV)/.ok

# The main job: snapshot the installed DagsterInstance and check it against dagster 1.11.4.
check: setup
	$(PY) -m compat snapshot -o snapshots/surface-installed.json
	$(PY) -m compat check-release --old 1.11.4

test: setup
	$(PY) -m pytest tests -n $(XDIST) -q

clean:
	rm -rf $(VENV)
