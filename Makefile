# Two commands matter: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# torch goes in first and pinned: the CPU wheel lies on local disk, while a resolver left to
# itself would download a CUDA build of several gigabytes.
TORCH  := torch==2.13.0
STAMP  := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export OPENBLAS_NUM_THREADS := 1

.PHONY: install demo serve test lint typecheck bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/lodestar demo

serve: install
	$(BIN)/lodestar serve

test: install lint typecheck
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check api evaluation retrieval indexing data models ranking migrations tests bench

typecheck: install
	$(BIN)/mypy

bench: install
	$(BIN)/python -m bench.similar

clean:
	rm -rf $(VENV) .lodestar .pytest_cache .mypy_cache .ruff_cache
