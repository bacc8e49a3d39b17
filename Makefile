# Benchmarks and tests. `make bench` compares valuegrad with micrograd 0.1.0 (a few minutes; start-up
# cost included);
# `make bench-quick` is a one-minute smoke run; `make profile` profiles valuegrad's moons step.
PYTHON ?= .venv/bin/python

.PHONY: bench bench-quick profile test

bench:
	$(PYTHON) benchmarks/compare.py
	$(PYTHON) benchmarks/startup.py

bench-quick:
	$(PYTHON) benchmarks/compare.py --quick

profile:
	$(PYTHON) benchmarks/profile_moons.py

test:
	$(PYTHON) -m pytest
