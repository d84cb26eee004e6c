# charrnn: `make demo` trains and samples a model end to end; `make test` runs the test suite.
# Both create .venv and install everything into it on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The CPU wheel of torch lies on this disk; pip finds it there instead of downloading CUDA builds.
FIND_LINKS := $(if $(wildcard /opt/wheels),--find-links /opt/wheels)
DEMO_TIME ?= 2m

.PHONY: install demo test test-fast lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check $(FIND_LINKS) "torch==2.13.0"
	$(BIN)/pip install --quiet --disable-pip-version-check $(FIND_LINKS) -e ".[dev]"
	touch $(STAMP)

demo: install
	$(BIN)/charrnn corpus build pystdlib --out data/pystdlib.txt
	$(BIN)/charrnn train data/pystdlib.txt --out runs/demo --time $(DEMO_TIME) --overwrite
	@echo "--- a sample from runs/demo (temperature 0.8):"
	@$(BIN)/charrnn sample runs/demo --prime "def " --length 600 --seed 0
	@echo
	@echo "--- go further:"
	@echo "  $(BIN)/charrnn train YOUR_FILE.txt --time 10m        # train on your own text"
	@echo "  $(BIN)/charrnn sample runs/YOUR_FILE --temperature 0.6 # sample from it"
	@echo "  $(BIN)/charrnn inspect runs/demo data/pystdlib.txt --max-chars 5000 --html look.html  # look inside: open look.html"

test: install
	$(BIN)/python -m pytest

test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check charrnn corpora tests benchmarks docs
	$(BIN)/ruff format --check charrnn corpora tests benchmarks docs

format: install
	$(BIN)/ruff format charrnn corpora tests benchmarks docs
	$(BIN)/ruff check --fix charrnn corpora tests benchmarks docs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
