"""The valuegrad side of each workload, run as its own process by ``compare.py``.

Usage: ``python benchmarks/bench_valuegrad.py WORKLOAD [--n N] [--steps K] [--impl auto|nn|local]``;
prints one JSON line.

valuegrad as its users write it: for moons, ``nn.MLP`` + ``nn.losses.hinge`` + ``nn.optim.SGD``
when the ``nn`` package provides them (``--impl nn``), otherwise (``--impl local``) a ten-line MLP
built on ``autograd.dot`` and ``relu`` with the demo's loss written out; ``--impl auto`` (the
default) picks ``nn`` if it imports. The chain and the deep chain run at Python's default
recursion limit, in the main thread. The wide sum uses ``autograd.sum``.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import time
import tracemalloc
from typing import Any, Callable

# Benchmark the working tree: put its src/ (the valuegrad package) ahead of whatever the venv installed.
# VALUEGRAD_SRC, if set, is a directory searched first: another tree's src/ holding a ``valuegrad``
# package, to try out an engine variant (``compare.py --valuegrad-src DIR``).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src"))
if os.environ.get("VALUEGRAD_SRC"):
    sys.path.insert(0, os.environ["VALUEGRAD_SRC"])

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
)

from valuegrad import autograd
from valuegrad.autograd import Value


def chain(n: int) -> Value:
    x = Value(CHAIN_START)
    for _ in range(n):
        x = (x * CHAIN_SCALE + CHAIN_SHIFT).tanh()
    return x


# ------------------------------------------------------------------- moons


class LocalNeuron:
    """w·x + b as one ``autograd.dot`` node, then relu: the fallback before ``nn`` exists."""

    def __init__(self, nin: int, nonlin: bool) -> None:
        self.w = [Value(random.uniform(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def __call__(self, x: list[Any]) -> Value:
        act = autograd.dot(self.w, x, self.b)
        return act.relu() if self.nonlin else act

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]


class LocalMLP:
    def __init__(self, nin: int, nouts: list[int]) -> None:
        sizes = [nin, *nouts]
        self.layers = [
            [LocalNeuron(sizes[i], nonlin=i != len(nouts) - 1) for _ in range(sizes[i + 1])] for i in range(len(nouts))
        ]

    def __call__(self, x: list[Any]) -> Any:
        for layer in self.layers:
            x = [neuron(x) for neuron in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for neuron in layer for p in neuron.parameters()]


Step = Callable[[int], tuple[float, float, float, float]]


def local_moons_step(xs: list[list[float]], ys: list[float]) -> Step:
    """The demo's loss and SGD, written against ``autograd`` directly (inputs stay plain floats)."""
    random.seed(SEED)
    model = LocalMLP(2, MOONS_HIDDEN)
    params = model.parameters()

    def step(k: int) -> tuple[float, float, float, float]:
        t0 = time.perf_counter()
        scores = [model(x) for x in xs]
        losses = [(1.0 - yi * si).relu() for yi, si in zip(ys, scores)]
        data_loss = autograd.sum(losses) * (1.0 / len(losses))
        total_loss = data_loss + MOONS_ALPHA * autograd.dot(params, params)
        t1 = time.perf_counter()
        for p in params:
            p.grad = 0.0
        total_loss.backward()
        t2 = time.perf_counter()
        lr = learning_rate(k)
        for p in params:
            p.data -= lr * p.grad
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, total_loss.data

    return step


def nn_moons_step(xs: list[list[float]], ys: list[float]) -> Step:
    """The same step with the ``nn`` package: ``nn.MLP``, ``nn.losses.hinge`` + ``l2``, ``nn.optim.SGD``.

    ``init="uniform"`` with the same seed draws micrograd's U(-1, 1) weights in micrograd's
    order, so both engines train the very same network.
    """
    import valuegrad.nn as nn

    model = nn.MLP(2, MOONS_HIDDEN, init="uniform", rng=random.Random(SEED))
    params = model.parameters()
    optimizer = nn.optim.SGD(params, lr=1.0, schedule=nn.optim.linear_schedule(1.0, 0.1, 100))

    def step(k: int) -> tuple[float, float, float, float]:
        t0 = time.perf_counter()
        scores = [model(x) for x in xs]
        total_loss = nn.losses.hinge(scores, ys) + nn.losses.l2(params, MOONS_ALPHA)
        t1 = time.perf_counter()
        optimizer.zero_grad()
        total_loss.backward()
        t2 = time.perf_counter()
        optimizer.step()
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, total_loss.data

    return step


def compiled_moons_step(xs: list[list[float]], ys: list[float]) -> Step:
    """The ``nn`` step replayed from compiled code: what ``fit(..., compile=True)`` runs.

    Forward, loss, backward, the parameters' ``.grad`` and the optimizer's update all happen
    in the one call, so the whole step is reported as forward.
    """
    import valuegrad.nn as nn
    from valuegrad.nn.compiled import CompiledGradients
    from valuegrad.nn.train import Training

    model = nn.MLP(2, MOONS_HIDDEN, init="uniform", rng=random.Random(SEED))
    params = model.parameters()
    optimizer = nn.optim.SGD(params, lr=1.0, schedule=nn.optim.linear_schedule(1.0, 0.1, 100))
    training = Training(model, nn.losses.hinge, None, params, MOONS_ALPHA, optimizer)
    gradients = CompiledGradients()

    def step(k: int) -> tuple[float, float, float, float]:
        t0 = time.perf_counter()
        loss, _, _ = training.step(gradients, xs, ys, k, False)
        return time.perf_counter() - t0, 0.0, 0.0, loss

    return step


def nn_available() -> bool:
    try:
        import valuegrad.nn as nn
    except ImportError:
        return False
    return all(hasattr(nn, name) for name in ("MLP", "losses", "optim"))


def run_moons(steps: int, impl: str) -> dict[str, Any]:
    if impl == "auto":
        impl = "nn" if nn_available() else "local"
    xs, ys = moons()
    makers = {"nn": nn_moons_step, "local": local_moons_step, "compiled": compiled_moons_step}
    step = makers[impl](xs, ys)
    first_s = None
    if impl == "compiled":  # the first step traces and compiles: timed apart, then the steady steps
        t0 = time.perf_counter()
        step(0)
        first_s = time.perf_counter() - t0
    forward = backward = update = 0.0
    loss = float("nan")
    start = time.perf_counter()
    for k in range(steps):
        fw, bw, up, loss = step(k)
        forward += fw
        backward += bw
        update += up
    total = time.perf_counter() - start
    return {
        "impl": impl,
        "step_s": total / steps,
        "forward_s": forward / steps,
        "backward_s": backward / steps,
        "update_s": update / steps,
        "loss": loss,
        "first_s": first_s,
    }


def run_fit(compiled: bool, steps: int, loss: str = "hinge") -> dict[str, Any]:
    """The moons step as a notebook trains: ``fit`` for 1 step, then ``steps``, then ``steps`` again.

    The last two calls are timed (``step_s`` is their time over 2 x ``steps``); the first call,
    which traces and compiles when ``compiled``, is reported as ``first_s``. Each call pays what
    a user's ``fit`` pays (the history, the accuracy, the kept compiled step's lookup). ``loss``:
    micrograd's demo uses ``hinge``, whose gradient is zero beyond the margin (the compiled step
    skips those examples); ``mse``'s never is.
    """
    import valuegrad.nn as nn

    xs, ys = moons()
    model = nn.MLP(2, MOONS_HIDDEN, init="uniform", rng=random.Random(SEED))
    optimizer = nn.optim.SGD(model.parameters(), lr=1.0, schedule=nn.optim.linear_schedule(1.0, 0.1, 100))

    def train(n: int) -> float:
        t0 = time.perf_counter()
        nn.fit(model, xs, ys, loss=loss, l2=MOONS_ALPHA, optimizer=optimizer, steps=n, progress=False, compile=compiled)
        return time.perf_counter() - t0

    first = train(1)
    timed = train(steps) + train(steps)
    return {"impl": "compiled" if compiled else "eager", "loss": loss, "first_s": first, "step_s": timed / (2 * steps)}


def run_first_call(n: int) -> dict[str, Any]:
    """The first call of a jitted ``n``-op chain (trace + codegen + compile), and the process's peak memory.

    Wall time and CPU time: on a shared machine the wall time of a long call includes waits for the
    CPU, which grow with the call's length, so the CPU time is the fairer measure of growth.
    """
    import resource

    steps = max(1, n // 3)

    def f(x: Value) -> Value:
        for _ in range(steps):
            x = (x * CHAIN_SCALE + CHAIN_SHIFT).tanh()
        return x

    gc.collect()
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0, c0 = time.perf_counter(), time.process_time()
    autograd.jit(f)(CHAIN_START)
    first, first_cpu = time.perf_counter() - t0, time.process_time() - c0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "ops": 3 * steps,
        "first_s": first,
        "first_cpu_s": first_cpu,
        "peak_mb": peak_kb / 1024,
        "added_mb": (peak_kb - before_kb) / 1024,
    }


# ------------------------------------------------------------- the others


def run_chain(n: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    y = chain(n)
    t1 = time.perf_counter()
    y.backward()
    t2 = time.perf_counter()
    return {"time_s": t2 - t0, "forward_s": t1 - t0, "backward_s": t2 - t1, "out": y.data}


def run_widesum(n: int) -> dict[str, Any]:
    rng = random.Random(SEED)
    leaves = [Value(rng.uniform(-1.0, 1.0)) for _ in range(n)]
    t0 = time.perf_counter()
    s = autograd.sum(leaves)
    s.backward()
    return {"time_s": time.perf_counter() - t0, "grad0": leaves[0].grad}


def run_backward(n: int) -> dict[str, Any]:
    """backward() alone on a product tree of n leaves: cost per node (see ``_common.time_backward``)."""
    return time_backward(Value, n)


def run_replay(n: int, repeats: int) -> dict[str, Any]:
    """A chain of ``n`` ops compiled once, then forward + backward replayed ``repeats`` times."""
    steps = max(1, n // 3)  # three ops a step: mul, add, tanh

    def f(x: Value) -> Value:
        for _ in range(steps):
            x = (x * CHAIN_SCALE + CHAIN_SHIFT).tanh()
        return x

    t0 = time.perf_counter()
    compiled = autograd.jit(f)
    compiled(CHAIN_START)
    t1 = time.perf_counter()
    for k in range(repeats):
        value, _slope = compiled(CHAIN_START + k * 1e-6)
    t2 = time.perf_counter()
    eager_repeats = max(1, repeats // 50)
    for k in range(eager_repeats):
        x = Value(CHAIN_START + k * 1e-6)
        y = f(x)
        y.backward()
    t3 = time.perf_counter()
    return {
        "ops": 3 * steps,
        "first_s": t1 - t0,
        "replay_s": (t2 - t1) / repeats,
        "eager_s": (t3 - t2) / eager_repeats,
        "time_s": (t2 - t1) / repeats,
        "out": value,
    }


def run_memory(n: int) -> dict[str, Any]:
    """tracemalloc: bytes the forward graph of an n-step chain keeps alive, and backward's extra peak."""
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    y = chain(n)
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    y.backward()
    backward_peak = tracemalloc.get_traced_memory()[1] - current
    tracemalloc.stop()
    nodes = len(autograd.topological_order(y))
    return {
        "retained_per_step": (current - base) / n,
        "forward_peak_per_step": (peak - base) / n,
        "nodes_per_step": nodes / n,
        "retained_per_node": (current - base) / nodes,
        "backward_extra_peak_per_step": backward_peak / n,
    }


def run_deep(n: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        y = chain(n)
        y.backward()
    except RecursionError as exc:
        return {"ok": False, "error": f"RecursionError: {exc}", "limit": sys.getrecursionlimit()}
    return {"ok": True, "time_s": time.perf_counter() - t0, "limit": sys.getrecursionlimit()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "workload", choices=["backward", "chain", "deep", "first-call", "fit", "memory", "moons", "replay", "widesum"]
    )
    parser.add_argument("--n", type=int, default=50_000, help="chain steps / sum terms")
    parser.add_argument("--steps", type=int, default=15, help="moons training steps")
    parser.add_argument("--impl", choices=["auto", "nn", "local", "compiled"], default="auto", help="moons model code")
    parser.add_argument("--repeats", type=int, default=1000, help="replays of the compiled chain")
    parser.add_argument("--compiled", action="store_true", help="fit: fit(compile=True)")
    parser.add_argument("--loss", choices=["hinge", "mse"], default="hinge", help="fit: the loss")
    args = parser.parse_args()
    if args.workload == "moons":
        size, result = args.steps, run_moons(args.steps, args.impl)
    elif args.workload == "fit":
        size, result = args.steps, run_fit(args.compiled, args.steps, args.loss)
    elif args.workload == "replay":
        size, result = args.n, run_replay(args.n, args.repeats)
    else:
        size = args.n
        result = {
            "backward": run_backward,
            "chain": run_chain,
            "widesum": run_widesum,
            "memory": run_memory,
            "deep": run_deep,
            "first-call": run_first_call,
        }[args.workload](args.n)
    source = os.path.dirname(os.path.dirname(os.path.abspath(autograd.__file__)))
    emit({"engine": "valuegrad", "workload": args.workload, "size": size, "source": source, **result})


if __name__ == "__main__":
    main()
