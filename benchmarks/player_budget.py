"""How fast the drawing budgets refuse: a row per case, a benchmark, not a timed test.

``python benchmarks/player_budget.py [--repeat 3]``. Each row times one call in this process
(graph construction not included) and prints the median and range of ``--repeat`` runs, with
what happened: the error class and the check that refused, or the page's size.

refuse 250,000 nodes
    ``draw`` and ``draw_backward`` of a 125,000-step chain ``tanh(0.999 · v)`` (250,001 values,
    500,001 drawn nodes, no scope) with the default ``max_nodes=500``: one walk counts them
    before anything is built.
refuse 250,000 nodes in scopes
    The same chain with each step in its own ``autograd.scope``: the count knows each scope
    folds to at least one box (125,000 of them), so this too is refused before building.
walk of ~2,500 nodes
    ``draw_backward`` of ``y = y * 0.5 + x`` over 500 inputs (2,496 drawn nodes): refused by
    ``max_nodes=500`` before building, and, with ``max_nodes=None``, its frames made and its page
    refused at ``PICTURE_MAX_NODES`` before the layout.
walk of ~1,500 nodes
    The same chain over 300 inputs (1,496 drawn nodes) saved as a player page: the work the
    budgets let through, with the page's bytes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from typing import Callable

from valuegrad import autograd
from valuegrad.autograd import Value, draw, draw_backward


def chain(steps: int, scoped: bool = False) -> Value:
    v = Value(0.5, label="x")
    for step in range(steps):
        if scoped:
            with autograd.scope(f"step {step}"):
                v = (v * 0.999).tanh()
        else:
            v = (v * 0.999).tanh()
    return v


def sums(inputs: int) -> Value:
    xs = [Value(float(i % 7) / 7) for i in range(inputs)]
    y = xs[0]
    for x in xs[1:]:
        y = y * 0.5 + x
    return y


def run(call: Callable[[], object]) -> str:
    try:
        result = call()
    except ValueError as error:
        return f"{type(error).__name__}: {str(error)[:70]}..."
    return str(result)


def row(name: str, call: Callable[[], object], repeat: int) -> None:
    times, outcome = [], ""
    for _ in range(repeat):
        start = time.perf_counter()
        outcome = run(call)
        times.append(time.perf_counter() - start)
    spread = f"{min(times):.2f}-{max(times):.2f}"
    print(f"{name:<46} {statistics.median(times):7.2f} s  ({spread})  {outcome}", flush=True)


def save_page(root: Value, **options: object) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "walk.html")
        draw_backward(root, **options).save(path)  # type: ignore[arg-type]
        return f"page of {os.path.getsize(path):,} bytes"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    repeat = parser.parse_args().repeat
    print(f"python {sys.version.split()[0]}; median of {repeat} (min-max)")
    big, scoped = chain(125_000), chain(125_000, scoped=True)
    row("refuse 250,000 nodes: draw", lambda: draw(big), repeat)
    row("refuse 250,000 nodes: draw_backward", lambda: draw_backward(big), repeat)
    row("refuse 250,000 nodes in scopes: draw_backward", lambda: draw_backward(scoped), repeat)
    walk = sums(500)
    row("walk of ~2,500 nodes: max_nodes=500", lambda: draw_backward(walk), repeat)
    row("walk of ~2,500 nodes: max_nodes=None, save", lambda: save_page(walk, max_nodes=None), repeat)
    row("walk of ~1,500 nodes: max_nodes=None, save", lambda: save_page(sums(300), max_nodes=None), repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
