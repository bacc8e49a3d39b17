"""``gradcheck``: compare the engine's gradients with two-sided finite differences.

The numeric derivative of ``f`` in input ``i`` is the central difference

    (f(x + eps·e_i) - f(x - eps·e_i)) / (2·eps)

in float64, whose error is O(eps²) plus rounding of order ulp(f)/eps. An analytic
value ``a`` and a numeric value ``n`` agree when the absolute error ``|a - n|`` is
at most ``atol`` *or* the relative error ``|a - n| / (|a| + |n|)`` -- the form used
in the lectures (and CS231n), symmetric and bounded by 1 -- is at most ``rtol``.

The defaults are much tighter than PyTorch's (atol 1e-5, rtol 1e-3), because float64
central differences are that good. ``rtol = 1e-6`` is the lecture's threshold (Toronto
CSC311 lecture 4, "Gradient Checking": the relative error "should be very small, e.g.
1e-6"). ``atol = 1e-8`` is the rounding floor: one ulp of f over 2·eps is below 1e-8
for |f| < 128, and the worst correct gradient measured across the property tests (a
2000-example run) missed by 2.8e-9 in absolute terms, and by at most 5e-9 in relative
terms where the absolute error exceeded 1e-8. PyTorch's looser pair would pass a
gradient 0.05 % wrong (relative error 2.5e-4) and a lost path whose true derivative is
2.6e-6; these defaults fail both. For |f| in the hundreds or more, pass a larger atol.

Besides the numbers, ``gradcheck`` checks two properties every correct reverse
pass has: running backward twice on the same graph gives the same gradients, and
the gradients are linear in the seed (``backward(0.0)`` leaves zeros,
``backward(2.0)`` gives exactly twice ``backward(1.0)``). With ``order=2`` it also
differentiates the gradient graph (``create_graph=True``) and compares the
second derivatives with central differences of the first-order gradients.

>>> from valuegrad.autograd import gradcheck
>>> gradcheck(lambda x, y: (x * y).tanh() + x.exp(), 0.3, -1.2)
True
>>> gradcheck(lambda x: x * x.data, 1.5, raise_exception=False)  # .data cuts the graph
False
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .core import Value, gradients
from .core.modes import transform_level

__all__ = ["GradcheckError", "gradcheck"]

_SEED_ATOL = 1e-300  # below any meaningful gradient: only subnormal rounding is forgiven
_SEED_RTOL = 1e-12


class GradcheckError(AssertionError):
    """A gradient check failed; the message is a table of what was compared.

    ``rows`` holds one :class:`Comparison` per compared derivative, failing or not.
    """

    def __init__(self, message: str, rows: Sequence[Comparison] = ()) -> None:
        super().__init__(message)
        self.rows: tuple[Comparison, ...] = tuple(rows)


@dataclass(frozen=True)
class Comparison:
    """One derivative, computed two ways.

    ``what`` names it (``'d/dx[1]'``, ``'d²/dx[0]dx[1]'``); ``expected`` is the
    reference (the finite difference, or the seed-1 gradient scaled).
    """

    what: str
    analytic: float
    expected: float
    atol: float
    rtol: float

    @property
    def abs_error(self) -> float:
        return abs(self.analytic - self.expected)

    @property
    def rel_error(self) -> float:
        """|a - b| / (|a| + |b|), 0 when both are 0 (nan if either is nan)."""
        scale = abs(self.analytic) + abs(self.expected)
        if scale == 0.0:
            return 0.0
        if math.isinf(scale):  # equal infinities agree, anything else is maximally wrong
            return 0.0 if self.analytic == self.expected else 1.0
        return self.abs_error / scale

    @property
    def ok(self) -> bool:
        if math.isnan(self.analytic) or math.isnan(self.expected):
            return False
        return self.abs_error <= self.atol or self.rel_error <= self.rtol


def _table(title: str, rows: Sequence[Comparison], analytic: str, expected: str) -> str:
    header = ("", "input", analytic, expected, "abs err", "rel err")
    body = [
        (
            "" if r.ok else "✗",
            r.what,
            f"{r.analytic:.10g}",
            f"{r.expected:.10g}",
            f"{r.abs_error:.3g}",
            f"{r.rel_error:.3g}",
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(w) if i > 1 else cell.ljust(w) for i, (cell, w) in enumerate(zip(line, widths)))
             for line in [header, *body]]  # fmt: skip
    return "\n".join([title, *(line.rstrip() for line in lines)])


def _as_float(x: object, i: int) -> float:
    if isinstance(x, Value):
        return x.data
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        return float(x)
    raise TypeError(f"gradcheck: input {i} is a {type(x).__name__}; pass floats (or Values, whose .data is used)")


def _evaluate(f: Callable[..., Any], xs: Sequence[float]) -> tuple[Any, list[Value]]:
    """Call ``f`` on fresh leaves; return its output (a Value, or a plain number) and the leaves."""
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    if isinstance(out, Value):
        return out, leaves
    if isinstance(out, numbers.Real) and not isinstance(out, bool):
        return float(out), leaves  # f ignored its inputs (or cut the graph): every gradient is 0
    raise TypeError(f"gradcheck: f must return a scalar Value (or a number), got {type(out).__name__}")


def _data(out: Any) -> float:
    return out.data if isinstance(out, Value) else float(out)


def _first_derivatives(f: Callable[..., Any], xs: Sequence[float]) -> list[float]:
    out, leaves = _evaluate(f, xs)
    if not isinstance(out, Value):
        return [0.0] * len(xs)
    return [float(g) for g in gradients(out, leaves)]


def _central_differences(g: Callable[[Sequence[float]], float], xs: Sequence[float], eps: float) -> list[float]:
    numeric = []
    for i in range(len(xs)):
        plus, minus = list(xs), list(xs)
        plus[i] += eps
        minus[i] -= eps
        numeric.append((g(plus) - g(minus)) / (2.0 * eps))
    return numeric


def _fail(
    title: str, rows: list[Comparison], raise_exception: bool, analytic: str = "analytic", expected: str = "numeric"
) -> bool:
    if all(r.ok for r in rows):
        return True
    if raise_exception:
        raise GradcheckError(_table(title, rows, analytic, expected), rows)
    return False


@dataclass(frozen=True)
class _Tolerances:
    """One call's checked tolerances and what a failure does: what every check below needs, in one argument."""

    eps: float
    atol: float
    rtol: float
    raise_exception: bool
    legend: str  # the line under a failure table's title: the tolerances it was judged by


@transform_level("gradcheck")  # a transform: records inside no_grad, and a grad(f) it checks stays differentiable
def gradcheck(
    f: Callable[..., Any],
    *inputs: float | Value,
    eps: float = 1e-6,
    atol: float = 1e-8,
    rtol: float = 1e-6,
    order: int = 1,
    raise_exception: bool = True,
) -> bool:
    """Check ``f``'s gradients at ``inputs`` against central differences in float64.

    ``f`` takes one ``Value`` per input and returns a scalar ``Value``. Returns
    True when every check passes; otherwise raises :class:`GradcheckError` (an
    ``AssertionError``, so it reads as a test failure) whose message is a table of
    input, analytic, numeric, absolute and relative error -- or returns False if
    ``raise_exception=False``.

    ``order=2`` additionally checks every second derivative: the engine's
    ``create_graph=True`` gradient, differentiated again, against central
    differences of the engine's first-order gradient.

    >>> gradcheck(lambda x: x.sin() * x, 0.7, order=2)
    True
    >>> gradcheck(lambda x: x * x.data, 2.0)
    Traceback (most recent call last):
    ...
    valuegrad.autograd.gradient_check.GradcheckError: gradcheck: analytic and numeric first derivatives disagree
    (eps=1e-06, atol=1e-08, rtol=1e-06, ✗ marks a failure)
       input    analytic  numeric  abs err  rel err
    ✗  d/dx[0]         2        4        2    0.333
    """
    xs = _checked_inputs(f, inputs, eps, atol, rtol, order)
    legend = f"\n(eps={eps:g}, atol={atol:g}, rtol={rtol:g}, ✗ marks a failure)"
    settings = _Tolerances(eps, atol, rtol, raise_exception, legend)
    out, leaves = _evaluate(f, xs)
    if not math.isfinite(_data(out)):
        raise ValueError(f"gradcheck: f is {_data(out)} at {xs}; check gradients at a point where f is finite")
    analytic = [0.0] * len(xs) if not isinstance(out, Value) else [float(g) for g in gradients(out, leaves)]
    if not _first_derivatives_agree(f, xs, analytic, settings):
        return False
    if isinstance(out, Value):
        if not _second_pass_repeats(out, leaves, analytic, settings):
            return False
        if not _linear_in_the_seed(f, xs, analytic, settings):
            return False
    if order == 2:
        return _second_derivatives_agree(f, xs, out, leaves, settings)
    return True


def _checked_inputs(
    f: object, inputs: Sequence[object], eps: object, atol: object, rtol: object, order: object
) -> list[float]:
    """Refuse a bad call before ``f`` runs, each mistake named; return the inputs as floats."""
    if not callable(f):
        raise TypeError(f"gradcheck: f must be callable, got {type(f).__name__}")
    if not inputs:
        raise ValueError("gradcheck: pass at least one input after f, e.g. gradcheck(f, 0.5)")
    if order not in (1, 2):
        raise ValueError(f"gradcheck: order must be 1 or 2, got {order!r}")
    for name, v in (("eps", eps), ("atol", atol), ("rtol", rtol)):
        if not isinstance(v, numbers.Real) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
            raise ValueError(f"gradcheck: {name} must be a finite number >= 0, got {v!r}")
    if eps == 0:
        raise ValueError("gradcheck: eps must be > 0")
    xs = [_as_float(x, i) for i, x in enumerate(inputs)]
    bad = [i for i, x in enumerate(xs) if not math.isfinite(x)]
    if bad:
        raise ValueError(f"gradcheck: inputs must be finite, input {bad[0]} is {xs[bad[0]]}")
    return xs


def _first_derivatives_agree(
    f: Callable[..., Any], xs: Sequence[float], analytic: Sequence[float], settings: _Tolerances
) -> bool:
    """Check 1: the engine's gradient against central differences of ``f``."""
    numeric = _central_differences(lambda p: _data(_evaluate(f, p)[0]), xs, settings.eps)
    rows = [
        Comparison(f"d/dx[{i}]", a, n, settings.atol, settings.rtol) for i, (a, n) in enumerate(zip(analytic, numeric))
    ]
    title = f"gradcheck: analytic and numeric first derivatives disagree{settings.legend}"
    return _fail(title, rows, settings.raise_exception)


def _second_pass_repeats(out: Value, leaves: list[Value], analytic: Sequence[float], settings: _Tolerances) -> bool:
    """Check 2: a second backward pass over the same graph gives the same numbers, bit for bit."""
    again = [float(g) for g in gradients(out, leaves)]
    rows = [Comparison(f"d/dx[{i}]", b, a, 0.0, 0.0) for i, (a, b) in enumerate(zip(analytic, again))]
    title = "gradcheck: a second backward pass over the same graph gave different gradients"
    return _fail(title, rows, settings.raise_exception, "2nd pass", "1st pass")


def _linear_in_the_seed(
    f: Callable[..., Any], xs: Sequence[float], analytic: Sequence[float], settings: _Tolerances
) -> bool:
    """Check 3: backward(0) leaves zeros, backward(2) doubles.

    Scaling by 2 is exact in binary floating point except where products go subnormal,
    hence the tiny tolerances.
    """
    for seed in (0.0, 2.0):
        seeded, fresh = _evaluate(f, xs)
        seeded.backward(seed)  # same f, same inputs: a Value again
        rows = [
            Comparison(f"d/dx[{i}]", leaf.grad, seed * a, _SEED_ATOL, _SEED_RTOL)
            for i, (leaf, a) in enumerate(zip(fresh, analytic))
        ]
        title = f"gradcheck: backward({seed:g}) is not {seed:g} × backward(1): gradients must be linear in the seed"
        if not _fail(title, rows, settings.raise_exception, f"seed {seed:g}", f"{seed:g} × seed 1"):
            return False
    return True


def _second_derivatives_agree(
    f: Callable[..., Any], xs: Sequence[float], out: Any, leaves: list[Value], settings: _Tolerances
) -> bool:
    """Check 4 (``order=2``): differentiate the create_graph gradient, compare with differences of gradients."""
    hessian = [[0.0] * len(xs) for _ in xs]
    if isinstance(out, Value):
        first = gradients(out, leaves, create_graph=True)
        hessian = [[float(h) for h in gradients(g, leaves)] for g in first]
    columns = _numeric_hessian_columns(f, xs, settings.eps)
    rows = []
    for i in range(len(xs)):
        for j in range(len(xs)):
            what = f"d²/dx[{i}]²" if i == j else f"d²/dx[{i}]dx[{j}]"
            rows.append(Comparison(what, hessian[i][j], columns[j][i], settings.atol, settings.rtol))
    title = f"gradcheck: analytic and numeric second derivatives disagree{settings.legend}"
    return _fail(title, rows, settings.raise_exception)


def _numeric_hessian_columns(f: Callable[..., Any], xs: Sequence[float], eps: float) -> list[list[float]]:
    """Column j of the numeric Hessian: the whole first-order gradient at x ± eps·e_j (2n backward passes)."""
    columns = []
    for j in range(len(xs)):
        plus, minus = list(xs), list(xs)
        plus[j] += eps
        minus[j] -= eps
        up, down = _first_derivatives(f, plus), _first_derivatives(f, minus)
        columns.append([(u - d) / (2.0 * eps) for u, d in zip(up, down)])
    return columns
