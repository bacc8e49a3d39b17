"""The ``valuegrad`` command: ``train`` (from ``valuegrad.nn``), ``draw`` and ``grad`` (from ``valuegrad.autograd``).

Each subcommand is its package's own command line run under the name ``valuegrad``, so
``valuegrad train ...`` and ``python -m valuegrad.nn train ...`` are one program. Only the chosen
package is imported: ``valuegrad --help`` imports neither.

Ctrl-C prints one line and exits with status 130, SIGTERM one line and 143, from the line that
installs the handlers on (imports included), never a traceback; a ``dot`` still running is killed with
its process group first. A signal whose exception Python would drop (raised in a weakref
callback, as importlib's run all through an import) is delivered again, so it is never lost.

Before this module's first line only CPython runs: its start-up, ``site``, and for the console
script the installer's wrapper with its own ``import re``. No package can reach that window
(about 10 to 45 ms after the process starts: ``benchmarks/signal_window.py`` measures it);
a Ctrl-C there gets CPython's own behaviour. ``valuegrad/__init__`` imports nothing, and this
module's statements before the handlers call only built-ins (some microseconds), so the window
is no longer than that.
"""

# No ``from __future__ import annotations``: at run time it imports the module ``__future__``, a file
# read before the handlers below exist (a Ctrl-C landed there). The annotations here need none.
import _thread as _threads  # built in, and loaded already by the import system
import os  # os and sys are loaded when the interpreter starts: these cost nothing
import sys

try:  # the C module behind ``signal``: it loads at once, where ``signal`` takes 10 ms (enum)
    import _signal as _signals
except ImportError:  # another Python
    import signal as _signals  # type: ignore[no-redef]


def _on_signal(signum: int, frame: object) -> None:
    """SIGINT (Ctrl-C) and SIGTERM: one line and exit 130 or 143, never a traceback.

    Inside ``main``'s work the first signal raises (``KeyboardInterrupt``, or ``SystemExit(143)``
    for SIGTERM), so every ``finally`` runs: a ``dot`` being waited for has its process group
    killed, a half-written file is removed. Before that work starts or after it ends (imports,
    shutdown), and for a second signal, there is nothing to clean up: say so and leave at once.
    So too inside an import (numpy's, under matplotlib): an exception raised into a C extension's
    initialisation can leave it half made, and one such extension then crashed the process
    (SIGSEGV, after numpy printed "_multiarray_umath failed to import").
    """
    status = 128 + signum
    first = not _state["signalled"]
    _state["signalled"] = True
    if _state["guarded"] and first and not _importing(frame):
        _state["raising"] = signum
        if signum == _signals.SIGINT:
            raise KeyboardInterrupt
        if not _state["said"]:
            _say("terminated")
        raise SystemExit(status)
    if first and not _state["said"]:
        _say("interrupted" if signum == _signals.SIGINT else "terminated")
    for stream in (sys.stdout, sys.stderr):  # what the command printed so far is kept
        try:  # noqa: SIM105 - contextlib is not imported yet when the handlers are installed
            stream.flush()
        except Exception:  # a stream closed, or mid-write where the signal landed
            pass
    os._exit(status)


def _importing(frame: object) -> bool:
    """Whether the interrupted code runs inside an import (a frame of importlib's bootstrap below it)."""
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):  # type: ignore[attr-defined]
            return True
        frame = frame.f_back  # type: ignore[attr-defined]
    return False


def _on_unraisable(unraisable: object) -> None:
    """An exception Python drops: the signal's, raised inside a weakref callback or a ``__del__``
    (importlib's module locks run such callbacks all through an import), would be printed as
    "Exception ignored" while the work ran on. Deliver the signal again instead, so that it lands
    in the work itself; anything else goes to Python's own hook. It is sent from another thread:
    sent from here, it would be handled at once, here, and dropped again."""
    signum = _state["raising"]
    if signum and isinstance(getattr(unraisable, "exc_value", None), (KeyboardInterrupt, SystemExit)):
        _state["signalled"] = False  # not a second signal: the first one, again
        try:
            _threads.start_new_thread(os.kill, (os.getpid(), signum))
        except RuntimeError:  # no new threads (the interpreter is shutting down): leave now
            _say("interrupted" if signum == _signals.SIGINT else "terminated")
            os._exit(128 + signum)
        return
    sys.__unraisablehook__(unraisable)  # type: ignore[arg-type]


def _say(what: str) -> None:
    _state["said"] = True
    try:  # noqa: SIM105 - contextlib is not imported yet when the handlers are installed
        os.write(2, f"{PROG}: {what}\n".encode())
    except OSError:
        pass


def _run_as_the_command() -> bool:
    """Whether this module is the ``valuegrad`` command (its console script, or ``python -m valuegrad``),
    not imported by a program of someone else's (a test runner, a notebook) whose signals are its own."""
    if __name__ == "__main__":
        return True
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    for ending in ("-script.pyw", "-script.py", ".exe"):
        name = name[: -len(ending)] if name.endswith(ending) else name
    return name == "valuegrad"


PROG = "valuegrad"
_state = {"guarded": False, "signalled": False, "said": False, "installed": False, "raising": 0}
# First thing: from here on Ctrl-C and SIGTERM are one line, never a traceback (the command's
# choice: the library installs no handlers).
if _run_as_the_command():
    for _signal in (_signals.SIGINT, _signals.SIGTERM):
        try:
            _signals.signal(_signal, _on_signal)
        except ValueError:  # not the main thread: leave the signals alone
            break
        _state["installed"] = True
    if _state["installed"]:
        sys.unraisablehook = _on_unraisable

import contextlib  # noqa: E402 - after the handlers, so an interrupt here is one line too
from collections.abc import Sequence  # noqa: E402

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
    """Dispatch to the chosen subcommand; return the exit status (2 for a usage mistake, 130 for Ctrl-C)."""
    _state["guarded"] = True
    try:
        status = _dispatch(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        if not _state["said"]:
            _say("interrupted")
        status = 130
    except SystemExit as stop:
        if not (_state["signalled"] and stop.code == 143):
            raise
        status = 143
    finally:
        _state["guarded"] = False
    if _state["signalled"] and _state["installed"]:
        _leave(status)
    return status


def _leave(status: int) -> None:
    """Exit at once after a signal, streams flushed: an import it interrupted (numpy's, under
    matplotlib) can leave a C extension half made, and the interpreter's own shutdown crash on it."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status)


def _dispatch(args: list[str]) -> int:
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
