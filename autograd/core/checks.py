"""The shared argument checks: every public numeric or flag argument goes through these.

One place decides what counts as a number (an int or a float, never a bool), how a too-large
int is reported, and how the message reads: ``"{where}: {name} must be ..., got {what}"``.
Each check returns the cleaned value, so callers write ``lr = checks.positive(lr, "lr", where)``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from typing import Any

__all__ = [
    "argnums",
    "chosen_argnums",
    "describe",
    "flag",
    "function",
    "integer",
    "nonnegative",
    "positive",
    "real",
    "unit_interval",
]


def describe(x: object) -> str:
    """How a message shows a bad argument: its type, and its value when short."""
    text = repr(x)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(x).__name__} {text}"


def _fail(where: str, name: str, must: str, x: object, kind: type[Exception] = ValueError) -> Exception:
    prefix = f"{where}: " if where else ""
    return kind(f"{prefix}{name} must be {must}, got {describe(x)}")


def real(x: object, name: str, where: str = "", *, finite: bool = True) -> float:
    """An int or a float (not a bool) as a float; finite unless ``finite=False``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real):
        raise _fail(where, name, "a number (an int or a float)", x, TypeError)
    try:
        value = float(x)
    except OverflowError:
        raise _fail(where, name, "a number that fits in a float (|x| < 1.8e308)", x) from None
    if finite and not math.isfinite(value):
        raise _fail(where, name, "a finite number", x)
    return value


def positive(x: object, name: str, where: str = "") -> float:
    """A finite number > 0."""
    value = real(x, name, where)
    if not value > 0:
        raise _fail(where, name, "a finite number > 0", x)
    return value


def nonnegative(x: object, name: str, where: str = "") -> float:
    """A finite number >= 0."""
    value = real(x, name, where)
    if not value >= 0:
        raise _fail(where, name, "a finite number >= 0", x)
    return value


def unit_interval(x: object, name: str, where: str = "", *, closed: bool = False) -> float:
    """A number in [0, 1) (or [0, 1] when ``closed``): momenta, betas, dropout-style rates."""
    value = real(x, name, where)
    if not (0 <= value <= 1 if closed else 0 <= value < 1):
        raise _fail(where, name, "in [0, 1]" if closed else "in [0, 1)", x)
    return value


def integer(x: object, name: str, where: str = "", *, low: int | None = None, high: int | None = None) -> int:
    """A whole number (an int, not a bool) within ``[low, high]`` where given."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):
        raise _fail(where, name, "a whole number (an int)", x, TypeError)
    value = int(x)
    if (low is not None and value < low) or (high is not None and value > high):
        bounds = (
            f"between {low} and {high}"
            if low is not None and high is not None
            else (f">= {low}" if low is not None else f"<= {high}")
        )
        raise _fail(where, name, f"a whole number {bounds}", x)
    return value


def flag(x: object, name: str, where: str = "") -> bool:
    """A real bool: ``True`` or ``False`` (1, 0 and None are mistakes, not flags)."""
    if not isinstance(x, bool):
        raise _fail(where, name, "True or False", x, TypeError)
    return x


def function(x: object, name: str, where: str = "") -> Callable[..., Any]:
    """Something callable."""
    if not callable(x):
        raise _fail(where, name, "callable (a function)", x, TypeError)
    return x


# ------------------------------------------------------------------ transforms' arguments


def argnums(argnums: object, where: str) -> tuple[int, ...]:
    """``argnums`` as a tuple, checked when the transform is made (range is checked per call)."""
    if isinstance(argnums, (tuple, list)):
        if not argnums:
            raise ValueError(f"{where}: argnums must name at least one argument, got {argnums!r}")
        return tuple(integer(i, f"argnums[{k}]", where) for k, i in enumerate(argnums))
    return (integer(argnums, "argnums", where),)


def chosen_argnums(argnums: tuple[int, ...], nargs: int, where: str) -> tuple[int, ...]:
    """``argnums`` fitted to a call with ``nargs`` positional arguments (negative ones count from the end)."""
    for i in argnums:
        if not -nargs <= i < nargs:
            raise ValueError(f"{where}: argnums {i} does not fit a call with {nargs} positional arguments")
    return tuple(i % nargs for i in argnums)
