"""Tracing: run a function on Values once and record what a replay must reproduce.

Tracing is a mode of the engine, held in the same per-context ``State`` as ``no_grad`` and
``scope`` (``core.modes.tracing``): nothing is patched, and other threads and async tasks
keep computing eagerly while one traces. In the tracing context:

* every node made is a ``core.value.Traced``, whose number is watched: a read of ``.data``
  from outside the engine's core is reported here, as are ``float(x)`` (so ``math.*``),
  ``x.item()``, ``repr``/``str`` and order comparisons (``x > 0``) of any Value. Each report
  becomes a *guard*: the replay is valid only while that comparison gives the same answer,
  or that read the same number.
* leaves made by ``Value(...)`` are constants of the function; ``x.detach()`` is recorded
  as an op of the trace (the replay recomputes it from the current inputs, with no gradient).
* what a replay cannot reproduce is refused with ``CompileError`` naming the call:
  ``no_grad()``, ``backward()``, float ``gradients()``, ``gradcheck``, and a function transform
  that would answer floats (one not inside ``jit``'s own level): their numbers would be frozen.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Iterator

from ..core import Value
from ..core.modes import STATE, Tracer, tracing
from ..core.value import Traced

# The engine is the whole autograd package (this file's grandparent), subpackages included.
_ENGINE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ENGINE_TREE = _ENGINE_DIR + os.sep
_USER_TREE = os.path.join(_ENGINE_DIR, "testing") + os.sep  # test helpers count as user code
# Reads of ``.data`` from here are the engine computing ops on the node, not a number leaving it.
_CORE_TREE = os.path.join(_ENGINE_DIR, "core") + os.sep


class CompileError(Exception):
    """A function cannot be compiled (or its guards keep failing); the message says why and where."""


@dataclass(frozen=True)
class Guard:
    """One fact the trace relied on. ``kind`` is a comparison symbol, or ``'=='`` for a read value."""

    left: Value
    kind: str
    right: Any  # a Value, or a float
    result: Any  # the bool a comparison gave, or the float a read returned
    place: str  # file:line of the code that asked


_CONTEXTLIB = os.path.abspath(contextlib.__file__)  # a ``with`` of ours passes through it
_IN_ENGINE: dict[str, bool] = {}
_IN_CORE: dict[str, bool] = {}


def _in_engine(filename: str) -> bool:
    """Is this file one of the engine's own modules (under ``autograd/``, not ``autograd/testing``)?"""
    known = _IN_ENGINE.get(filename)
    if known is None:
        path = os.path.abspath(filename)
        ours = path.startswith(_ENGINE_TREE) and not path.startswith(_USER_TREE)
        known = _IN_ENGINE[filename] = ours or path == _CONTEXTLIB
    return known


def _in_core(filename: str) -> bool:
    """Is this file one of ``autograd/core``'s modules (the ops, the nodes, the sweep)?"""
    known = _IN_CORE.get(filename)
    if known is None:
        known = _IN_CORE[filename] = os.path.abspath(filename).startswith(_CORE_TREE)
    return known


def _place(depth: int) -> str:
    """file:line of the first caller outside the engine: where the user's code asked."""
    frame = sys._getframe(depth + 1)
    while frame.f_back is not None and _in_engine(frame.f_code.co_filename):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


@dataclass
class Recording(Tracer):
    """What one trace saw: guards, the leaves made during the call, and detached values."""

    guards: list[Guard] = field(default_factory=list)
    made: dict[int, Value] = field(default_factory=dict)  # leaves made during the call, by id
    sources: dict[int, Value] = field(default_factory=dict)  # id of x.detach()'s result -> x
    numbers: set[int] = field(default_factory=set)  # inputs the eager call passes as floats, by id

    def leaf(self, value: Any) -> None:
        self.made[id(value)] = value

    def read(self, value: Any, number: float, depth: int) -> None:
        if depth and _in_core(sys._getframe(depth).f_code.co_filename):
            return  # the engine computing an op on the node
        self.guards.append(Guard(value, "==", None, number, _place(1)))

    def compared(self, left: Any, symbol: str, right: Any, result: bool) -> None:
        right = right if right.__class__ is Value else float(right)
        self.guards.append(Guard(left, symbol, right, result, _place(1)))

    def detached(self, out: Any, source: Any) -> None:
        self.made.pop(id(out), None)
        out.__class__ = Traced  # its number changes with the inputs, so reads of it are guarded
        self.sources[id(out)] = source

    def refuse(self, what: str) -> None:
        raise CompileError(
            f"jit: {what} at {_place(1)} inside a compiled function: its numbers would be frozen at "
            "their traced values in every replay. Compute it outside the compiled function and pass the "
            "result in as an argument (or compile the function it transforms)."
        )


@contextlib.contextmanager
def recording(numbers: set[int] | None = None) -> Iterator[Recording]:
    """Record this context's computation (and only this context's) until the block ends.

    ``numbers``: ids of the inputs the eager call passes as plain floats (see ``core.nary``).
    """
    if STATE.get().trace is not None:
        raise CompileError("a compiled function was called while another one was being traced; compile the outer one")
    record = Recording(numbers=numbers or set())
    with tracing(record):
        yield record
