"""The numeric oracles the tests share: central differences and one closeness rule.

``close`` is ``gradcheck``'s own test (absolute error within ``abs_``, or the lecture's
relative error |a - b| / (|a| + |b|) within ``rel``; nan never agrees), so a test and
``gradcheck`` cannot disagree about what "the same" means.

>>> import math
>>> central_differences(math.sin, [0.3])[0] - math.cos(0.3) < 1e-9
True
>>> close(1.0, 1.0 + 1e-9), close(1.0, 1.1)
(True, False)
"""

from __future__ import annotations

from typing import Callable, Sequence

from ..core import Value
from ..gradient_check import Comparison

__all__ = ["assert_gradients_match", "central_differences", "close"]


def close(analytic: float, expected: float, rel: float = 1e-6, abs_: float = 1e-6) -> bool:
    """True if the two agree within ``abs_`` absolutely or ``rel`` relatively (gradcheck's rule)."""
    return Comparison("", analytic, expected, abs_, rel).ok


def central_differences(f: Callable[..., float], xs: Sequence[float], h: float = 1e-6) -> list[float]:
    """∂f/∂x_i for every i by (f(x + h_i e_i) - f(x - h_i e_i)) / (step taken), in float64.

    ``f`` takes the xs as separate floats. The step is scaled to |x_i| (h_i = h · max(1, |x_i|)),
    and the division uses the step actually taken after rounding.
    """
    numeric = []
    for i, x in enumerate(xs):
        step = h * max(1.0, abs(x))
        plus, minus = list(xs), list(xs)
        plus[i] += step
        minus[i] -= step
        numeric.append((f(*plus) - f(*minus)) / (plus[i] - minus[i]))
    return numeric


def assert_gradients_match(
    make_output: Callable[[], Value], params: Sequence[Value], rel: float = 1e-5, abs_: float = 1e-6
) -> None:
    """``backward`` gradients of ``make_output()`` w.r.t. the leaves ``params`` equal central differences."""
    for p in params:
        p.grad = 0.0
    make_output().backward()
    start = [p.data for p in params]

    def at(*point: float) -> float:
        for p, x in zip(params, point):
            p.data = x
        try:
            return make_output().data
        finally:
            for p, x in zip(params, start):
                p.data = x

    numeric = central_differences(at, start)
    for p, n in zip(params, numeric):
        assert close(p.grad, n, rel, abs_), f"{p.label} ({p.module_path}): backward {p.grad!r}, numeric {n!r}"
