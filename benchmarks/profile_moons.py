"""Where valuegrad's moons training step spends its time: cProfile, plus GC time via ``gc.callbacks``.

Usage: ``python benchmarks/profile_moons.py [--steps K] [--impl auto|nn|local] [--top N] [--blocks B]``
(``make profile``). Runs the same step as ``bench_valuegrad.py moons``: first ``K`` steps
un-profiled with a ``gc.callbacks`` timer (so the GC share is not distorted by the profiler),
then ``K`` steps under cProfile, and prints the top functions by own time (tottime).

With the ``nn`` model it then measures what ``Module.__call__`` (a scope per call, then
``forward``) costs a step, against calling ``forward`` directly: ``B`` pairs of blocks in one
process, the two orders alternating, so machine drift hits both sides alike.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import pstats
import time

from _common import moons
from bench_valuegrad import local_moons_step, nn_available, nn_moons_step


class GCTimer:
    """Adds up the wall time of every collection, per generation, through ``gc.callbacks``."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.counts = [0, 0, 0]
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            generation = info["generation"]
            self.seconds[generation] += time.perf_counter() - self._start
            self.counts[generation] += 1

    def __enter__(self) -> GCTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--impl", choices=["auto", "nn", "local"], default="auto")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--blocks", type=int, default=40, help="paired blocks for the Module.__call__ cost (0: skip)")
    args = parser.parse_args()
    impl = args.impl if args.impl != "auto" else ("nn" if nn_available() else "local")
    xs, ys = moons()
    step = nn_moons_step(xs, ys) if impl == "nn" else local_moons_step(xs, ys)

    forward = backward = 0.0
    with GCTimer() as timer:
        start = time.perf_counter()
        for k in range(args.steps):
            fw, bw, _, _ = step(k)
            forward += fw
            backward += bw
        total = time.perf_counter() - start
    gc_total = sum(timer.seconds)
    print(f"valuegrad moons step ({impl} model code), {args.steps} steps, GC on, no profiler:")
    print(f"  step {total / args.steps * 1e3:.1f} ms = forward {forward / args.steps * 1e3:.1f} ms")
    print(f"  + backward {backward / args.steps * 1e3:.1f} ms (backward/forward {backward / forward:.2f})")
    print(f"  GC: {gc_total / total:.1%} of the time ({gc_total / args.steps * 1e3:.1f} ms/step); collections")
    for g in range(3):
        print(f"    gen {g}: {timer.counts[g]:5d} collections, {timer.seconds[g] * 1e3:8.1f} ms")

    profiler = cProfile.Profile()
    profiler.enable()
    for k in range(args.steps, 2 * args.steps):
        step(k)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
    print(f"\ncProfile, {args.steps} more steps, top {args.top} by tottime:")
    print(out.getvalue().split("\n\n", 1)[-1].rstrip())
    if impl == "nn" and args.blocks:
        call_cost(xs, ys, args.blocks)


def call_cost(xs: list[list[float]], ys: list[float], blocks: int, steps: int = 8) -> None:
    """Step time with modules called (scoped) over step time with ``forward`` called directly."""
    import valuegrad.nn.layers as layers
    from valuegrad.nn.module import Module

    scoped = (Module.__call__, layers.call_all)

    def direct_call(self: Module, x: object) -> object:  # the least a call can cost: forward, nothing else
        return self.forward(x)

    direct = (direct_call, lambda modules, x: [m.forward(x) for m in modules])
    step = nn_moons_step(xs, ys)
    ratios = []
    for block in range(blocks):
        best = {}
        for name, (call, call_all) in sorted({"scoped": scoped, "direct": direct}.items(), reverse=block % 2 == 1):
            Module.__call__, layers.call_all = call, call_all  # type: ignore[method-assign]
            times = []
            for k in range(steps):
                start = time.process_time()
                step(k)
                times.append(time.process_time() - start)
            best[name] = min(times)
        Module.__call__, layers.call_all = scoped  # type: ignore[method-assign]
        ratios.append(best["scoped"] / best["direct"])
    ratios.sort()
    median, low, high = ratios[len(ratios) // 2] - 1, ratios[0] - 1, ratios[-1] - 1
    print(f"\nModule.__call__ -> forward (a scope per call) vs forward called directly, {blocks} paired blocks:")
    print(f"  cost {median:+.1%} of a step (median; range {low:+.1%} to {high:+.1%})")


if __name__ == "__main__":
    main()
