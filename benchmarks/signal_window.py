"""Where in start-up Ctrl-C still gives CPython's report instead of valuegrad's one line.

``python benchmarks/signal_window.py [--runs 6] [--module]``: starts ``valuegrad train`` (the
console script, or ``python -m valuegrad`` with ``--module``) and sends SIGINT after 0, 3, ...,
``--until`` ms (60), ``--runs`` times each, then prints per delay how many runs ended

* ``killed``: by the signal, silently, before CPython had installed its own handler;
* ``cpython``: with CPython's report (a KeyboardInterrupt traceback, or a fatal start-up error);
* ``clean``: "valuegrad: interrupted" and exit 130;

and the frames of the reports in valuegrad's own files (there should be none: from the first
line of ``valuegrad/__main__`` on, the one line is promised; before it only CPython, ``site``
and the console script's own ``import re`` run).
"""

from __future__ import annotations

import argparse
import collections
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OURS = tuple(os.path.join(ROOT, part) for part in ("src", "autograd", "nn"))
ARGUMENTS = ["train", "xor", "--steps", "1000000", "--no-progress", "--out", "run"]


def outcome(command: list[str], delay: float) -> tuple[str, list[str]]:
    with tempfile.TemporaryDirectory() as folder:
        process = subprocess.Popen(
            [*command, *ARGUMENTS], cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=60)
    frames = [line.strip() for line in err.splitlines() if line.strip().startswith("File ")]
    ours = [frame for frame in frames if os.path.realpath(frame.split('"')[1]).startswith(OURS)]
    if process.returncode == 130 and err == "valuegrad: interrupted\n":
        return "clean", ours
    if process.returncode == -signal.SIGINT and not err:
        return "killed", ours
    return "cpython", ours


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--until", type=int, default=60, help="the last delay, in ms (default 60)")
    parser.add_argument("--module", action="store_true", help="python -m valuegrad, not the console script")
    options = parser.parse_args()
    script = os.path.join(os.path.dirname(sys.executable), "valuegrad")
    command = [sys.executable, "-m", "valuegrad"] if options.module else [script]
    print(" ".join(command), f"train ...; {options.runs} runs per delay")
    for step in range(options.until // 3 + 1):
        delay = step * 0.003
        counts: collections.Counter[str] = collections.Counter()
        ours: list[str] = []
        for _ in range(options.runs):
            kind, frames = outcome(command, delay)
            counts[kind] += 1
            ours += frames
        shown = ", ".join(f"{kind} {counts[kind]}" for kind in ("killed", "cpython", "clean") if counts[kind])
        print(f"{delay * 1000:4.0f} ms  {shown}" + (f"  OUR FRAMES: {ours}" if ours else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
