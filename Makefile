# Two commands on a fresh machine:  `make discover`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
CORE   ?= .venv-core
# The CPU build of torch lies on disk here; an unpinned torch would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: venv discover test smoke-core bench clean

$(BIN)/noether: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[test,video]"
	touch $@

# the core alone (no [video] extra), as `pip install noether` gives it
$(CORE)/bin/noether: pyproject.toml
	$(PYTHON) -m venv $(CORE)
	$(CORE)/bin/pip install -q --upgrade pip
	$(CORE)/bin/pip install -q "$(TORCH)"
	$(CORE)/bin/pip install -q -e .
	touch $@

venv: $(BIN)/noether

discover: venv
	$(BIN)/noether discover --system pendulum --depth 7 --out runs/pendulum

# the core-only smoke test, then the full suite with every extra
test: venv smoke-core
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

smoke-core: $(CORE)/bin/noether
	bash .ci/smoke_core.sh $(CORE)

bench: venv
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) $(CORE) runs .pytest_cache
