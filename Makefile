# Two commands on a fresh machine (Python 3.11+, Java 17+, make): `make demo` and `make test`.
# Each creates or updates .venv itself; when nothing changed the install step is a no-op.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home
export PACIFIC_DATA_ROOT ?= $(CURDIR)/data
export SPARK_LOCAL_IP ?= 127.0.0.1
export PYTHONHASHSEED := 0
DEV_PORT ?= 3000
## The grids' first day is the data root's (<data_root>/grids.json, pacific_assets/orchestration/data_root.py):
## every target, plain `dagster dev` and the Dagster services read it the same way; nothing here
## sets PACIFIC_START_DATE. A new demo starts on the 1st of the month four months back.
# pip's noise about unreachable local indexes and editable installs; real errors still print.
PIP_QUIET := { grep -vE 'is ignored: it is neither|BuildBackendWarning|editable_wheel|^ *!!|\*\*\*\*|working directory with the same|precedence during imports|WheelFile\(wheel_path|^\s*$$' || true; }

.PHONY: venv demo test dev sync replay bench chaos mutate snapshot lint fmt simulate clean stack stack-down

$(STAMP): pyproject.toml constraints.txt scripts/check_prereqs.sh
	@PYTHON=$(PYTHON) scripts/check_prereqs.sh
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing dependencies into $(VENV) (first time: ~2 min, ~1.2 GB)"
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade "pip>=24" 2>&1 | $(PIP_QUIET)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev,stack]' 2>&1 | $(PIP_QUIET)
	@touch $(STAMP)

venv: $(STAMP) $(DAGSTER_HOME)/dagster.yaml

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	@cp dagster.yaml $@

## The main job end to end on the embedded defaults: simulate, materialize everything, summarize.
demo: venv
	$(BIN)/python -m pacific_tools.demo

## The test suite (the same command CI runs); the last line counts passed/skipped/deselected.
## Three workers on two cores, one test file each at a time (module fixtures are built once): the
## slowest files mostly wait on daemons and services, so a third overlaps their waits. TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 3
test: venv
	$(BIN)/python -m pytest -m "not chaos" -n $(TEST_WORKERS) --dist loadfile --durations=20

## Dagster UI + daemon on 127.0.0.1 with the project-local DAGSTER_HOME and the demo data.
## The instance first learns what the lake already holds (make sync), so nothing is recomputed.
dev: venv
	@test -d "$(PACIFIC_DATA_ROOT)/landing" || $(BIN)/python -m pacific_tools.simulate --profile demo
	@$(BIN)/python -m pacific_tools.sync
	@echo "Dagster UI: http://127.0.0.1:$(DEV_PORT)"
	$(BIN)/dagster dev -h 127.0.0.1 -p $(DEV_PORT) -w workspace.yaml

## Report the lake's partitions to the instance (a new or restored DAGSTER_HOME); never recomputes.
sync: venv
	$(BIN)/python -m pacific_tools.sync

## The production-shaped stack on 127.0.0.1 (docs/deployment.md): Postgres instance, Kafka broker
## (Tansu), Spark master + 2 workers, code server, dagster-webserver and dagster-daemon as separate
## processes over $(PACIFIC_DATA_ROOT); state, logs and the Postgres folder in .stack/.
## `make stack-down` stops exactly what it started, by pid.
stack: venv
	@test -d "$(PACIFIC_DATA_ROOT)/landing" || $(BIN)/python -m pacific_tools.simulate --profile demo
	$(BIN)/python -m stack up

stack-down:
	@test -x $(BIN)/python || { echo "no .venv: nothing was started"; exit 0; }
	$(BIN)/python -m stack down

## Replay 35 simulated days through Dagster's daemons on an instance of its own (REPLAY_ARGS=...);
## writes data/reports/replay/summary.json and timeline.html.
replay: venv
	$(BIN)/python -m pacific_tools.replay $(REPLAY_ARGS)

simulate: venv
	$(BIN)/python -m pacific_tools.simulate --profile demo

## Benchmarks (outside make test): writes bench/results/*.json and *.md.
bench: venv
	$(BIN)/python -m bench.run

## The slowest smoke test, left out of `make test`: the Spark section of the quick benchmark
## (~10 min on 2 cores; see the chaos marker in pyproject.toml). The other fault tests (idempotent
## re-run of every asset, concurrent overlapping runs, SIGKILL mid-write) are in `make test`.
chaos: venv
	$(BIN)/python -m pytest -m chaos

## Mutation testing of the business-rule modules (docs/testing.md): mutmut per Python module, the
## project's own mutator for the session SQL; writes bench/results/mutation.md (kill rate per
## module, every survivor). Long (CPU bound, at low priority): MUTATE_ARGS="--only lifecycle".
mutate: venv
	nice -n 10 $(BIN)/python scripts/mutate.py $(MUTATE_ARGS)

## Rewrite the asset-declaration snapshot after an intended change (review the diff, then commit).
snapshot: venv
	PACIFIC_UPDATE_SNAPSHOTS=1 $(BIN)/python -m pytest -q pacific_assets_tests/test_definitions.py -k snapshot
	@git diff --stat -- pacific_assets_tests/snapshots/ || true

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf data .dagster_home bench/results/tmp
