"""Tracing: run a function on Values once and record what a replay must reproduce.

While ``recording()`` is open, the ``Value`` methods through which data reaches Python
control flow report to the recorder: the comparisons (``x > 0``), ``float(x)`` and reads
of ``x.data`` from code outside the engine. Each report becomes a *guard*: the replay is
valid only while that comparison gives the same answer, or that read the same number.
It also notes which leaves were made during the call (constants of the function, not
inputs) and refuses what a replay cannot reproduce (``no_grad`` inside, backward hooks).

The patches are on the ``Value`` class and so process-wide for the duration of one trace:
trace in one thread at a time.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .. import core as engine
from ..core import Value

# The engine is the whole autograd package (this file's grandparent), subpackages included.
_ENGINE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_ENGINE_TREE = _ENGINE_DIR + os.sep
_USER_TREE = os.path.join(_ENGINE_DIR, "testing") + os.sep  # test helpers count as user code
_COMPARISONS = {"__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}


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


@dataclass
class Recording:
    guards: list[Guard] = field(default_factory=list)
    made: dict[int, Value] = field(default_factory=dict)  # leaves made during the call, by id


_ACTIVE: list[Recording] = []


_IN_ENGINE: dict[str, bool] = {}


def _in_engine(filename: str) -> bool:
    """Is this file one of the engine's own modules (under ``autograd/``, not ``autograd/testing``)?"""
    known = _IN_ENGINE.get(filename)
    if known is None:
        path = os.path.abspath(filename)
        known = _IN_ENGINE[filename] = path.startswith(_ENGINE_TREE) and not path.startswith(_USER_TREE)
    return known


def _outside_engine(depth: int) -> bool:
    """True if the caller ``depth`` frames up is user code, not the engine reading its own nodes."""
    return not _in_engine(sys._getframe(depth + 1).f_code.co_filename)


def _place(depth: int) -> str:
    """file:line of the first caller outside the engine: where the user's code asked."""
    frame = sys._getframe(depth + 1)
    while frame.f_back is not None and _in_engine(frame.f_code.co_filename):
        frame = frame.f_back
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


def _comparison(name: str, symbol: str, original: Callable[..., Any]) -> Callable[..., Any]:
    def compare(self: Value, other: Any) -> Any:
        result = original(self, other)
        if result is not NotImplemented and _ACTIVE:
            right = other if other.__class__ is Value else float(other)
            _ACTIVE[-1].guards.append(Guard(self, symbol, right, result, _place(1)))
        return result

    compare.__name__ = name
    return compare


@contextlib.contextmanager
def recording() -> Iterator[Recording]:
    """Patch ``Value`` so the trace sees every way its data reaches Python; undo on exit."""
    if _ACTIVE:
        raise CompileError("a compiled function was called while another one was being traced; compile the outer one")
    record = Recording()
    slot = Value.__dict__["data"]
    saved = {name: Value.__dict__[name] for name in (*_COMPARISONS, "__float__", "__init__", "data")}
    original_init = Value.__init__

    def read_data(self: Value) -> float:
        value: float = slot.__get__(self, Value)
        if _outside_engine(1):
            record.guards.append(Guard(self, "==", None, value, _place(1)))
        return value

    def as_float(self: Value) -> float:
        value: float = slot.__get__(self, Value)
        record.guards.append(Guard(self, "==", None, value, _place(1)))
        return value

    def init(self: Value, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        record.made[id(self)] = self

    patches: dict[str, Any] = {name: _comparison(name, symbol, saved[name]) for name, symbol in _COMPARISONS.items()}
    patches.update(__float__=as_float, __init__=init, data=property(read_data, slot.__set__))
    _ACTIVE.append(record)
    old_no_grad = engine.no_grad.__enter__
    engine.no_grad.__enter__ = _refuse_no_grad  # type: ignore[method-assign]
    try:
        for name, patch in patches.items():
            setattr(Value, name, patch)
        yield record
    finally:
        for name, original in saved.items():
            setattr(Value, name, original)
        engine.no_grad.__enter__ = old_no_grad  # type: ignore[method-assign]
        _ACTIVE.pop()


def _refuse_no_grad(self: Any) -> None:
    raise CompileError(
        f"no_grad() at {_place(1)} inside a compiled function: values made there would be frozen at "
        "their traced numbers. Compute them outside and pass them in as arguments."
    )
