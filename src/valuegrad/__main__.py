"""The ``valuegrad`` command: ``train`` (from ``valuegrad.nn``), ``draw`` and ``grad`` (from ``valuegrad.autograd``).

Each subcommand is its package's own command line run under the name ``valuegrad``, so
``valuegrad train ...`` and ``python -m valuegrad.nn train ...`` are one program. Only the chosen
package is imported: ``valuegrad --help`` imports neither.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

PROG = "valuegrad"

HELP = f"""\
usage: {PROG} {{train,draw,grad}} ...

Scalar reverse-mode automatic differentiation for teaching and testing.

commands:
  train   train an MLP on a toy dataset; write model.json, loss.svg, decision_boundary.png, graph.svg
  draw    draw the computation graph of an expression (SVG, PNG, DOT or HTML)
  grad    print an expression's value and every partial derivative

examples:
  {PROG} train moons --hidden 16,16 --steps 100 --out runs/moons
  {PROG} draw "tanh(w*x + b)" x=2 w=-3 b=6.88 -o graph.svg --edge-labels
  {PROG} grad "tanh(w*x + b)" x=2 w=-3 b=6.88

'{PROG} COMMAND --help' describes one command.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch to the chosen subcommand; return the exit status (2 for a usage mistake)."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else None
    if command == "train":
        from valuegrad.nn.cli import main as train_main

        return train_main(args, prog=PROG)
    if command in ("draw", "grad"):
        from valuegrad.autograd.cli import main as expression_main

        return expression_main(args, prog=PROG)
    if command in ("-h", "--help"):
        sys.stdout.write(HELP)
        return 0
    if command in ("-V", "--version"):
        from valuegrad import __version__

        sys.stdout.write(f"{PROG} {__version__}\n")
        return 0
    what = f"unknown command {command!r}" if command is not None else "say what to do"
    sys.stderr.write(f"{PROG}: error: {what}; choose train, draw or grad (see {PROG} --help)\n")
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
