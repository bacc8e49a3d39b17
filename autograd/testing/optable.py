"""One table of ops for tests: each row says how to call an op on Values, on floats, and in SymPy.

This is the test-side twin of ``autograd/ops.py`` (in the style of minitorch's
operator tables): every primitive the engine has appears here at least once, with

* ``on_values`` -- how a user calls it on ``Value`` s (``x ** y``, ``2.0 - x``, ``autograd.dot(...)``),
* ``on_floats`` -- an independent float reference written with :mod:`math`, not the engine's helpers,
* ``sympy``     -- the same function as a SymPy expression (derivatives then come from ``sympy.diff``),
* ``domain``    -- one interval per differentiated input where the row is tested,
* ``constants`` -- intervals for plain-number operands (``c`` in ``x ** c``, ``alpha`` in ``elu``),
* ``kink_distance`` -- how far a point is from the nearest kink or pole, so tests can keep away from it.

Every callable takes the differentiated inputs first and then the constants:
``row.on_values(x, y, c)``. Kinked functions are written in SymPy with the opaque
functions of ``kinks`` (not ``Piecewise``, whose condition algebra can stall SymPy for minutes).

>>> from valuegrad.autograd import Value
>>> from valuegrad.autograd.testing.optable import ROWS, row
>>> r = row("x ** y")
>>> r.on_floats(2.0, 3.0), r.on_values(Value(2.0), Value(3.0)).data
(8.0, 8.0)
>>> len({r.engine_op for r in ROWS}) >= 25
True
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ... import autograd
from ..core import Value, ops
from .kinks import kinks

__all__ = ["ROWS", "Interval", "OpRow", "row"]

# In a row's name, x y z w v stand for the differentiated inputs (in order) and c d e n for constants.
_INPUT_LETTERS = "xyzwv"
_CONSTANT_LETTERS = {"c": 0, "d": 1, "e": 2, "n": 0}
_LETTER = re.compile(r"\b[xyzwvcden]\b")


@dataclass(frozen=True)
class Interval:
    """A closed interval ``[lo, hi]``; ``integer=True`` means only whole numbers in it are drawn."""

    lo: float
    hi: float
    integer: bool = False

    def __contains__(self, x: object) -> bool:
        return isinstance(x, (int, float)) and self.lo <= x <= self.hi


@dataclass(frozen=True)
class OpRow:
    """How to call one op three ways, and where it is smooth. See the module docstring."""

    name: str
    engine_op: str
    on_values: Callable[..., Value]
    on_floats: Callable[..., float]
    sympy: Callable[..., Any]  # (sympy_module, *symbols) -> sympy expression
    domain: tuple[Interval, ...]
    constants: tuple[Interval, ...] = ()
    kink_distance: Callable[..., float] = field(default=lambda *args: math.inf)

    def __post_init__(self) -> None:
        fixed = self.op.arity
        if fixed is not ops.NARY and fixed != self.arity:
            name, op = self.name, self.engine_op
            raise ValueError(f"op row {name!r}: {self.arity} inputs, but the engine's {op!r} takes {fixed}")

    @property
    def op(self) -> ops.Op:
        """The engine's row (``core/ops.py``) this row makes."""
        return ops.by_name(self.engine_op)

    @property
    def arity(self) -> int:
        """How many inputs are differentiated (Values); constants come after them.

        The engine row's own arity where it has a fixed one (checked when the row is made);
        for an n-ary op (``ops.NARY``) the number of Values this row passes it.
        """
        return len(self.domain)

    def format(self, args: list[str], constants: list[float]) -> str:
        """The row's name with its letters replaced: ``'x ** y'`` -> ``'t3 ** x0'``."""

        def replace(match: re.Match[str]) -> str:
            letter = match.group(0)
            if letter in _INPUT_LETTERS:
                return args[_INPUT_LETTERS.index(letter)]
            return repr(constants[_CONSTANT_LETTERS[letter]])

        return _LETTER.sub(replace, self.name)

    def __repr__(self) -> str:
        return f"OpRow({self.name!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How hypothesis (and IPython) show a row in a failing example: by name."""
        printer.text(repr(self))


def _min_gap(*xs: float) -> float:
    return min(abs(a - b) for i, a in enumerate(xs) for b in xs[i + 1 :])


WIDE = Interval(-10.0, 10.0)
POSITIVE = Interval(0.05, 5.0)
DIVISOR = Interval(-10.0, 10.0)  # keep away from 0 with kink_distance

_x_distance: Callable[..., float] = lambda x, *rest: abs(x)
_y_distance: Callable[..., float] = lambda x, y, *rest: abs(y)
_origin_distance: Callable[..., float] = lambda x, y: math.sqrt(x * x + y * y)  # hypot's kink is (0, 0)

# fmt: off
ROWS: tuple[OpRow, ...] = (
    # binary, Value with Value
    OpRow("x + y", "add", lambda x, y: x + y, lambda x, y: x + y, lambda sp, x, y: x + y, (WIDE, WIDE)),
    OpRow("x - y", "sub", lambda x, y: x - y, lambda x, y: x - y, lambda sp, x, y: x - y, (WIDE, WIDE)),
    OpRow("x * y", "mul", lambda x, y: x * y, lambda x, y: x * y, lambda sp, x, y: x * y, (WIDE, WIDE)),
    OpRow("x / y", "div", lambda x, y: x / y, lambda x, y: x / y, lambda sp, x, y: x / y, (WIDE, DIVISOR),
          kink_distance=_y_distance),
    OpRow("x ** y", "pow", lambda x, y: x**y, lambda x, y: math.pow(x, y), lambda sp, x, y: x**y,
          (POSITIVE, Interval(-3.0, 3.0))),
    # a Value and a plain number, on both sides
    OpRow("x + c", "add_const", lambda x, c: x + c, lambda x, c: x + c, lambda sp, x, c: x + c, (WIDE,), (WIDE,)),
    OpRow("c + x", "add_const", lambda x, c: c + x, lambda x, c: c + x, lambda sp, x, c: c + x, (WIDE,), (WIDE,)),
    OpRow("x - c", "add_const", lambda x, c: x - c, lambda x, c: x - c, lambda sp, x, c: x - c, (WIDE,), (WIDE,)),
    OpRow("c - x", "rsub", lambda x, c: c - x, lambda x, c: c - x, lambda sp, x, c: c - x, (WIDE,), (WIDE,)),
    OpRow("x * c", "mul_const", lambda x, c: x * c, lambda x, c: x * c, lambda sp, x, c: x * c, (WIDE,), (WIDE,)),
    OpRow("c * x", "mul_const", lambda x, c: c * x, lambda x, c: c * x, lambda sp, x, c: c * x, (WIDE,), (WIDE,)),
    OpRow("x / c", "div_const", lambda x, c: x / c, lambda x, c: x / c, lambda sp, x, c: x / c, (WIDE,), (DIVISOR,),
          kink_distance=lambda x, c: abs(c)),
    OpRow("c / x", "rdiv", lambda x, c: c / x, lambda x, c: c / x, lambda sp, x, c: c / x, (DIVISOR,), (WIDE,),
          kink_distance=_x_distance),
    OpRow("x ** c", "pow_const", lambda x, c: x**c, lambda x, c: math.pow(x, c), lambda sp, x, c: x**c,
          (POSITIVE,), (Interval(-3.0, 3.0),)),
    OpRow("x ** n", "pow_const", lambda x, n: x**n, lambda x, n: math.pow(x, n), lambda sp, x, n: x**n,
          (Interval(-4.0, 4.0),), (Interval(-3, 4, integer=True),), kink_distance=_x_distance),
    OpRow("c ** x", "rpow", lambda x, c: c**x, lambda x, c: math.pow(c, x), lambda sp, x, c: c**x,
          (Interval(-4.0, 4.0),), (POSITIVE,)),
    # unary
    # -x is valid wherever the others are: expressions fall back to it, so its domain is the size bound
    OpRow("-x", "neg", lambda x: -x, lambda x: -x, lambda sp, x: -x, (Interval(-1e3, 1e3),)),
    OpRow("abs(x)", "abs", lambda x: abs(x), lambda x: math.fabs(x),
          lambda sp, x: kinks().abs(x), (WIDE,), kink_distance=_x_distance),
    OpRow("x.exp()", "exp", lambda x: x.exp(), math.exp, lambda sp, x: sp.exp(x), (Interval(-20.0, 20.0),)),
    OpRow("x.log()", "log", lambda x: x.log(), math.log, lambda sp, x: sp.log(x), (Interval(0.01, 100.0),)),
    OpRow("x.sqrt()", "sqrt", lambda x: x.sqrt(), math.sqrt, lambda sp, x: sp.sqrt(x), (Interval(0.01, 100.0),)),
    OpRow("x.sin()", "sin", lambda x: x.sin(), math.sin, lambda sp, x: sp.sin(x), (WIDE,)),
    OpRow("x.cos()", "cos", lambda x: x.cos(), math.cos, lambda sp, x: sp.cos(x), (WIDE,)),
    OpRow("x.tanh()", "tanh", lambda x: x.tanh(), math.tanh, lambda sp, x: sp.tanh(x), (WIDE,)),
    OpRow("x.sigmoid()", "sigmoid", lambda x: x.sigmoid(), lambda x: 1.0 / (1.0 + math.exp(-x)),
          lambda sp, x: 1 / (1 + sp.exp(-x)), (Interval(-30.0, 30.0),)),
    OpRow("x.relu()", "relu", lambda x: x.relu(), lambda x: x if x > 0 else 0.0,
          lambda sp, x: kinks().relu(x), (WIDE,), kink_distance=_x_distance),
    OpRow("x.leaky_relu()", "leaky_relu", lambda x: x.leaky_relu(), lambda x: x if x > 0 else 0.01 * x,
          lambda sp, x: kinks().leaky_relu(x, sp.Rational(1, 100)), (WIDE,),
          kink_distance=_x_distance),
    OpRow("x.leaky_relu(c)", "leaky_relu", lambda x, c: x.leaky_relu(c), lambda x, c: x if x > 0 else c * x,
          lambda sp, x, c: kinks().leaky_relu(x, c), (WIDE,), (Interval(-1.0, 2.0),),
          kink_distance=_x_distance),
    OpRow("x.elu()", "elu", lambda x: x.elu(), lambda x: x if x > 0 else math.expm1(x),
          lambda sp, x: kinks().elu(x, 1), (WIDE,), kink_distance=_x_distance),
    OpRow("x.elu(c)", "elu", lambda x, c: x.elu(c), lambda x, c: x if x > 0 else c * math.expm1(x),
          lambda sp, x, c: kinks().elu(x, c), (WIDE,), (Interval(0.1, 2.0),),
          kink_distance=_x_distance),
    OpRow("x.softplus()", "softplus", lambda x: x.softplus(), lambda x: math.log1p(math.exp(x)),
          lambda sp, x: sp.log(1 + sp.exp(x)), (Interval(-30.0, 30.0),)),
    OpRow("x.hard_tanh()", "hard_tanh", lambda x: x.hard_tanh(), lambda x: min(1.0, max(-1.0, x)),
          lambda sp, x: kinks().hard_tanh(x), (Interval(-3.0, 3.0),),
          kink_distance=lambda x: min(abs(x - 1.0), abs(x + 1.0))),
    # a binary function, and a plain number folded in on either side
    OpRow("hypot(x, y)", "hypot", lambda x, y: autograd.hypot(x, y), lambda x, y: math.sqrt(x * x + y * y),
          lambda sp, x, y: sp.sqrt(x**2 + y**2), (WIDE, WIDE), kink_distance=_origin_distance),
    OpRow("x.hypot(c)", "hypot_const", lambda x, c: x.hypot(c), lambda x, c: math.sqrt(x * x + c * c),
          lambda sp, x, c: sp.sqrt(x**2 + c**2), (WIDE,), (WIDE,), kink_distance=_origin_distance),
    OpRow("hypot(c, x)", "hypot_const", lambda x, c: autograd.hypot(c, x), lambda x, c: math.sqrt(c * c + x * x),
          lambda sp, x, c: sp.sqrt(c**2 + x**2), (WIDE,), (WIDE,), kink_distance=_origin_distance),
    # n-ary: one node with many parents
    OpRow("sum(x, y, c, z)", "sum", lambda x, y, z, c: autograd.sum([x, y, c, z]),
          lambda x, y, z, c: math.fsum([x, y, c, z]), lambda sp, x, y, z, c: x + y + c + z,
          (WIDE, WIDE, WIDE), (WIDE,)),
    OpRow("dot([x, y], [z, w], v)", "dot", lambda x, y, z, w, v: autograd.dot([x, y], [z, w], v),
          lambda x, y, z, w, v: math.fsum([x * z, y * w, v]), lambda sp, x, y, z, w, v: x * z + y * w + v,
          (WIDE,) * 5),
    OpRow("dot([x, y], [c, d], e)", "dot", lambda x, y, c, d, e: autograd.dot([x, y], [c, d], e),
          lambda x, y, c, d, e: math.fsum([x * c, y * d, e]), lambda sp, x, y, c, d, e: x * c + y * d + e,
          (WIDE, WIDE), (WIDE, WIDE, WIDE)),
    OpRow("dot([x, y], [x, y])", "dot", lambda x, y: autograd.dot([x, y], [x, y]),
          lambda x, y: math.fsum([x * x, y * y]), lambda sp, x, y: x**2 + y**2, (WIDE, WIDE)),
    OpRow("logsumexp(x, y, z)", "logsumexp", lambda x, y, z: autograd.logsumexp([x, y, z]),
          lambda x, y, z: math.log(math.exp(x) + math.exp(y) + math.exp(z)),
          lambda sp, x, y, z: sp.log(sp.exp(x) + sp.exp(y) + sp.exp(z)), (Interval(-20.0, 20.0),) * 3),
    OpRow("max(x, y, z)", "max", lambda x, y, z: autograd.max([x, y, z]), lambda x, y, z: max(x, y, z),
          lambda sp, *xs: kinks().max(*xs), (WIDE, WIDE, WIDE), kink_distance=_min_gap),
)
# fmt: on

_BY_NAME = {r.name: r for r in ROWS}


def row(name: str) -> OpRow:
    """The row called ``name`` (``'x ** y'``, ``'x.tanh()'``, ...)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no op row named {name!r}; rows are: {', '.join(_BY_NAME)}") from None
