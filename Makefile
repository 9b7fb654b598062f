# Set-up is part of every target: a fresh machine needs only python3 and pip.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(PYTHON) -m uv
XDIST ?= 2
OLD ?= 1.11.4
# the release the shipped default baseline (snapshots/baseline) was recorded on, in the
# environment constraints.txt pins: for it the gate replays nothing
RECORDED := 1.13.29
DAGSTER ?= $(RECORDED)
LOCK := $(if $(filter $(RECORDED),$(DAGSTER)),-c constraints.txt)

.PHONY: setup lock browser servers check test test-quick gate baseline baseline-old report reports ecosystem ecosystem-all history accept bench mutate-generated mutate-same-verdicts clean

$(VENV)/.ok: pyproject.toml constraints.txt
	@$(PYTHON) -m uv --version >/dev/null 2>&1 || $(PYTHON) -m pip install -q uv
	@test -x $(PY) || $(UV) venv -q --seed --python $(PYTHON) $(VENV)
	$(UV) pip install -q --compile-bytecode --python $(PY) -e .[dev] pip "dagster==$(DAGSTER)" $(LOCK)
	@touch $@

# re-pin constraints.txt to the venv (then re-record snapshots/baseline: `make baseline`)
lock: setup
	@{ sed -n '1,2p' constraints.txt; $(UV) pip freeze --python $(PY) --exclude-editable; } > constraints.txt.new
	@mv constraints.txt.new constraints.txt

setup: $(VENV)/.ok

# The main job: the installed DagsterInstance against the shipped dagster $(OLD) baseline (surface,
# subclass profiles, behaviour traces, stored fuzz programs), as a reviewer's report.
check: setup
	$(PY) -m compat snapshot
	$(PY) -m compat check --baseline snapshots/baseline-$(OLD) -j $(XDIST) --fail-on never

# the timeline test opens the history page in a real headless browser: Debian's chromium
browser:
	@command -v chromium >/dev/null 2>&1 || { S=; [ "$$(id -u)" -eq 0 ] || S=sudo; \
	  $$S env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $$S env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; }

# the storage replay of dagster-postgres and dagster-mysql runs real servers, started by the
# harness itself in a temp dir (no system service): Debian's postgresql and mariadb-server
servers:
	@{ ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && \
	  { command -v mariadbd >/dev/null 2>&1 || test -x /usr/sbin/mariadbd; }; } || \
	  { S=; [ "$$(id -u)" -eq 0 ] || S=sudo; \
	  $$S env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	  $$S env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql mariadb-server; }

test: setup browser servers
	$(PY) -m pytest tests -n $(XDIST) -q
	$(PY) -m pytest compat -n $(XDIST) -q

# the tests not marked slow (no other dagster environment built, no baseline recorded, no long
# replay): a few minutes; `make test` runs them all, and the gate
test-quick: setup browser servers
	$(PY) -m pytest tests -m "not slow" -n $(XDIST) -q

gate: setup
	$(PY) -m pytest compat -n $(XDIST) -q

baseline: setup
	$(PY) -m compat baseline --out snapshots/baseline -j $(XDIST)

baseline-old: setup
	$(PY) -m compat baseline --out snapshots/baseline-$(OLD) --python "$$($(PY) -c 'from compat.envs import python_for, parse_spec; print(python_for(parse_spec("dagster==$(OLD)")))')" -j $(XDIST)

report: setup
	-$(PY) -m pytest compat -n $(XDIST) -q --compat-baseline snapshots/baseline-$(OLD) --compat-report snapshots/reports/gate-vs-$(OLD).md
	@echo "report: snapshots/reports/gate-vs-$(OLD).md"

# Every subclass of a dagster class in dagster-cloud and the integration packages released for
# dagster $(OLD), checked against dagster $(DAGSTER) (wheels only; cached per wheel)
ecosystem: setup servers
	$(PY) -m compat ecosystem --old dagster==$(OLD) --new dagster==$(DAGSTER) --format markdown --fail-on never --griffe --report snapshots/reports/ecosystem-$(OLD)-vs-$(DAGSTER).md
	$(PY) -m compat ecosystem --old dagster==$(OLD) --new dagster==$(DAGSTER) --format json --fail-on never --report snapshots/reports/ecosystem-$(OLD)-vs-$(DAGSTER).json

# The same over every package of the shipped list (`compat ecosystem-index`): every dagster-*
# package of the index and the others that depend on dagster; one the index cannot give is listed
ecosystem-all: setup servers
	$(PY) -m compat ecosystem --all --old dagster==$(OLD) --new dagster==$(DAGSTER) --format json --fail-on never --report snapshots/reports/ecosystem-all-$(OLD)-vs-$(DAGSTER).json
	$(PY) -m compat ecosystem --all --old dagster==$(OLD) --new dagster==$(DAGSTER) --format markdown --fail-on never --report snapshots/reports/ecosystem-all-$(OLD)-vs-$(DAGSTER).md

# the shipped behaviour history of every release (an hour cold on two cores; seconds warm)
history: setup
	$(PY) -m compat history --from 1.11.4 --to 1.13.29 --cells spy -j $(XDIST) --out snapshots/reports/history-1.11.4-to-1.13.29 >/dev/null

accept: setup
	$(PY) -m pytest compat -q --compat-update $(if $(BASELINE),--compat-baseline $(BASELINE))

# BENCH_AGAINST=REV also times the gate and compare of git revision REV in the same run
bench: setup
	$(PY) bench/run.py $(if $(BENCH_AGAINST),--against $(BENCH_AGAINST))

# Regenerate the shipped reports under snapshots/reports/ from the released wheels
reports: setup
	$(PY) -m compat diff dagster==1.11.4 dagster==1.11.5 --witness --format markdown --fail-on never --griffe --report snapshots/reports/surface-1.11.4-vs-1.11.5.md
	$(PY) -m compat diff dagster==1.11.4 dagster==1.11.6 --witness --format markdown --fail-on never --griffe --report snapshots/reports/surface-1.11.4-vs-1.11.6.md
	$(PY) -m compat diff dagster==1.11.4 dagster==1.13.29 --witness --format markdown --fail-on never --griffe --report snapshots/reports/surface-1.11.4-vs-1.13.29.md
	$(PY) -m compat compare --old dagster==1.11.4 --new dagster==1.11.6 -j $(XDIST) --format markdown --fail-on never --report snapshots/reports/compare-1.11.4-vs-1.11.6.md
	$(PY) -m compat history --from 1.11.4 --to 1.13.29 --static-only --out snapshots/reports/history-static-1.11.4-to-1.13.29 >/dev/null
	$(PY) -m compat contract --baseline snapshots/baseline -o docs/contract.md
	-$(PY) -m compat contract --baseline snapshots/baseline --against snapshots/baseline-$(OLD) -o snapshots/reports/contract-$(OLD)-to-$(DAGSTER).diff
	$(MAKE) report

# Generated mutants of dagster/_core/instance/** through the gate: the mutation score and every
# survivor (docs/users/mutate.md). MUTANTS_OF=1.11.4 mutates that release against its baseline;
# SAMPLE=40 (with SEED) measures a seeded sample: the full run is a few thousand gate runs.
MUTANTS_OF ?= $(RECORDED)
SEED ?= 35
MUTANTS_RECORDED := $(filter $(RECORDED),$(MUTANTS_OF))
mutate-generated: setup
	$(PY) -m compat mutate --generated -j $(XDIST) \
	  $(if $(MUTANTS_RECORDED),--baseline snapshots/baseline,--baseline snapshots/baseline-$(MUTANTS_OF) --dagster-version $(MUTANTS_OF)) \
	  $(if $(SAMPLE),--sample $(SAMPLE) --seed $(SEED)) \
	  -o snapshots/reports/mutants-$(MUTANTS_OF)$(if $(SAMPLE),-sample$(SAMPLE)-seed$(SEED)).md

# The mutation self-check gives the same verdicts, and fails the gate on the same rules, whether
# each mutant replays only what its edit can reach or everything (--full): the soundness of
# change-aware replay on every known mutation (docs/change-aware-replay.md). MUTATE_BASELINE
# picks another baseline (a recording with a version-3 reach map narrows signature edits).
MUTATE_BASELINE ?= snapshots/baseline
mutate-same-verdicts: setup
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	$(PY) -m compat mutate -j $(XDIST) --baseline $(MUTATE_BASELINE) > "$$tmp/aware.txt"; \
	$(PY) -m compat mutate -j $(XDIST) --baseline $(MUTATE_BASELINE) --full > "$$tmp/full.txt"; \
	grep -q '^kill rate' "$$tmp/aware.txt" && grep -q '^kill rate' "$$tmp/full.txt" && \
	sed 's/  (replayed .*//' "$$tmp/aware.txt" > "$$tmp/aware.verdicts" && \
	sed 's/  (replayed .*//' "$$tmp/full.txt" > "$$tmp/full.verdicts" && \
	diff -u "$$tmp/full.verdicts" "$$tmp/aware.verdicts" && cat "$$tmp/aware.txt" && \
	echo "change-aware replay and --full: the same verdicts on every mutation"

clean:
	rm -rf $(VENV)
