"""The compiled replay (``autograd.jit``, ``fit(compile=True)``) against micrograd 0.1.0 and our eager engine.

Run from the repository root: ``python benchmarks/compare_compiled.py`` (``make bench-compiled``).
As in ``compare.py`` every measurement is a fresh process, and the processes alternate
(micrograd, eager, compiled; micrograd, eager, compiled; ...), so each round gives one ratio per
comparison, and the table shows the median and the range (min–max) of those ratios.

Workloads:

moons
    micrograd's demo step (MLP(2, [16, 16, 1]), 100 points, hinge + 1e-4 L2, SGD): micrograd's
    5-step mean, our eager ``nn`` step, and the compiled step (``--impl compiled``: the code
    ``fit(compile=True)`` runs; its first step traces and compiles and is reported apart).
replay
    A 10,000-op chain (x -> tanh(x * 1.0001 + 0.5), 3 ops a step) compiled once and replayed
    (forward + backward) 1,000 times, per replay against building and differentiating the same
    chain eagerly in the same process; and against micrograd's chain at the same length.
"""

from __future__ import annotations

import argparse
import statistics
import sys

from compare import fmt_time, log, machine, run


def ratio_text(ratios: list[float]) -> str:
    return f"{statistics.median(ratios):.1f}x ({min(ratios):.1f}–{max(ratios):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternated rounds (default 5)")
    parser.add_argument("--steps", type=int, default=5, help="moons steps per process (micrograd's mean)")
    parser.add_argument("--compiled-steps", type=int, default=50, help="compiled moons steps per process")
    parser.add_argument("--ops", type=int, default=10_000, help="ops in the replayed chain")
    parser.add_argument("--repeats", type=int, default=1000, help="replays of the chain")
    args = parser.parse_args()

    micro, eager, compiled, replay, micro_chain = [], [], [], [], []
    steps = ["--steps", str(args.steps)]
    for i in range(args.rounds):
        micro.append(run("micrograd", "moons", *steps))
        eager.append(run("valuegrad", "moons", *steps, "--impl", "nn"))
        compiled.append(run("valuegrad", "moons", "--steps", str(args.compiled_steps), "--impl", "compiled"))
        replay.append(run("valuegrad", "replay", "--n", str(args.ops), "--repeats", str(args.repeats)))
        micro_chain.append(run("micrograd", "chain", "--n", str(args.ops // 3)))
        log(
            f"round {i + 1}/{args.rounds}: micrograd {fmt_time(micro[-1]['step_s'])}, eager "
            f"{fmt_time(eager[-1]['step_s'])}, compiled {fmt_time(compiled[-1]['step_s'])} per moons step; "
            f"replay {fmt_time(replay[-1]['replay_s'])}"
        )

    def med(rows: list[dict[str, float]], key: str) -> str:
        return fmt_time(statistics.median(r[key] for r in rows))

    vs_micro = [m["step_s"] / c["step_s"] for m, c in zip(micro, compiled)]
    vs_eager = [e["step_s"] / c["step_s"] for e, c in zip(eager, compiled)]
    replay_vs_eager = [r["eager_s"] / r["replay_s"] for r in replay]
    replay_vs_micro = [m["time_s"] / r["replay_s"] for m, r in zip(micro_chain, replay)]
    lines = [
        f"Compiled replay — {args.rounds} alternated rounds; ratio = other time / compiled time, median (min–max).",
        "",
        "| workload | compiled | other | ratio, median (range) | target | met |",
        "|---|---|---|---|---|---|",
        f"| moons step vs micrograd 0.1.0 ({args.steps}-step mean) | {med(compiled, 'step_s')} | "
        f"{med(micro, 'step_s')} | {ratio_text(vs_micro)} | ≥ 500x | "
        f"{'yes' if statistics.median(vs_micro) >= 500 else '**no**'} |",
        f"| moons step vs our eager step | {med(compiled, 'step_s')} | {med(eager, 'step_s')} | "
        f"{ratio_text(vs_eager)} | ≥ 10x | {'yes' if statistics.median(vs_eager) >= 10 else '**no**'} |",
        f"| moons first step (trace + codegen + compile) | {med(compiled, 'first_s')} | | | (info) | – |",
        f"| {args.ops:,}-op chain, one replay vs eager build + backward | {med(replay, 'replay_s')} | "
        f"{med(replay, 'eager_s')} | {ratio_text(replay_vs_eager)} | (info) | – |",
        f"| {args.ops:,}-op chain, one replay vs micrograd | {med(replay, 'replay_s')} | "
        f"{med(micro_chain, 'time_s')} | {ratio_text(replay_vs_micro)} | (info) | – |",
        f"| {args.ops:,}-op chain, first call (trace + codegen + compile) | {med(replay, 'first_s')} "
        "| | | (info) | – |",
        "",
        f"Machine: {machine()}.",
        f"Command: `python benchmarks/compare_compiled.py {' '.join(sys.argv[1:])}`.",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
