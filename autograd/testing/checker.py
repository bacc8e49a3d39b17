"""Check a derivative worked out by hand against the engine, with a readable verdict.

:func:`check_derivative` is :func:`~.strategies.derivative_test` turned around for a
student: the engine's gradient is the reference and *your* derivative is on trial.
Hypothesis searches the domain for an input where they disagree, shrinks it to a simple
one, and the AssertionError names the input, which partial is wrong, the expected value
and the value got. :func:`explain_derivative` returns the same verdict as a string
instead of raising, so a notebook can print it and carry on.

>>> import math
>>> check_derivative(lambda x: x.tanh(), lambda x: 1 - math.tanh(x) ** 2)
>>> print(explain_derivative(lambda x: x * x, lambda x: x))
Wrong derivative at x = 1.0: expected 2.0 (the engine), got 1.0 (yours).
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Sequence

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ..core import Value
from .strategies import Bounds, _check_bounds, _intervals, as_partials, engine_partials, finite_floats

__all__ = ["check_derivative", "explain_derivative"]


def _names(f: Callable[..., Any], n: int) -> list[str]:
    """The names of ``f``'s first ``n`` parameters, or x0, x1, ... when it has none to read."""
    try:
        params = [
            p.name
            for p in inspect.signature(f).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        ]
    except (TypeError, ValueError):
        params = []
    if len(params) >= n:
        return params[:n]
    return ["x"] if n == 1 else [f"x{i}" for i in range(n)]


def _at(names: Sequence[str], xs: Sequence[float]) -> str:
    return ", ".join(f"{name} = {x!r}" for name, x in zip(names, xs))


def _verdict(
    f: Callable[..., Value],
    derivative: Callable[..., Any],
    xs: tuple[float, ...],
    names: Sequence[str],
    rel_tol: float,
    abs_tol: float,
) -> str | None:
    """None if ``derivative`` agrees with the engine at ``xs``, else what is wrong, in words."""
    expected = engine_partials(f, xs)
    where = _at(names, xs)
    want = expected[0] if len(xs) == 1 else tuple(expected)
    try:
        answer = derivative(*xs)
    except Exception as error:  # a student's half-written answer may raise anything
        return f"Your derivative raised at {where}: expected {want!r}, got {type(error).__name__}: {error}"
    got = as_partials(answer) if isinstance(answer, (int, float, tuple, list)) else [answer]
    if len(got) != len(xs):
        return f"Wrong number of partials at {where}: expected {len(xs)} {want!r}, got {len(got)} {answer!r}"
    for name, want, have in zip(names, expected, got):
        ok = isinstance(have, (int, float)) and math.isclose(want, have, rel_tol=rel_tol, abs_tol=abs_tol)
        if not ok:
            which = "Wrong derivative" if len(xs) == 1 else f"Wrong partial derivative with respect to {name}"
            return f"{which} at {where}: expected {want!r} (the engine), got {have!r} (yours)."
    return None


def check_derivative(
    f: Callable[..., Value],
    derivative: Callable[..., Any],
    *,
    domain: Bounds = (-5.0, 5.0),
    kinks: Sequence[float] = (),
    margin: float = 1e-3,
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-9,
    max_examples: int = 200,
) -> None:
    """Raise AssertionError unless ``derivative`` equals the engine's gradient of ``f`` on ``domain``.

    ``f`` takes Values (``lambda x: x.tanh()``); ``derivative`` takes floats and returns the
    derivative (one input) or the tuple of partial derivatives (several inputs, in ``f``'s
    order). ``domain`` is ``(lo, hi)`` for one input or a list of ``(lo, hi)``, one per
    input; points within ``margin`` of a ``kink`` (in any input) are not tried, since a
    kink has no derivative to agree on. Hypothesis looks for a disagreement and shrinks it;
    the message names the input, the wrong partial, the expected value and the value got.

    >>> check_derivative(lambda x: x.relu(), lambda x: 1.0 if x > 0 else 0.0, kinks=[0.0])
    >>> check_derivative(lambda w, x: w * x, lambda w, x: (w, x), domain=[(-2, 2), (-2, 2)])
    Traceback (most recent call last):
    ...
    AssertionError: Wrong partial derivative with respect to w at w = 0.0, x = 1.0: expected 1.0 ...
    """
    message = _search(f, derivative, domain, kinks, margin, rel_tol, abs_tol, max_examples)
    if message is not None:
        raise AssertionError(message)


def explain_derivative(
    f: Callable[..., Value],
    derivative: Callable[..., Any],
    *,
    domain: Bounds = (-5.0, 5.0),
    kinks: Sequence[float] = (),
    margin: float = 1e-3,
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-9,
    max_examples: int = 200,
) -> str:
    """:func:`check_derivative`'s verdict as a string (starting "Right" or "Wrong"), never raising.

    >>> print(explain_derivative(lambda x: x.exp(), lambda x: 2.718281828459045 ** x))
    Right: your derivative matches the engine at every input tried.
    """
    message = _search(f, derivative, domain, kinks, margin, rel_tol, abs_tol, max_examples)
    return "Right: your derivative matches the engine at every input tried." if message is None else message


def _search(
    f: Callable[..., Value],
    derivative: Callable[..., Any],
    domain: Bounds,
    kinks: Sequence[float],
    margin: float,
    rel_tol: float,
    abs_tol: float,
    max_examples: int,
) -> str | None:
    """Hypothesis's smallest input where ``derivative`` is wrong, as a message; None if none was found."""
    if not callable(f) or not callable(derivative):
        raise TypeError("check_derivative(f, derivative, ...): both must be callables")
    intervals = _intervals(domain)
    for lo, hi in intervals:
        _check_bounds(lo, hi, "check_derivative(domain)")
    names = _names(f, len(intervals))

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        derandomize=True,
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
    )
    @given(st.tuples(*(finite_floats(lo, hi) for lo, hi in intervals)))
    def search(xs: tuple[float, ...]) -> None:
        assume(all(abs(x - k) > margin for x in xs for k in kinks))
        message = _verdict(f, derivative, xs, names, rel_tol, abs_tol)
        if message is not None:
            raise AssertionError(message)

    try:
        search()
    except AssertionError as failure:
        first = str(failure).splitlines()[0] if str(failure) else repr(failure)
        return first
    return None
