# Two commands on a fresh machine:  `make discover`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of torch lies on disk here; an unpinned torch would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: venv discover test check smoke suite bench mutate clean

# --no-compile: byte-compiling all of torch doubles its install time; Python compiles what it imports on first use
PIP    := pip install -q --no-compile

$(BIN)/noether: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/$(PIP) --upgrade pip
	$(BIN)/$(PIP) "$(TORCH)"
	$(BIN)/$(PIP) -e ".[test,video,lint]"
	touch $@

venv: $(BIN)/noether

discover: venv
	$(BIN)/noether discover --system pendulum --depth 7 --out runs/pendulum

# lint, format and type checks first (fail fast, ~40 s); then the full suite with every extra beside the smoke test
# of the built wheel (core only, clean venv): the smoke test waits on pip and disk much of its time, so it shares the
# two cores with the suite's workers instead of holding the suite back.
test: venv check
	$(MAKE) --no-print-directory -j2 --output-sync=target smoke suite

suite: venv
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

check: venv
	$(BIN)/ruff check noether tests benchmarks
	$(BIN)/ruff format --check noether tests benchmarks
	$(BIN)/mypy

smoke: venv
	bash .ci/smoke.sh $(BIN)/python "$(TORCH)"

bench: venv
	$(BIN)/python -m benchmarks.run_all

# mutation testing of the decision modules (not part of `make test`: tens of minutes of CPU); writes
# benchmarks/results/mutation.md. One module: `$(BIN)/python -m benchmarks.mutation null`
mutate: venv
	$(BIN)/$(PIP) -e ".[mutation]"
	$(BIN)/python -m benchmarks.mutation

clean:
	rm -rf $(VENV) runs .pytest_cache .mutation
