"""Shared pieces of the per-engine workload scripts: the moons data, the chain constants, output.

Both engines train on exactly the same 100 points and start from the same weights
(``random.seed`` before building the model, uniform(-1, 1) as micrograd's ``Neuron`` does),
so the per-step work is the same computation on both sides.
"""

from __future__ import annotations

import json
import math
import random
import sys
import threading
import time
from typing import Any, Callable, TypeVar

T = TypeVar("T")

# The chain workload: x -> tanh(x * CHAIN_SCALE + CHAIN_SHIFT), repeated.
CHAIN_START = 0.3
CHAIN_SCALE = 1.0001
CHAIN_SHIFT = 0.5

# The moons workload: micrograd's demo.ipynb setup.
MOONS_POINTS = 100
MOONS_HIDDEN = [16, 16, 1]
MOONS_ALPHA = 1e-4  # L2 strength in the demo's loss
SEED = 1337


def moons(n: int = MOONS_POINTS, noise: float = 0.1, seed: int = SEED) -> tuple[list[list[float]], list[float]]:
    """``sklearn.datasets.make_moons(n, noise=0.1)`` re-implemented without NumPy; labels are ±1.

    Half the points on the upper arc (label -1), half on the lower arc shifted right
    (label +1), each coordinate jittered by Gaussian noise -- the demo's data, with
    ``y = y * 2 - 1`` already applied.
    """
    rng = random.Random(seed)
    n_out = n // 2
    n_in = n - n_out
    xs: list[list[float]] = []
    ys: list[float] = []
    for i in range(n_out):
        t = math.pi * i / (n_out - 1)
        xs.append([math.cos(t), math.sin(t)])
        ys.append(-1.0)
    for i in range(n_in):
        t = math.pi * i / (n_in - 1)
        xs.append([1.0 - math.cos(t), 0.5 - math.sin(t)])
        ys.append(1.0)
    for row in xs:
        row[0] += rng.gauss(0.0, noise)
        row[1] += rng.gauss(0.0, noise)
    return xs, ys


def learning_rate(step: int, total: int = 100) -> float:
    """The demo's schedule: 1.0 decaying linearly to 0.1 over 100 steps."""
    return 1.0 - 0.9 * step / total


def emit(result: dict[str, Any]) -> None:
    """Print one JSON object on stdout: the only thing the runner reads."""
    print(json.dumps(result), flush=True)


def with_deep_stack(fn: Callable[[], T], recursion_limit: int = 2_000_000, stack_bytes: int = 1 << 30) -> T:
    """Run ``fn`` in a thread with a big C stack and a raised recursion limit.

    micrograd's ``backward`` sorts the graph recursively, so a graph deeper than about
    1,000 nodes raises ``RecursionError`` at Python's default limit. For the chain and
    wide-sum workloads we give micrograd what its users would have to give it: this is
    measured speed, not survival (survival is the ``deep`` workload, at the default limit).
    """
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            box["error"] = exc

    old_limit = sys.getrecursionlimit()
    old_stack = threading.stack_size(stack_bytes)
    sys.setrecursionlimit(recursion_limit)
    try:
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]


def product_tree(leaves: list[Any]) -> Any:
    """Pairwise products of ``leaves`` (a power of two) down to one: n - 1 binary nodes, depth log2 n."""
    level = leaves
    while len(level) > 1:
        level = [level[i] * level[i + 1] for i in range(0, len(level), 2)]
    return level[0]


def time_backward(value_class: Callable[[float], Any], n: int) -> dict[str, Any]:
    """backward() alone on a product tree of n leaves (n - 1 binary nodes) made of ``value_class``: cost per node."""
    rng = random.Random(SEED)
    y = product_tree([value_class(rng.uniform(0.99, 1.01)) for _ in range(n)])
    t0 = time.perf_counter()
    y.backward()
    elapsed = time.perf_counter() - t0
    return {"time_s": elapsed, "per_node_s": elapsed / (2 * n - 1)}
