# Two commands on a fresh machine:  `make discover`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORE   ?= .venv-core
# The CPU build of torch lies on disk here; an unpinned torch would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: venv discover test check smoke-core smoke-wheel bench mutate clean

$(BIN)/noether: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[test,video,lint]"
	touch $@

# the core alone (no [video] extra), as `pip install noether-networks` gives it
$(CORE)/bin/noether: pyproject.toml
	$(PYTHON) -m venv $(CORE)
	$(CORE)/bin/pip install -q --upgrade pip
	$(CORE)/bin/pip install -q "$(TORCH)"
	$(CORE)/bin/pip install -q -e .
	touch $@

venv: $(BIN)/noether

discover: venv
	$(BIN)/noether discover --system pendulum --depth 7 --out runs/pendulum

# lint, format and type checks, the core-only and wheel smoke tests, then the full suite with every extra
test: venv check smoke-core smoke-wheel
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

check: venv
	$(BIN)/ruff check noether tests benchmarks
	$(BIN)/ruff format --check noether tests benchmarks
	$(BIN)/mypy

smoke-wheel: venv
	bash .ci/wheel_smoke.sh $(BIN)/python "$(TORCH)"

smoke-core: $(CORE)/bin/noether
	bash .ci/smoke_core.sh $(CORE)

bench: venv
	$(BIN)/python -m benchmarks.run_all

# mutation testing of the decision modules (not part of `make test`: tens of minutes of CPU); writes
# benchmarks/results/mutation.md. One module: `$(BIN)/python -m benchmarks.mutation null`
mutate: venv
	$(BIN)/pip install -q -e ".[mutation]"
	$(BIN)/python -m benchmarks.mutation

clean:
	rm -rf $(VENV) $(CORE) runs .pytest_cache .mutation
