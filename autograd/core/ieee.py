"""Float helpers with IEEE 754 results instead of Python exceptions.

Python's ``math`` module raises ``OverflowError``, ``ZeroDivisionError`` and
``ValueError('math domain error')`` where IEEE 754 (and NumPy, PyTorch) return
``inf`` or ``nan``. Every forward and derivative rule on plain floats goes through
these helpers, so the engine never raises a math exception.
"""

from __future__ import annotations

import math
from typing import Callable

INF = math.inf
NAN = math.nan


def div(x: float, y: float) -> float:
    """x / y, with x/±0 = ±inf and 0/0 = nan."""
    try:
        return x / y
    except ZeroDivisionError:
        if x == 0.0 or x != x:
            return NAN
        return math.copysign(INF, x) * math.copysign(1.0, y)


def _is_odd_integer(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


def pow(x: float, y: float) -> float:  # shadows builtin pow on purpose: mirrors math.pow
    """C99 ``pow``: overflow gives ±inf, 0**negative gives ±inf, negative**fraction gives nan."""
    try:
        return math.pow(x, y)
    except OverflowError:
        return -INF if x < 0.0 and _is_odd_integer(y) else INF
    except ValueError:
        if x == 0.0:
            return math.copysign(INF, x) if _is_odd_integer(y) else INF
        return NAN


def _with_ieee_result(fn: Callable[[float], float], error: type[Exception], result: float) -> Callable[[float], float]:
    """``fn``, returning ``result`` where ``math`` raises ``error`` instead of the IEEE 754 value."""

    def safe(x: float) -> float:
        try:
            return fn(x)
        except error:
            return result

    safe.__name__ = safe.__qualname__ = fn.__name__
    return safe


exp = _with_ieee_result(math.exp, OverflowError, INF)
expm1 = _with_ieee_result(math.expm1, OverflowError, INF)
sqrt = _with_ieee_result(math.sqrt, ValueError, NAN)  # sqrt(x < 0)
sin = _with_ieee_result(math.sin, ValueError, NAN)  # sin(±inf)
cos = _with_ieee_result(math.cos, ValueError, NAN)


def log(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    if x == 0.0:
        return -INF
    return NAN  # negative or nan


def hypot(x: float, y: float) -> float:
    """√(x² + y²) by ``math.hypot``: no overflow or underflow of the squares, and an infinite
    leg wins over nan (hypot(inf, nan) = inf).

    The larger magnitude goes first, so hypot(x, y) == hypot(y, x) bit for bit, as x * y ==
    y * x, whatever the rounding of the Python's own algorithm: a plain number on either side
    folds into the one row ``hypot_const``. (With a nan the order differs, but math.hypot's
    answer does not depend on it.)
    """
    return math.hypot(x, y) if abs(x) >= abs(y) else math.hypot(y, x)


def sigmoid(x: float) -> float:
    """Logistic function; the branch keeps exp's argument <= 0 so it never overflows."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = exp(x)  # also the nan path
    return e / (1.0 + e)


def sech2(x: float) -> float:
    """sech²(x) = 1 / cosh²(x), tanh's derivative without the cancellation of 1 - tanh²(x)."""
    try:
        c = math.cosh(x)
    except OverflowError:  # |x| > ~710: the true value underflows anyway
        return 0.0
    return 1.0 / (c * c)


def softplus(x: float) -> float:
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|): exact for large |x|, never overflows."""
    return (x if x > 0.0 else 0.0) + math.log1p(exp(-abs(x)))


def xlogy(x: float, y: float) -> float:
    """x * log(y), defined as 0 where x == 0 (so 0 * log(0) is 0, as in SciPy)."""
    if x == 0.0:
        return 0.0
    return x * log(y)


_LARGEST_ODD = 2.0**53 - 1.0  # every double above 2**53 is even
_LARGE_EVEN = 2.0**54


def int_exponent(n: int) -> float:
    """An int exponent as a float that gives the same ``pow`` for every base.

    ``float(10**400 + 1)`` overflows, and every double beyond 2**53 is even, so a huge odd
    exponent would lose its parity: (-2) ** (10**400 + 1) must be -inf. Beyond 2**53 any
    exponent of the same sign and parity gives the same result (overflow, underflow to a
    signed zero, or ±1), so a huge int maps to ±(2**53 - 1) if odd and ±2**54 if even.
    """
    if -(2**53) <= n <= 2**53:
        return float(n)
    magnitude = _LARGEST_ODD if n % 2 else _LARGE_EVEN
    return magnitude if n > 0 else -magnitude
