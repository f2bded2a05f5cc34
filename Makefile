# Two commands on a fresh machine:  `make discover`  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of torch lies on disk here; an unpinned torch would pull a multi-GB CUDA build.
TORCH  ?= torch==2.13.0

.PHONY: venv discover test bench clean

$(BIN)/noether: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q "$(TORCH)"
	$(BIN)/pip install -q -e ".[test,video]"
	touch $@

venv: $(BIN)/noether

discover: venv
	$(BIN)/noether discover --system pendulum --depth 7 --out runs/pendulum

test: venv
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

bench: venv
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) runs .pytest_cache
