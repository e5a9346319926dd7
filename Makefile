# geodl — the two commands of the README:
#   make demo   set everything up and run geodl's main job on bundled data
#   make test   set everything up and run the whole test suite (docs build included)
# Both create or reuse the virtual environment in .venv.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The CPU build of torch: asking for this exact version first keeps pip from pulling
# a multi-GB CUDA build. Users elsewhere may use any torch>=2.4 (see pyproject.toml).
TORCH_PIN ?= torch==2.13.0
PYTEST_WORKERS ?= 2

.PHONY: setup demo test lint docs clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_PIN)"
	$(BIN)/python -m pip install -q -e ".[test,docs]"
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/geodl demo

# pytest exits 5 when it collected no test: that is a failure, not a pass.
test: setup
	@$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): failing." >&2; exit 1; fi; \
	exit $$rc

lint: setup
	$(BIN)/ruff check geodl tests
	$(BIN)/ruff format --check geodl tests

docs: setup
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) site .pytest_cache .hypothesis
