"""``python -m valuegrad.nn train DATASET``: train an MLP and write its model file, plots and graph.

Example (the README's main job)::

    python -m valuegrad.nn train moons --hidden 16,16 --steps 100 --out runs/moons

writes ``model.json`` (load it with ``nn.load``), ``loss.svg``, ``decision_boundary.png`` (2-D
datasets) and ``graph.svg`` (the model on one input, one box per neuron). Mistakes in the
arguments exit with status 2 and one line saying what was wrong; no traceback.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any, NoReturn, Sequence

from . import losses
from .layers import MLP
from .recipes import RECIPES, Recipe
from .train import History, fit

__all__ = ["main"]

PROGRAM = "python -m valuegrad.nn"
MAX_WIDTH = 4096
MAX_STEPS = 1_000_000
#: The toy datasets live in [-2, 2]²: noise far beyond that is noise, not a dataset.
MAX_NOISE = 1000.0
#: Default memory budget in GB (``--max-memory`` raises it).
MEMORY_BUDGET_GB = 2.0


class UsageError(Exception):
    """A bad argument: reported as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (what was wrong, where to look), not a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def _hidden(text: str) -> tuple[int, ...]:
    parts = [p.strip() for p in text.split(",")]
    try:
        widths = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--hidden {text!r}: give layer widths as comma-separated whole numbers, e.g. 16,16"
        ) from None
    if any(not 1 <= w <= MAX_WIDTH for w in widths):
        raise argparse.ArgumentTypeError(f"--hidden {text!r}: every layer width must be between 1 and {MAX_WIDTH}")
    return widths


def _bounded_int(name: str, low: int, high: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} {text!r}: expected a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} {value}: must be between {low} and {high}")
        return value

    return parse


def _positive_float(name: str) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} {text!r}: expected a number") from None
        if not 0 < value < float("inf"):
            raise argparse.ArgumentTypeError(f"{name} {text}: must be a positive finite number")
        return value

    return parse


def _nonnegative_float(name: str, high: float) -> Any:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} {text!r}: expected a number") from None
        if not 0 <= value <= high:
            raise argparse.ArgumentTypeError(f"{name} {text}: must be a number from 0 to {high:g}")
        return value

    return parse


def _out_directory(text: str) -> Path:
    """--out names a directory: not standard output ('-'), and not nothing."""
    if text == "-":
        raise argparse.ArgumentTypeError(
            "training writes a directory of files (model.json, plots, graph), not standard output ('-'); "
            "give a directory name"
        )
    if not text.strip():
        raise argparse.ArgumentTypeError("give a directory name")
    return Path(text)


def _dataset(text: str) -> Recipe:
    try:
        return RECIPES[text]
    except KeyError:
        raise argparse.ArgumentTypeError(f"unknown dataset {text!r}; choose one of {', '.join(RECIPES)}") from None


def build_parser(prog: str = PROGRAM) -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="Train small neural networks built from autograd scalars.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    train = commands.add_parser(
        "train",
        help="train an MLP on a toy dataset and write model.json, loss.svg, decision_boundary.png, graph.svg",
        description="Train an MLP on a toy dataset and write model.json, loss.svg, decision_boundary.png "
        "(2-D datasets) and graph.svg into --out.",
    )
    train.add_argument("dataset", type=_dataset, metavar="DATASET", help=f"one of {', '.join(RECIPES)}")
    train.add_argument("--hidden", type=_hidden, help="hidden layer widths, e.g. 16,16 (default: per dataset)")
    train.add_argument("--steps", type=_bounded_int("--steps", 1, MAX_STEPS), default=100, help="optimizer steps")
    train.add_argument("--lr", type=_positive_float("--lr"), help="learning rate (default: per dataset)")
    train.add_argument("--activation", help="hidden activation: relu, tanh, sigmoid, ... (default: per dataset)")
    train.add_argument(
        "--samples", type=_bounded_int("--samples", 4, 100_000), help="dataset size (default 100; not xor/encoder)"
    )
    train.add_argument(
        "--noise",
        type=_nonnegative_float("--noise", MAX_NOISE),
        help=f"dataset noise, at most {MAX_NOISE:g} (default: per dataset)",
    )
    train.add_argument("--seed", type=_bounded_int("--seed", 0, 2**32 - 1), default=0, help="data and init seed")
    train.add_argument(
        "--out", type=_out_directory, metavar="DIR", help="output directory (default: runs/DATASET; not '-')"
    )
    train.add_argument(
        "--max-memory",
        type=_positive_float("--max-memory"),
        default=MEMORY_BUDGET_GB,
        metavar="GB",
        help=f"refuse a run whose estimated memory exceeds this many GB (default {MEMORY_BUDGET_GB:g})",
    )
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.add_argument("--no-plots", action="store_true", help="skip loss.svg and decision_boundary.png")
    train.add_argument("--no-graph", action="store_true", help="skip graph.svg")
    train.add_argument(
        "--compile", action="store_true", help="train through compiled straight-line code (same losses, faster)"
    )
    return parser


def main(argv: Sequence[str] | None = None, prog: str = PROGRAM) -> int:
    """Run the command line; return the exit status (0 ok, 1 failed, 2 bad arguments).

    ``prog`` names the program in help and errors (``valuegrad`` when run as ``valuegrad train``).
    """
    try:
        args = build_parser(prog).parse_args(argv)
        args.prog = prog
        if args.command is None:
            raise UsageError(f"say what to do, e.g. {prog} train moons (see {prog} --help)")
        return _train(args)
    except UsageError as error:
        print(f"{prog}: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``| head -c 1``): stop quietly. Point stdout at devnull so the
        # interpreter's final flush cannot fail again (the Python docs' recipe, signal module).
        _silence_stdout()
        return 1
    except OSError as error:  # stdout itself could not be written (``> /dev/full``)
        _silence_stdout()
        print(f"{prog}: error: could not write the output: {error.strerror or error}", file=sys.stderr)
        return 1


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor (a test's captured stdout)
        pass


def _train(args: argparse.Namespace) -> int:
    recipe: Recipe = args.dataset
    from .activations import NAMES

    activation = args.activation if args.activation is not None else recipe.activation
    if activation not in NAMES:
        raise UsageError(f"unknown --activation {args.activation!r}; choose one of {', '.join(NAMES)}")
    if not recipe.sized:
        for flag, given in (("--samples", args.samples), ("--noise", args.noise)):
            if given is not None:
                size = recipe.fixed_size
                raise UsageError(f"{flag} does not apply to {recipe.name}: it is a fixed set of {size} points")
    plots = not args.no_plots
    if plots:
        from .plots import MATPLOTLIB_HINT, have_matplotlib

        if not have_matplotlib():
            raise UsageError(f"{MATPLOTLIB_HINT} (or pass --no-plots)")
    out: Path = args.out if args.out is not None else Path("runs") / recipe.name
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    hidden = args.hidden if args.hidden is not None else recipe.hidden
    lr = args.lr if args.lr is not None else recipe.lr

    sizes = [*hidden, recipe.nout]
    samples = recipe.fixed_size if not recipe.sized else (args.samples if args.samples is not None else 100)
    architecture = {"nin": recipe.nin, "sizes": sizes, "activation": activation}
    parameters = MLP.implied_parameters(architecture)
    needed = estimate_training_bytes(recipe.nin, sizes, samples, activation)
    if needed > args.max_memory * 1e9:
        raise UsageError(
            f"training MLP({recipe.nin}, {sizes}) on {samples} samples would need about {needed / 1e9:.3g} GB "
            f"({parameters:,} parameters, a graph per step), more than the {args.max_memory:g} GB budget; "
            f"use smaller --hidden or --samples, or raise the budget with --max-memory {math.ceil(needed / 1e9)}"
        )
    print(
        f"training MLP({recipe.nin}, {sizes}) with {parameters} parameters on {recipe.name} "
        f"({samples} samples): {recipe.loss} loss, {recipe.optimizer} lr {lr:g}, {args.steps} steps",
        flush=True,
    )
    X, y = recipe.load(samples, args.noise, args.seed)
    model = MLP(recipe.nin, sizes, activation=activation, rng=args.seed)
    optimizer = recipe.make_optimizer(model.parameters(), lr, args.steps)
    try:
        history = fit(
            model,
            X,
            y,
            loss=recipe.loss,
            optimizer=optimizer,
            steps=args.steps,
            l2=recipe.l2,
            progress=not args.no_progress,
            seed=args.seed,
            compile=args.compile,
        )
    except FloatingPointError as error:
        print(f"{args.prog}: {error} (try --lr smaller than {lr:g})", file=sys.stderr)
        return 1
    accuracy = history.final_accuracy
    shown = f", train accuracy {accuracy:.1%}" if accuracy is not None else ""
    print(f"final loss {history.final_loss:.4f}{shown}")

    try:
        out.mkdir(parents=True, exist_ok=True)
        written = _write_outputs(model, recipe, X, y, history, out, plots, not args.no_graph, args.prog)
    except OSError as error:
        print(f"{args.prog}: could not write to {out}: {error.strerror or error}", file=sys.stderr)
        return 1
    print(f"wrote {', '.join(str(out / name) for name in written)}")
    return 0


#: Measured with tracemalloc on MLPs from [16, 16, 1] to [256, 256, 1] (full batch, forward and
#: backward): a parameter costs about 200-320 bytes, a graph node 300 and an edge (a parent
#: reference and its partial) 14; these round up, so the estimate errs on the high side.
BYTES_PER_PARAMETER = 320
BYTES_PER_NODE = 300
BYTES_PER_EDGE = 14
BYTES_FIXED = 50_000  # the sweep's bookkeeping, whatever the size


def estimate_training_bytes(nin: int, sizes: Sequence[int], samples: int, activation: str) -> int:
    """Peak memory of one full-batch training step of ``MLP(nin, sizes)``, from the architecture alone."""
    widths = [nin, *sizes]
    parameters = MLP.implied_parameters({"nin": nin, "sizes": list(sizes), "activation": activation})
    nodes = edges = 0
    for i in range(1, len(widths)):
        inputs_are_values = i > 1  # the first layer folds plain-number inputs into its dot nodes
        nodes += 2 * widths[i]  # a dot node and an activation node per neuron
        edges += widths[i] * (widths[i - 1] * (2 if inputs_are_values else 1) + 2)
    nodes += 2 * widths[-1] + 4  # the loss's own terms for one sample (differences, margins, ...)
    edges += 4 * widths[-1] + 4
    per_sample = nodes * BYTES_PER_NODE + edges * BYTES_PER_EDGE
    return BYTES_FIXED + parameters * (BYTES_PER_PARAMETER + BYTES_PER_EDGE) + samples * per_sample


def _write_outputs(
    model: MLP,
    recipe: Recipe,
    X: list[Any],
    y: list[Any],
    history: History,
    out: Path,
    plots: bool,
    graph: bool,
    prog: str = PROGRAM,
) -> list[str]:
    written = []
    model.save(out / "model.json")
    written.append("model.json")
    if plots:
        from .plots import save_decision_boundary, save_loss_curve

        save_loss_curve(history, out / "loss.svg", title=f"{recipe.name}: {recipe.loss} loss")
        written.append("loss.svg")
        if recipe.nin == 2:
            save_decision_boundary(model, X, y, out / "decision_boundary.png")
            written.append("decision_boundary.png")
    if graph:
        note = _save_graph(model, recipe, X[0], y[0], out / "graph.svg")
        if note is None:
            written.append("graph.svg")
        else:
            print(f"{prog}: skipped graph.svg: {note}", file=sys.stderr)
    return written


def _save_graph(model: MLP, recipe: Recipe, x: Any, target: Any, path: Path) -> str | None:
    """Draw the model on one input, one box per neuron, with the gradients of one backward pass.

    Returns None on success, else why the picture could not be made (the run still succeeds).
    """
    from ..autograd import Value, draw

    # Inputs as labelled leaves (not folded constants) so the picture shows where data enters.
    outputs = model([Value(float(v), label=f"x{i}") for i, v in enumerate(x)])
    if len(outputs) == 1:
        root = outputs[0]
        root.label = "score"
    else:
        root = losses.LOSSES[recipe.loss]([outputs], [target])
        root.label = "loss"
    model.zero_grad()
    root.backward()
    try:
        # collapse=3 folds values by (model, layer, neuron): one box per neuron.
        draw(root, collapse=3).save(path)
    except (OSError, RuntimeError, ValueError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        return first_line
    finally:
        model.zero_grad()
    return None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
