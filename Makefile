# Two commands matter: `make demo` and `make test`. Everything installs into .venv.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
# torch goes in first and pinned: the CPU wheel lies on local disk, while a resolver left to
# itself would download a CUDA build of several gigabytes.
TORCH  := torch==2.13.0
# Every other package, direct and transitive (and the build backend), at an exact version:
# `make install` installs exactly these; `make lock` re-resolves them on purpose.
LOCK   := requirements.lock
PIP    := pip==26.3
STAMP  := $(VENV)/.installed

export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export OPENBLAS_NUM_THREADS := 1

.PHONY: install lock demo serve test lint typecheck bench clean

install: $(STAMP)

$(STAMP): pyproject.toml $(LOCK)
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q $(PIP)
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -r $(LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	touch $(STAMP)

# Resolve pyproject.toml's dependencies afresh in a scratch venv and write every version
# that resolved into the lock file. Commit the result with the change that needed it.
lock:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH"; exit 1; }
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/pip install -q $(PIP)
	.lock-venv/bin/pip install -q $(TORCH)
	.lock-venv/bin/pip install -q setuptools
	.lock-venv/bin/pip install -q -e '.[dev]'
	{ echo "# Every dependency of Lodestar at an exact version, written by \`make lock\`."; \
	  echo "# \`make install\` installs exactly these (torch is pinned in the Makefile)."; \
	  .lock-venv/bin/pip freeze --all --exclude-editable | grep -v -i -E '^(torch|pip)=='; \
	} > $(LOCK)
	rm -rf .lock-venv
	@echo "wrote $(LOCK): $$(grep -c '==' $(LOCK)) packages"

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
	rm -rf $(VENV) .lock-venv .lodestar .pytest_cache .mypy_cache .ruff_cache
