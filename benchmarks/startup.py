"""Start-up cost, valuegrad vs micrograd 0.1.0: import time and a whole short training script.

``python benchmarks/startup.py`` (part of ``make bench``). Each measurement is a fresh process,
alternated A B A B for ``--pairs`` pairs; the table shows medians and ranges (min–max).

import
    ``python -X importtime -c "import valuegrad.autograd, valuegrad.nn"``: the cumulative
    time of the top-level ``valuegrad*`` entries as ``-X importtime`` reports them (target: 25 ms
    or less), against ``import micrograd.engine, micrograd.nn``.
whole process
    Wall time of a fresh ``python`` process that imports the library, builds the moons MLP and
    runs 5 training steps (``bench_*.py moons --steps 5``): what a student's short script costs,
    start-up included, as a ratio micrograd / valuegrad.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
IMPORTS = {"valuegrad": "import valuegrad.autograd, valuegrad.nn", "micrograd": "import micrograd.engine, micrograd.nn"}
SCRIPTS = {"valuegrad": os.path.join(HERE, "bench_valuegrad.py"), "micrograd": os.path.join(HERE, "bench_micrograd.py")}


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))}


def import_ms(engine: str) -> float:
    """Cumulative import time of the engine's packages, in milliseconds, from ``-X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", IMPORTS[engine]],
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
    )
    total = 0
    for line in done.stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$", line)
        # top-level entries (one space of indent) of the engine's own packages; their imports nest below
        if match and match.group(2) == " " and match.group(3).split(".")[0] == engine:
            total += int(match.group(1))
    return total / 1000


def whole_process_s(engine: str, steps: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, SCRIPTS[engine], "moons", "--steps", str(steps)], capture_output=True, env=_env(), check=True
    )
    return time.perf_counter() - start


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):.3g} ({min(values):.3g}–{max(values):.3g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=7, help="A/B pairs (default 7)")
    parser.add_argument("--steps", type=int, default=5, help="training steps in the whole-process run")
    args = parser.parse_args()
    imports: dict[str, list[float]] = {"valuegrad": [], "micrograd": []}
    walls: dict[str, list[float]] = {"valuegrad": [], "micrograd": []}
    for _ in range(args.pairs):
        for engine in ("valuegrad", "micrograd"):
            imports[engine].append(import_ms(engine))
            walls[engine].append(whole_process_s(engine, args.steps))
    ratios = [m / v for v, m in zip(walls["valuegrad"], walls["micrograd"])]
    print(f"| measure ({args.pairs} alternated pairs) | valuegrad | micrograd | ratio, median (min–max) |")
    print("|---|---|---|---|")
    print(f"| import time, ms (target ≤ 25) | {summary(imports['valuegrad'])} | {summary(imports['micrograd'])} | — |")
    print(
        f"| whole process: import + build + {args.steps} moons steps, s | {summary(walls['valuegrad'])} | "
        f"{summary(walls['micrograd'])} | {summary(ratios)}x faster |"
    )


if __name__ == "__main__":
    main()
