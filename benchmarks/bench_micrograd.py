"""The micrograd 0.1.0 side of each workload, run as its own process by ``compare.py``.

Usage: ``python benchmarks/bench_micrograd.py WORKLOAD [--n N] [--steps K]``; prints one JSON line.

Everything here is micrograd as its users write it: ``micrograd.nn.MLP`` and the loss code of
micrograd's ``demo.ipynb`` for moons, Python's ``sum()`` for the wide sum. micrograd 0.1.0 has no
``tanh``, so the chain workload adds one exactly as Karpathy's micrograd lecture does -- a
closure-based op, ``Value.tanh`` below -- rather than changing the workload.
"""

from __future__ import annotations

import argparse
import gc
import math
import random
import sys
import time
import tracemalloc
from typing import Any

from _common import (
    CHAIN_SCALE,
    CHAIN_SHIFT,
    CHAIN_START,
    MOONS_ALPHA,
    MOONS_HIDDEN,
    SEED,
    emit,
    learning_rate,
    moons,
    time_backward,
    with_deep_stack,
)
from micrograd.engine import Value
from micrograd.nn import MLP


def _tanh(self: Value) -> Value:
    """tanh as in the micrograd lecture (nn-zero-to-hero, part 1): a closure-based op."""
    x = self.data
    t = (math.exp(2 * x) - 1) / (math.exp(2 * x) + 1)
    out = Value(t, (self,), "tanh")

    def _backward() -> None:
        self.grad += (1 - t**2) * out.grad

    out._backward = _backward
    return out


Value.tanh = _tanh  # type: ignore[attr-defined]


def chain(n: int) -> Value:
    x = Value(CHAIN_START)
    for _ in range(n):
        x = (x * CHAIN_SCALE + CHAIN_SHIFT).tanh()  # type: ignore[attr-defined]
    return x


def count_nodes(root: Value) -> int:
    """Nodes reachable from ``root`` (iteratively: micrograd's own sort would recurse)."""
    seen = {id(root)}
    stack = [root]
    while stack:
        for child in stack.pop()._prev:
            if id(child) not in seen:
                seen.add(id(child))
                stack.append(child)
    return len(seen)


# ----------------------------------------------------------------- workloads


def run_moons(steps: int) -> dict[str, Any]:
    """micrograd's demo.ipynb training loop, verbatim apart from timers."""
    xs, ys = moons()
    random.seed(SEED)
    model = MLP(2, MOONS_HIDDEN)

    def loss() -> tuple[Value, float]:
        inputs = [list(map(Value, xrow)) for xrow in xs]
        scores = list(map(model, inputs))
        losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = MOONS_ALPHA * sum(p * p for p in model.parameters())
        total_loss = data_loss + reg_loss
        accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(ys, scores)]
        return total_loss, sum(accuracy) / len(accuracy)

    forward = backward = update = 0.0
    start = time.perf_counter()
    for k in range(steps):
        t0 = time.perf_counter()
        total_loss, acc = loss()
        t1 = time.perf_counter()
        model.zero_grad()
        total_loss.backward()
        t2 = time.perf_counter()
        for p in model.parameters():
            p.data -= learning_rate(k) * p.grad
        t3 = time.perf_counter()
        forward += t1 - t0
        backward += t2 - t1
        update += t3 - t2
    total = time.perf_counter() - start
    return {
        "step_s": total / steps,
        "forward_s": forward / steps,
        "backward_s": backward / steps,
        "update_s": update / steps,
        "loss": total_loss.data,
        "accuracy": acc,
    }


def run_chain(n: int) -> dict[str, Any]:
    """n chain steps forward, then backward; micrograd needs a deep stack to sort them."""

    def work() -> tuple[float, float, float]:
        t0 = time.perf_counter()
        y = chain(n)
        t1 = time.perf_counter()
        y.backward()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1, y.data

    fw, bw, out = with_deep_stack(work)
    return {"time_s": fw + bw, "forward_s": fw, "backward_s": bw, "out": out}


def run_widesum(n: int) -> dict[str, Any]:
    """Python ``sum()`` of n leaves (a chain of n adds in micrograd), forward + backward."""
    rng = random.Random(SEED)
    leaves = [Value(rng.uniform(-1.0, 1.0)) for _ in range(n)]

    def work() -> tuple[float, float]:
        t0 = time.perf_counter()
        s = sum(leaves)
        s.backward()  # type: ignore[union-attr]
        return time.perf_counter() - t0, leaves[0].grad

    elapsed, grad = with_deep_stack(work)
    return {"time_s": elapsed, "grad0": grad}


def run_backward(n: int) -> dict[str, Any]:
    """backward() alone on a product tree of n leaves: cost per node (see ``_common.time_backward``)."""
    return time_backward(Value, n)


def run_memory(n: int) -> dict[str, Any]:
    """tracemalloc: bytes the forward graph of an n-step chain keeps alive (graph built, before backward).

    Backward is not traced here: under tracemalloc micrograd's recursive sort of a deep graph
    becomes quadratic (minutes for 20k steps), so only the retained graph is compared.
    """
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    y = chain(n)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    nodes = count_nodes(y)
    return {
        "retained_per_step": (current - base) / n,
        "forward_peak_per_step": (peak - base) / n,
        "nodes_per_step": nodes / n,
        "retained_per_node": (current - base) / nodes,
    }


def run_deep(n: int) -> dict[str, Any]:
    """An n-step chain forward + backward at Python's default recursion limit (no help given)."""
    t0 = time.perf_counter()
    try:
        y = chain(n)
        y.backward()
    except RecursionError as exc:
        return {"ok": False, "error": f"RecursionError: {exc}", "limit": sys.getrecursionlimit()}
    return {"ok": True, "time_s": time.perf_counter() - t0, "limit": sys.getrecursionlimit()}


WORKLOADS = {
    "moons": run_moons,
    "backward": run_backward,
    "chain": run_chain,
    "widesum": run_widesum,
    "memory": run_memory,
    "deep": run_deep,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("--n", type=int, default=50_000, help="chain steps / sum terms")
    parser.add_argument("--steps", type=int, default=15, help="moons training steps")
    args = parser.parse_args()
    size = args.steps if args.workload == "moons" else args.n
    result = WORKLOADS[args.workload](size)
    emit({"engine": "micrograd", "workload": args.workload, "size": size, **result})


if __name__ == "__main__":
    main()
