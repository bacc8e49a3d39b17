"""``python -m valuegrad.autograd``: draw an expression's graph, or print its value and gradient.

    python -m valuegrad.autograd draw "tanh(w*x + b)" x=2 w=-3 b=6.88 -o graph.svg
    python -m valuegrad.autograd grad "tanh(w*x + b)" x=2 w=-3 b=6.88

Expressions go through ``autograd.expr`` (a whitelist parser; nothing is
executed). Exit codes: 0 success, 1 a rendering or file problem, 2 bad input
(an ``-o`` ending in a slash or that is only an extension, such as ``.svg``, is bad input:
nothing is written). ``-o -`` writes the picture itself to standard output.
Every error is one line on standard error (an expression error adds the text with
carets under the offending part). If the reader of standard output goes away
(``... | head -1``) the command stops quietly with exit code 1, as Python's
documentation recommends for a broken pipe.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import sys
from pathlib import Path
from typing import NoReturn

from .core import Value, ops
from .core.files import write_bytes_atomic
from .expr import FUNCTIONS, PARAMETERS, ExpressionError, parse, parse_assignment
from .viz.draw import (
    DEFAULT_MAX_NODES,
    RANKDIRS,
    SAVE_FORMATS,
    DotNotFoundError,
    GraphTooLargeError,
    RenderError,
    draw,
)

__all__ = ["main"]

PROG = "python -m valuegrad.autograd"
EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
FORMATS = ("svg", "png", "dot", "html")

_WITH_PARAMETER = " and ".join(f"{name}(x, {param})" for name, param in PARAMETERS.items())
# How many arguments the others take, from the op table's arity (every other function takes one).
_PAIRS = " and ".join(f"{name}(x, y)" for name, op in ops.FUNCTIONS.items() if op.arity == 2)
_ANY_NUMBER = " and ".join(f"{name}(x, ...)" for name, op in ops.FUNCTIONS.items() if op.arity is ops.NARY)
_EPILOG = f"""\
expressions: numbers, variable names, + - * / **, unary -, and the functions
  {", ".join(FUNCTIONS)}
  (optional parameters: {_WITH_PARAMETER}; two arguments: {_PAIRS};
  any number of arguments: {_ANY_NUMBER}).
  Give every variable a value as name=value. Quote the expression for the shell;
  if it starts with '-', put '--' before it.
"""


class _UsageError(Exception):
    """Bad command-line input: reported in one line with exit code 2."""


class _OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (and exit code 2) instead of the usage block and a line."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog=prog,
        description="Draw the computation graph of an expression, or print its value and gradient.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{draw,grad}")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        """A subcommand taking an expression and its name=value assignments."""
        sub = commands.add_parser(
            name, help=help_text, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        sub.add_argument("expression", help='e.g. "tanh(w*x + b)"')
        sub.add_argument("assignments", nargs="*", metavar="name=value", help="e.g. x=2 w=-3 b=6.88")
        return sub

    draw_command = command("draw", "draw the graph (after backward, so gradients show) to SVG, PNG, DOT or HTML")
    draw_command.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="file to write (default graph.FORMAT); '-' writes the picture to standard output "
        "(SVG unless --format says otherwise; PNG is refused on a terminal)",
    )
    draw_command.add_argument("--format", choices=FORMATS, help="output format; default from the -o suffix, else svg")
    draw_command.add_argument("--edge-labels", action="store_true", help="write the local derivative on each edge")
    draw_command.add_argument(
        "--rankdir", choices=RANKDIRS, default="auto", help="layout direction (default auto: what fits a notebook)"
    )
    draw_command.add_argument("--precision", type=int, default=4, help="decimals shown (default 4)")
    draw_command.add_argument(
        "--max-nodes", type=int, default=DEFAULT_MAX_NODES, help=f"refuse bigger graphs (default {DEFAULT_MAX_NODES})"
    )

    grad_command = command("grad", "print the value and every partial derivative")
    grad_command.add_argument("--json", action="store_true", help="print JSON (nan/inf as strings)")
    return parser


def _evaluate(expression_text: str, assignments: list[str]) -> tuple[Value, dict[str, Value]]:
    """Parse, bind the variables to labelled leaves, evaluate and run backward."""
    expression = parse(expression_text)
    bound: dict[str, Value] = {}
    for assignment in assignments:
        name, number = parse_assignment(assignment)
        if name in bound:
            raise ExpressionError(f"{name} is given a value twice", assignment, 0, len(assignment.partition("=")[0]))
        if name not in expression.variables:
            known = ", ".join(expression.variables) or "none"
            message = f"{name} does not appear in the expression (its variables: {known})"
            raise ExpressionError(message, assignment, 0, len(assignment.partition("=")[0]))
        bound[name] = Value(number, label=name)
    result = expression.evaluate(bound)
    output = result if isinstance(result, Value) else Value(result)
    if output.label is None:
        output.label = "f" if "f" not in bound else "output"
    output.backward()
    return output, bound


def _format_float(x: float) -> str:
    return repr(x)


def _run_grad(arguments: argparse.Namespace) -> str:
    """The text ``grad`` prints."""
    output, bound = _evaluate(arguments.expression, arguments.assignments)
    if arguments.json:

        def jsonable(x: float) -> float | str:
            return x if math.isfinite(x) else repr(x)

        document = {
            "expression": arguments.expression,
            "at": {name: jsonable(v.data) for name, v in bound.items()},
            "value": jsonable(output.data),
            "gradient": {name: jsonable(v.grad) for name, v in bound.items()},
        }
        return json.dumps(document, ensure_ascii=False) + "\n"
    point = ", ".join(f"{name}={_format_float(v.data)}" for name, v in bound.items())
    lines = [f"f = {arguments.expression}" + (f"   at {point}" if point else ""), f"f = {_format_float(output.data)}"]
    lines += [f"df/d{name} = {_format_float(leaf.grad)}" for name, leaf in bound.items()]
    return "\n".join(lines) + "\n"


def _output_target(arguments: argparse.Namespace) -> tuple[Path | None, str]:
    """Where to write (None: standard output) and in which format."""
    output, chosen = arguments.output, arguments.format
    if output == "":
        raise _UsageError("-o needs a file name, or '-' for standard output")
    if output == "-":
        return None, chosen or "svg"
    if output is None:
        output_format = chosen or "svg"
        return Path(f"graph.{output_format}"), output_format
    _check_file_name(output)
    path = Path(output)
    from_suffix = SAVE_FORMATS.get(path.suffix.lower())
    if chosen and from_suffix and chosen != from_suffix:
        raise _UsageError(f"--format {chosen} contradicts the suffix of {output!r}; change one of them")
    return path, chosen or from_suffix or "svg"


def _check_file_name(output: str) -> None:
    """Refuse an -o that names a directory or is only an extension, before anything is written.

    ``Path("dir.html/")`` would drop the slash and write a file ``dir.html``; ``-o .html`` would
    write a hidden file named ``.html``.
    """
    separators = tuple(filter(None, (os.sep, os.altsep)))
    name = os.path.basename(output.rstrip("".join(separators)))
    if output.endswith(separators) or name in ("", ".", ".."):
        raise _UsageError(f"-o {output!r} names a directory; give a file name, e.g. {Path(output) / 'graph.svg'}")
    if name.lower() in SAVE_FORMATS:
        raise _UsageError(f"-o {output!r} is only an extension; give a file name, e.g. graph{name}")


def _run_draw(arguments: argparse.Namespace) -> str | bytes:
    """Render the picture; returns what goes to standard output (the picture itself for ``-o -``)."""
    target, output_format = _output_target(arguments)
    output, _ = _evaluate(arguments.expression, arguments.assignments)
    try:
        graph = draw(
            output,
            edge_labels=arguments.edge_labels,
            rankdir=arguments.rankdir,
            precision=arguments.precision,
            max_nodes=arguments.max_nodes,
        )
    except (ValueError, TypeError) as error:  # GraphTooLargeError, a bad --precision or --max-nodes
        raise _UsageError(str(error)) from None
    data = graph.render(output_format)
    if target is None:
        if output_format == "png" and sys.stdout.isatty():
            raise _UsageError("refusing to write PNG bytes to a terminal; use -o graph.png")
        return data
    write_bytes_atomic(target, data)
    return f"wrote {target} ({graph.node_count} nodes, {graph.edge_count} edges)\n"


def _emit(output: str | bytes, prog: str) -> int:
    """Write the command's output to standard output and flush it, so that write errors surface here."""
    try:
        if isinstance(output, bytes):
            sys.stdout.flush()
            sys.stdout.buffer.write(output)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(output)
            sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped reading (| head): not worth a message. Point standard output at
        # devnull so the interpreter's own flush at exit does not complain either.
        with contextlib.suppress(OSError, ValueError, AttributeError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, sys.stdout.fileno())
            finally:
                os.close(devnull)
        return EXIT_FAILED
    except OSError as error:  # > /dev/full
        sys.stderr.write(f"{prog}: error: cannot write to standard output: {error.strerror or error}\n")
        return EXIT_FAILED
    return EXIT_OK


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    """Run the command line; returns the exit code. ``prog`` names the program in help and errors."""
    arguments = _parser(prog).parse_args(argv)  # argparse itself exits with 2 on malformed options
    err = sys.stderr
    try:
        output = _run_grad(arguments) if arguments.command == "grad" else _run_draw(arguments)
    except ExpressionError as error:
        err.write(f"{prog}: error: {error}\n{error.pointer()}\n")
        return EXIT_BAD_INPUT
    except (_UsageError, GraphTooLargeError) as error:
        err.write(f"{prog}: error: {error}\n")
        return EXIT_BAD_INPUT
    except (DotNotFoundError, RenderError, OSError) as error:
        err.write(f"{prog}: error: {_describe(error)}\n")
        return EXIT_FAILED
    return _emit(output, prog)


def _describe(error: Exception) -> str:
    """One line for the user: an OSError without Python's "[Errno N]" prefix."""
    if isinstance(error, OSError) and error.strerror:
        return error.strerror + (f": {error.filename}" if error.filename else "")
    return str(error)
