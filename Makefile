# Benchmarks and tests. `make bench` compares valuegrad with micrograd 0.1.0 (a few minutes; start-up
# cost included);
# `make bench-quick` is a one-minute smoke run; `make profile` profiles valuegrad's moons step.
PYTHON ?= .venv/bin/python

.PHONY: bench bench-quick bench-compiled profile test student-notebooks

bench:
	$(PYTHON) benchmarks/compare.py
	$(PYTHON) benchmarks/startup.py

bench-quick:
	$(PYTHON) benchmarks/compare.py --quick

bench-compiled:
	$(PYTHON) benchmarks/compare_compiled.py

profile:
	$(PYTHON) benchmarks/profile_moons.py

test:
	$(PYTHON) -m pytest

# The notebooks without their solution cells, for students: build/student-notebooks/.
student-notebooks:
	$(PYTHON) tools/student_notebooks.py
