# AdForge: one command for the demo, one for the tests.
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test check bench clean

demo:            ## install the core into .venv and run the demo on the embedded defaults
	bash scripts/install.sh core
	$(BIN)/adforge demo

test:            ## install core + ml + dev extras (and system fonts), then run every test
	bash scripts/install.sh test
	$(BIN)/python -m pytest -q

check:           ## lint and type-check the core
	$(BIN)/ruff check adforge adforge_app models tasks flows deployments benchmarks tests
	$(BIN)/mypy adforge adforge_app

bench:           ## the measurement harnesses (numbers, not asserts)
	$(BIN)/python benchmarks/imaging.py
	$(BIN)/python benchmarks/pipeline.py

clean:
	rm -rf .adforge outputs test-output
