# Benchmarks and tests. `make bench` compares valuegrad with micrograd 0.1.0 (a few minutes; start-up
# cost included);
# `make bench-quick` is a one-minute smoke run; `make profile` profiles valuegrad's moons step;
# `make bench-budget` times how fast drawings over their budgets are refused.
# `make docs` builds the documentation site into docs/_build/html (needs the docs extra, node and npm).
PYTHON ?= .venv/bin/python
WHEELS = docs/_build/wheels

.PHONY: bench bench-budget bench-quick bench-compiled docs profile test student-notebooks

bench:
	$(PYTHON) benchmarks/compare.py
	$(PYTHON) benchmarks/startup.py

bench-budget:
	$(PYTHON) benchmarks/player_budget.py

bench-quick:
	$(PYTHON) benchmarks/compare.py --quick

bench-compiled:
	$(PYTHON) benchmarks/compare_compiled.py

profile:
	$(PYTHON) benchmarks/profile_moons.py

test:
	$(PYTHON) -m pytest

# MathJax, viz.js and Pyodide pinned by docs/package-lock.json; the playground's wheels: valuegrad's
# own (built here) and graphviz + tqdm (downloaded, checked by hash); then Sphinx, which executes the
# notebooks through jupyter-cache (a notebook that has not changed is not run again).
docs:
	npm ci --prefix docs --no-audit --no-fund
	rm -f $(WHEELS)/valuegrad-*.whl
	$(PYTHON) -m build --wheel --outdir $(WHEELS) .
	$(PYTHON) -m pip download --quiet --no-deps --only-binary=:all: --require-hashes -r docs/playground-wheels.txt -d $(WHEELS)
	$(PYTHON) -m sphinx -b html -q docs docs/_build/html

# The notebooks without their solution cells, for students: build/student-notebooks/.
student-notebooks:
	$(PYTHON) tools/student_notebooks.py
