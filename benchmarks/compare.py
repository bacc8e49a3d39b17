"""valuegrad vs micrograd 0.1.0, side by side, as ratios of alternated runs.

Run from the repository root: ``python benchmarks/compare.py`` (``make bench``), or with ``--quick``
for a smoke run. Each measurement is a fresh process (``bench_valuegrad.py`` / ``bench_micrograd.py``),
alternated A B A B for ``--pairs`` pairs; each pair gives one ratio, and the table shows the median
and the range (min–max) of those ratios. Absolute times drift by tens of percent on shared machines,
so only ratios of neighbouring runs are compared. Absolute medians are shown for orientation only.

Workloads, and what each one measures:

moons
    One training step of micrograd's demo: MLP(2, [16, 16, 1]), 100 two-moons points, hinge loss
    + 1e-4 L2, SGD with the demo's learning-rate schedule. Time per step, averaged over ``--steps``
    steps after the model is built, with Python's GC on, as a user runs it. micrograd uses
    ``micrograd.nn.MLP`` and the demo's loss code; valuegrad uses ``nn`` (or, before ``nn``
    existed, an MLP on ``autograd.dot``). This is the number students feel.
moons backward/forward
    From the same valuegrad runs: time in ``backward()`` over time building the loss. Backprop
    should cost about as much as the forward pass (rule of thumb: at most 2x).
chain
    x -> tanh(x * 1.0001 + 0.5), ``--chain`` times, forward then backward: per-node overhead of
    ops with a constant operand and of the backward walk. micrograd gets a deep stack and a raised
    recursion limit here (it could not sort the graph otherwise) and a lecture-style tanh.
backward per node
    ``backward()`` alone on a balanced product tree of ``--tree`` leaves (Value*Value nodes, depth
    log2 n, so micrograd's recursive sort needs no deep stack): seconds per node, sort included.
wide sum
    Σ of ``--sum`` leaves, forward + backward: valuegrad's ``autograd.sum`` (one n-ary node)
    against Python's ``sum()`` on micrograd Values (a chain of n adds), as each library's users write it.
bytes per step
    tracemalloc: bytes the chain's graph keeps alive per chain step after the forward pass
    (the same computation on both sides, so folded constants count in valuegrad's favour, as they
    should). Bytes per node are shown too: valuegrad makes 3 nodes per step, micrograd 5.
deepest chain
    The longest chain each engine builds and differentiates at Python's default recursion limit:
    valuegrad is run at ``--deep`` steps; micrograd's limit is found by doubling then bisection,
    each probe a subprocess with a time cap.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = {"valuegrad": os.path.join(HERE, "bench_valuegrad.py"), "micrograd": os.path.join(HERE, "bench_micrograd.py")}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run(engine: str, workload: str, *args: str, timeout: float = 600.0) -> dict[str, Any]:
    """One fresh process of one engine's workload; returns its JSON line."""
    cmd = [sys.executable, SCRIPTS[engine], workload, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


@dataclass
class Row:
    """One line of the table: a ratio over pairs, with the target it is held to."""

    name: str
    ratios: list[float]
    target: str
    met: bool | None
    valuegrad: str = ""
    micrograd: str = ""
    notes: list[str] = field(default_factory=list)

    def ratio_text(self, unit: str = "x") -> str:
        if not self.ratios:
            return "–"
        med = statistics.median(self.ratios)
        lo, hi = min(self.ratios), max(self.ratios)
        return f"{med:.2f}{unit} ({lo:.2f}–{hi:.2f})"


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1e3:.1f} ms" if seconds < 1.0 else f"{seconds:.2f} s"


def pairs(workload: str, n_pairs: int, args: list[str], key: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Alternate valuegrad and micrograd runs, A B A B; return both lists of results."""
    vg, mg = [], []
    for i in range(n_pairs):
        vg.append(run("valuegrad", workload, *args))
        mg.append(run("micrograd", workload, *args))
        log(f"  {workload} pair {i + 1}/{n_pairs}: valuegrad {vg[-1][key]:.4g}, micrograd {mg[-1][key]:.4g}")
    return vg, mg


def speed_row(name: str, vg: list[dict[str, Any]], mg: list[dict[str, Any]], key: str, target: float) -> Row:
    ratios = [m[key] / v[key] for v, m in zip(vg, mg)]
    return Row(
        name,
        ratios,
        f"≥ {target:g}x faster",
        statistics.median(ratios) >= target,
        fmt_time(statistics.median(v[key] for v in vg)),
        fmt_time(statistics.median(m[key] for m in mg)),
    )


def survives(n: int, timeout: float) -> bool:
    """Does micrograd build and differentiate an n-step chain at the default recursion limit?

    A RecursionError, a crash or running past ``timeout`` all count as not surviving.
    """
    try:
        return bool(run("micrograd", "deep", "--n", str(n), timeout=timeout)["ok"])
    except (subprocess.TimeoutExpired, RuntimeError):
        return False


def micrograd_deepest(start: int, cap: int, timeout: float) -> tuple[int, int]:
    """(longest chain that worked, shortest that failed) for micrograd: doubling, then bisection."""
    ok, n = 0, start
    while n <= cap and survives(n, timeout):
        ok, n = n, n * 2
    if n > cap:
        return ok, cap + 1
    bad = n
    while bad - ok > 1:
        mid = (ok + bad) // 2
        ok, bad = (mid, bad) if survives(mid, timeout) else (ok, mid)
    return ok, bad


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {system}, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=5, help="A/B pairs per workload (default 5)")
    parser.add_argument("--steps", type=int, default=10, help="moons training steps per process")
    parser.add_argument("--chain", type=int, default=50_000, help="chain steps")
    parser.add_argument("--sum", type=int, default=100_000, help="wide-sum terms")
    parser.add_argument("--tree", type=int, default=2**16, help="leaves of the backward-per-node product tree")
    parser.add_argument("--memory", type=int, default=20_000, help="chain steps traced for bytes per step")
    parser.add_argument("--deep", type=int, default=1_000_000, help="valuegrad's deep-chain steps")
    parser.add_argument("--quick", action="store_true", help="2 pairs, small sizes: a smoke run of a minute")
    parser.add_argument(
        "--only", nargs="*", default=None, help="workloads to run (moons chain backward widesum memory deep)"
    )
    parser.add_argument("--json", default=None, help="also write all raw results to this file")
    parser.add_argument(
        "--valuegrad-src", default=None, help="directory holding a variant autograd/ package to benchmark instead"
    )
    args = parser.parse_args()
    if args.valuegrad_src:
        os.environ["VALUEGRAD_SRC"] = os.path.abspath(args.valuegrad_src)
    if args.quick:
        args.pairs, args.steps, args.chain, args.sum, args.memory, args.deep = 2, 5, 10_000, 100_000, 5_000, 100_000
    only = set(args.only or ["moons", "chain", "backward", "widesum", "memory", "deep"])
    rows: list[Row] = []
    raw: dict[str, Any] = {"args": vars(args), "machine": machine()}
    started = time.perf_counter()

    if "moons" in only:
        log("moons ...")
        vg, mg = pairs("moons", args.pairs, ["--steps", str(args.steps)], "step_s")
        raw["moons"] = {"valuegrad": vg, "micrograd": mg}
        row = speed_row(f"moons training step ({args.steps} steps/process)", vg, mg, "step_s", 55)
        row.notes.append(f"valuegrad model code: {vg[0]['impl']}")
        rows.append(row)
        bw_fw = [v["backward_s"] / v["forward_s"] for v in vg]
        mg_bw_fw = statistics.median(m["backward_s"] / m["forward_s"] for m in mg)
        rows.append(
            Row(
                "moons backward / forward (valuegrad)",
                bw_fw,
                "≤ 2x",
                statistics.median(bw_fw) <= 2.0,
                f"{fmt_time(statistics.median(v['backward_s'] for v in vg))} / "
                f"{fmt_time(statistics.median(v['forward_s'] for v in vg))}",
                f"{mg_bw_fw:.2f}x (its forward pays its GC)",
            )
        )

    if "chain" in only:
        log("chain ...")
        vg, mg = pairs("chain", args.pairs, ["--n", str(args.chain)], "time_s")
        raw["chain"] = {"valuegrad": vg, "micrograd": mg}
        rows.append(speed_row(f"chain tanh(x·1.0001+0.5), {args.chain:,} steps, fw+bw", vg, mg, "time_s", 4.5))

    if "backward" in only:
        log("backward per node ...")
        vg, mg = pairs("backward", args.pairs, ["--n", str(args.tree)], "per_node_s")
        raw["backward"] = {"valuegrad": vg, "micrograd": mg}
        row = speed_row(f"backward() alone, product tree of {args.tree:,} leaves, per node", vg, mg, "per_node_s", 1)
        row.valuegrad = f"{statistics.median(v['per_node_s'] for v in vg) * 1e9:.0f} ns"
        row.micrograd = f"{statistics.median(m['per_node_s'] for m in mg) * 1e9:.0f} ns"
        rows.append(row)

    if "widesum" in only:
        log("wide sum ...")
        vg, mg = pairs("widesum", args.pairs, ["--n", str(args.sum)], "time_s")
        raw["widesum"] = {"valuegrad": vg, "micrograd": mg}
        row = speed_row(f"wide sum, {args.sum:,} terms, fw+bw", vg, mg, "time_s", 0)
        row.target, row.met = "(no target)", None
        rows.append(row)

    if "memory" in only:
        log("bytes per step ...")
        vg, mg = pairs("memory", args.pairs, ["--n", str(args.memory)], "retained_per_step")
        raw["memory"] = {"valuegrad": vg, "micrograd": mg}
        ratios = [v["retained_per_step"] / m["retained_per_step"] for v, m in zip(vg, mg)]
        rows.append(
            Row(
                f"bytes per chain step, graph retained ({args.memory:,} steps)",
                ratios,
                "≤ 0.25x",
                statistics.median(ratios) <= 0.25,
                f"{vg[0]['retained_per_step']:.0f} B",
                f"{mg[0]['retained_per_step']:.0f} B",
            )
        )
        per_node = [v["retained_per_node"] / m["retained_per_node"] for v, m in zip(vg, mg)]
        rows.append(
            Row(
                "bytes per node (same graphs; 3 vs 5 nodes per step)",
                per_node,
                "≤ 0.3x",
                statistics.median(per_node) <= 0.3,
                f"{vg[0]['retained_per_node']:.0f} B",
                f"{mg[0]['retained_per_node']:.0f} B",
            )
        )

    if "deep" in only:
        log(f"deepest chain: valuegrad at {args.deep:,} steps ...")
        vg_deep = run("valuegrad", "deep", "--n", str(args.deep), timeout=1800)
        log("deepest chain: micrograd, doubling then bisection ...")
        ok, bad = micrograd_deepest(16, 1 << 20, timeout=120)
        raw["deep"] = {"valuegrad": vg_deep, "micrograd": {"max_ok": ok, "min_fail": bad}}
        rows.append(
            Row(
                "deepest chain at the default recursion limit (steps)",
                [],
                "1,000,000 steps OK",
                bool(vg_deep["ok"]) if args.deep >= 1_000_000 else None,
                f"{args.deep:,} OK ({fmt_time(vg_deep['time_s'])})" if vg_deep["ok"] else f"{args.deep:,} FAILED",
                f"{ok:,} (RecursionError at {bad:,})",
            )
        )

    raw["elapsed_s"] = time.perf_counter() - started
    print(table(rows, args))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(raw, f, indent=1)


def table(rows: list[Row], args: argparse.Namespace) -> str:
    lines = [
        f"valuegrad vs micrograd 0.1.0 — {args.pairs} alternated pairs per workload; "
        "ratio = micrograd time / valuegrad time (speed) or valuegrad / micrograd (bytes), "
        "median (min–max) over pairs.",
        "",
        "| workload | valuegrad | micrograd | ratio, median (range) | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = "–" if r.met is None else ("yes" if r.met else "**no**")
        name = r.name + "".join(f" — {n}" for n in r.notes)
        lines.append(f"| {name} | {r.valuegrad} | {r.micrograd} | {r.ratio_text()} | {r.target} | {met} |")
    command = shlex.join(["python", "benchmarks/compare.py", *sys.argv[1:]])
    lines += ["", f"Machine: {machine()}.", f"Command: `{command}`."]
    if os.environ.get("VALUEGRAD_SRC"):
        lines.append(f"valuegrad's autograd/ taken from {os.environ['VALUEGRAD_SRC']} (an engine variant).")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
