"""The compiled replay (``autograd.jit``, ``fit(compile=True)``) against micrograd 0.1.0 and our eager engine.

Run from the repository root: ``python benchmarks/compare_compiled.py`` (``make bench-compiled``).
As in ``compare.py`` every measurement is a fresh process, and the processes alternate
(micrograd, eager, compiled; micrograd, eager, compiled; ...), so each round gives one ratio per
comparison, and the table shows the median and the range (min–max) of those ratios.

Workloads:

moons, as a notebook trains
    micrograd's demo step (MLP(2, [16, 16, 1]), 100 points, hinge + 1e-4 L2, SGD): micrograd's
    5-step mean against ``fit`` called three times on one model (1 step, then 30, then 30), the
    last two calls timed, eager and ``compile=True``; the first call (which traces and compiles)
    is reported apart. The same with the ``mse`` loss, whose gradient is never exactly zero: the
    compiled step can skip no example (with hinge it skips every point beyond the margin).
first call, at scale
    A chain of 10,000, 30,000 and 100,000 ops (x -> tanh(x * 1.0001 + 0.5), 3 ops a step):
    the first ``jit`` call (trace + codegen + compile) and the process's peak memory. The
    exponent of a log-log fit over the three says how time grows with size; the target is
    t(100k) <= 12 x t(10k).
replay
    The 10,000-op chain compiled once and replayed 1,000 times, against building and
    differentiating it eagerly, and against micrograd's chain of the same length.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from typing import Any

from compare import fmt_time, log, machine, run


def ratio_text(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.1f}x ({min(ratios):.1f}–{max(ratios):.1f})"


def slope(sizes: list[int], seconds: list[float]) -> float:
    """The exponent k of time ~ size^k, least squares on logs."""
    xs, ys = [math.log(n) for n in sizes], [math.log(t) for t in seconds]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternated rounds (default 5)")
    parser.add_argument("--steps", type=int, default=5, help="micrograd moons steps per process (its mean)")
    parser.add_argument("--fit-steps", type=int, default=30, help="steps of each timed fit call")
    parser.add_argument("--sizes", default="10000,30000,100000", help="chain sizes for the first call")
    parser.add_argument("--ops", type=int, default=10_000, help="ops in the replayed chain")
    parser.add_argument("--repeats", type=int, default=1000, help="replays of the chain")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]

    micro, eager, compiled, replay, micro_chain, eager_mse, compiled_mse = [], [], [], [], [], [], []
    first: dict[int, list[dict[str, float]]] = {n: [] for n in sizes}
    fit_steps = ["--steps", str(args.fit_steps)]
    for i in range(args.rounds):
        micro.append(run("micrograd", "moons", "--steps", str(args.steps)))
        eager.append(run("valuegrad", "fit", *fit_steps))
        compiled.append(run("valuegrad", "fit", *fit_steps, "--compiled"))
        eager_mse.append(run("valuegrad", "fit", *fit_steps, "--loss", "mse"))
        compiled_mse.append(run("valuegrad", "fit", *fit_steps, "--compiled", "--loss", "mse"))
        for n in sizes:
            first[n].append(run("valuegrad", "first-call", "--n", str(n)))
        replay.append(run("valuegrad", "replay", "--n", str(args.ops), "--repeats", str(args.repeats)))
        micro_chain.append(run("micrograd", "chain", "--n", str(args.ops // 3)))
        log(
            f"round {i + 1}/{args.rounds}: micrograd {fmt_time(micro[-1]['step_s'])}, eager fit "
            f"{fmt_time(eager[-1]['step_s'])}, compiled fit {fmt_time(compiled[-1]['step_s'])} per moons step; "
            + ", ".join(f"first call {n:,} ops {fmt_time(first[n][-1]['first_s'])}" for n in sizes)
        )
    mse = (eager_mse, compiled_mse)
    print("\n".join(table(args, sizes, micro, eager, compiled, first, replay, micro_chain, mse)))


def table(args, sizes, micro, eager, compiled, first, replay, micro_chain, mse) -> list[str]:  # type: ignore[no-untyped-def]
    def med(rows: list[dict[str, float]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    def spread(rows: list[dict[str, float]], key: str, unit: Any = fmt_time) -> str:
        values = [r[key] for r in rows]
        return f"{unit(statistics.median(values))} ({unit(min(values))}–{unit(max(values))})"

    def met(ok: bool) -> str:
        return "yes" if ok else "**no**"

    vs_micro = [m["step_s"] / c["step_s"] for m, c in zip(micro, compiled)]
    vs_eager = [e["step_s"] / c["step_s"] for e, c in zip(eager, compiled)]
    growth = [b["first_s"] / a["first_s"] for a, b in zip(first[sizes[0]], first[sizes[-1]])]
    cpu_growth = [b["first_cpu_s"] / a["first_cpu_s"] for a, b in zip(first[sizes[0]], first[sizes[-1]])]
    exponents = [slope(sizes, [first[n][k]["first_cpu_s"] for n in sizes]) for k in range(args.rounds)]
    replay_vs_eager = [r["eager_s"] / r["replay_s"] for r in replay]
    replay_vs_micro = [m["time_s"] / r["replay_s"] for m, r in zip(micro_chain, replay)]
    megabytes = lambda x: f"{x:.0f} MB"
    lines = [
        f"Compiled replay — {args.rounds} alternated rounds, each measurement a fresh process; median (min–max).",
        "",
        "| workload | compiled | other | ratio | target | met |",
        "|---|---|---|---|---|---|",
        f"| moons step, fit ×3 (1, {args.fit_steps}, {args.fit_steps} steps) vs micrograd 0.1.0 "
        f"({args.steps}-step mean) | {fmt_time(med(compiled, 'step_s'))} | {fmt_time(med(micro, 'step_s'))} "
        f"| {ratio_text(vs_micro)} | ≥ 500x | {met(statistics.median(vs_micro) >= 500)} |",
        f"| moons step, fit ×3 vs our eager fit ×3 | {fmt_time(med(compiled, 'step_s'))} | "
        f"{fmt_time(med(eager, 'step_s'))} | {ratio_text(vs_eager)} | ≥ 12x | "
        f"{met(statistics.median(vs_eager) >= 12)} |",
        f"| moons step, mse loss (no example to skip), fit ×3 vs our eager mse fit ×3 | "
        f"{fmt_time(med(mse[1], 'step_s'))} | {fmt_time(med(mse[0], 'step_s'))} | "
        f"{ratio_text([e['step_s'] / c['step_s'] for e, c in zip(*mse)])} | (info) | – |",
        f"| moons step, mse loss, fit ×3 vs micrograd's hinge step | {fmt_time(med(mse[1], 'step_s'))} | "
        f"{fmt_time(med(micro, 'step_s'))} | {ratio_text([m['step_s'] / c['step_s'] for m, c in zip(micro, mse[1])])} "
        "| (info) | – |",
        f"| moons, first fit call (1 step: trace + codegen + compile + eager check) | "
        f"{spread(compiled, 'first_s')} | eager: {spread(eager, 'first_s')} | | (info) | – |",
    ]
    for n in sizes:
        lines.append(
            f"| {n:,}-op chain, first call: wall, CPU | {spread(first[n], 'first_s')} | "
            f"{spread(first[n], 'first_cpu_s')}; peak memory "
            f"{spread(first[n], 'peak_mb', megabytes)} | | (info) | – |"
        )
    lines += [
        f"| first call, {sizes[-1]:,} ops / {sizes[0]:,} ops, wall time | | | {ratio_text(growth)} | ≤ 12x | "
        f"{met(statistics.median(growth) <= 12)} |",
        f"| first call, {sizes[-1]:,} ops / {sizes[0]:,} ops, CPU time | | | {ratio_text(cpu_growth)} | ≤ 12x | "
        f"{met(statistics.median(cpu_growth) <= 12)} |",
        f"| first call, exponent k of CPU time ~ ops^k (log-log fit over {', '.join(f'{n:,}' for n in sizes)}) | | | "
        f"{statistics.median(exponents):.2f} ({min(exponents):.2f}–{max(exponents):.2f}) | (info) | – |",
        f"| {args.ops:,}-op chain, one replay vs eager build + backward | {fmt_time(med(replay, 'replay_s'))} | "
        f"{fmt_time(med(replay, 'eager_s'))} | {ratio_text(replay_vs_eager)} | (info) | – |",
        f"| {args.ops:,}-op chain, one replay vs micrograd | {fmt_time(med(replay, 'replay_s'))} | "
        f"{fmt_time(med(micro_chain, 'time_s'))} | {ratio_text(replay_vs_micro)} | (info) | – |",
        "",
        f"Machine: {machine()}.",
        f"Command: `python benchmarks/compare_compiled.py {' '.join(sys.argv[1:])}`.",
    ]
    return lines


if __name__ == "__main__":
    main()
