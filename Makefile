# Set-up is part of every target: a fresh machine needs only python3 and pip.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(PYTHON) -m uv
XDIST ?= 2
OLD ?= 1.11.4

.PHONY: setup check test gate baseline baseline-old report accept bench clean

$(VENV)/.ok: pyproject.toml
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	@test -x $(PY) || $(UV) venv -q --seed --python $(PYTHON) $(VENV)
	$(UV) pip install -q --python $(PY) -e . pip
	@touch $@

setup: $(VENV)/.ok

# The main job: the installed DagsterInstance against the shipped dagster $(OLD) baseline (surface,
# subclass profiles, behaviour traces, stored fuzz programs), as a reviewer's report.
check: setup
	$(PY) -m compat snapshot
	$(PY) -m compat check --baseline snapshots/baseline-$(OLD) -j $(XDIST) --fail-on never

test: setup
	$(PY) -m pytest tests -n $(XDIST) -q
	$(PY) -m pytest compat -n $(XDIST) -q

gate: setup
	$(PY) -m pytest compat -n $(XDIST) -q

baseline: setup
	$(PY) -m compat baseline --out snapshots/baseline -j $(XDIST)

baseline-old: setup
	$(PY) -m compat baseline --out snapshots/baseline-$(OLD) --python "$$($(PY) -c 'from compat.envs import python_for, parse_spec; print(python_for(parse_spec("dagster==$(OLD)")))')" -j $(XDIST)

report: setup
	-$(PY) -m pytest compat -n $(XDIST) -q --compat-baseline snapshots/baseline-$(OLD) --compat-report snapshots/reports/gate-vs-$(OLD).md
	@echo "report: snapshots/reports/gate-vs-$(OLD).md"

accept: setup
	$(PY) -m pytest compat -q --compat-update

bench: setup
	$(PY) bench/run.py

clean:
	rm -rf $(VENV)
