"""The op table: every primitive's forward rule and derivative rule, one row each.

A row is the single source for its op: unique ``name`` (rows pickle by it), display
``symbol`` and ``template`` (``Value.op_symbol``), its ``arity`` (how many parents a node
has: 1, 2, or ``NARY`` for any number; it says how ``forward`` is called, see ``Op``),
user-facing ``param`` (the expression parser and CLI help read it), the ``forward`` that
runs, and the rule ``partials(F, xs, out, c)``, which returns ∂out/∂x_i for each parent
x_i. The rule is written once and evaluated three ways by what ``F`` is (the trick of HIPS
autograd's primitives):

* ``F = FloatMath``, ``xs`` the parents' data, ``out`` the output's data: plain
  floats -- the fast first-order backward pass;
* ``F = sweep.GraphMath``, ``xs`` the parent nodes, ``out`` the output node: the same
  arithmetic builds ``Value`` nodes, so the gradient is differentiable (higher order);
* ``F`` a source-text namespace, ``xs`` and ``out`` expressions: compiled replay emits
  straight-line Python.

THE CONTRACT that keeps the third way possible: a rule uses only ``+ - *``, unary ``-``,
comparisons (``x > 0``; a Value compares its data, but its ``==`` is identity, so test
equality as ``F.data(x) == 0.0``), float literals, indexing or iterating ``xs`` and
``F.<function>`` calls -- ``F.div``, ``F.pow``, ``F.xlogy``, ``F.sech2``, ``F.data`` and
the ``SPECIAL_FUNCTIONS``. Anything that could raise on floats goes through ``F``: that
is what keeps the float path IEEE 754. A partial that is piecewise constant (relu's step)
is a plain float in every mode; its own derivative is 0. ``dot``'s partials come from its
layout record (``DotConst`` ...), which only indexes ``xs``.

``c`` is the op's constant context: a folded constant operand (``x * 2.0`` is one
node with ``c = 2.0``, not a node and a leaf), an activation's ``alpha``, or the
layout of an n-ary ``dot``. Only unary and n-ary rows have one: a binary row's ``c`` is
always None, and a plain-number operand makes its folded unary row instead.

The compiler (``jit``), the expression parser, the CLI help and the tests read the table
(``ALL``, ``FUNCTIONS``, ``UNARY``, each row's ``arity``); none keeps a list of ops. To add

a unary function ``foo`` (as ``tanh``):

1. its row here, ``FOO = _function("foo", "foo", 1, forward(x, c), partials)`` -- ``_function``
   enters it in ``FUNCTIONS`` and ``UNARY``, which puts ``foo(x)`` in the expression language
   and the CLI; give it a ``template`` and ``param`` if it takes a parameter (as ``elu``);
2. a ``Value`` method of the same name in ``value.py``: ``foo = _unary_method(ops.FOO, doc)``
   (the parser refuses to import without it);
3. its row in ``testing/optable.py`` (how to call it, an independent ``math`` reference, its
   SymPy twin, its domain and kinks), from which the property tests, ``strategies.expressions``
   and the compiled-replay tests draw it; ``test_every_engine_op_is_in_the_table`` refuses
   a row here without one.

a binary function ``bar(x, y)`` (as ``hypot``):

1. its row, ``BAR = _function("bar", "bar", 2, forward(x, y), partials)``, and the row a plain
   number folds into, ``BAR_CONST = _row("bar_const", "bar", 1, forward(x, c), partials,
   template)``; one rule can serve both if it is written over ``xs`` (``_hypot_partials``).
   Unless bar is symmetric bit for bit (as ``+``, ``*`` and ``ieee.hypot`` are), a number
   on the left needs a reflected row too (``rbar``, forward ``bar(c, x)``, as ``rsub``);
2. in ``value.py`` the method ``bar = _binary_method(ops.BAR, ops.BAR_CONST, doc)`` and an
   engine function ``bar(x, y)`` taking a number on either side, exported by
   ``core/__init__.py`` and ``autograd/__init__.py`` (the parser calls it);
3. a ``testing/optable.py`` row for each engine row: ``bar(x, y)``, ``x.bar(c)``, ``bar(c, x)``.

An operator (``x % y``) is a ``_row`` with a ``Value`` dunder instead of a method, and the
expression parser's operators are Python's (``expr._BINARY_OPS``). An n-ary function is a
``_function`` of arity ``NARY`` with an engine function in ``nary.py``. A rule that needs a
new function of ``F`` adds it to ``SPECIAL_FUNCTIONS`` (with a ``Value`` method).

Kinks take a one-sided value, as PyTorch does: relu'(0) = 0, abs'(0) = 0,
hard_tanh'(±1) = 0, leaky_relu'(0) = alpha, elu'(0) = alpha; ``max`` sends the
whole gradient to the first maximal argument, or to the first NaN when one makes it NaN.
hypot's gradient (x/h, y/h) is taken as (0, 0) at the origin, a subgradient, as PyTorch's
norm does (``torch.hypot`` gives nan).
"""

from __future__ import annotations

import math
import operator
from typing import Any, Callable, NamedTuple, Sequence, Union

from . import ieee as _ieee

#: The special functions a rule may call as ``F.<name>``, each with its IEEE-safe float version.
#: ONE list: ``FloatMath`` below and ``sweep.GraphMath`` (the Value namespace) are both generated
#: from it, and ``test_sweep`` holds the two namespaces equal. A new entry needs a Value method of
#: the same name. ``div``, ``pow``, ``xlogy``, ``sech2`` and ``data`` are the structural extras
#: both namespaces define by hand (their Value forms are not one method call).
SPECIAL_FUNCTIONS: dict[str, Callable[[float], float]] = {
    "exp": _ieee.exp,
    "log": _ieee.log,
    "sqrt": _ieee.sqrt,
    "sin": _ieee.sin,
    "cos": _ieee.cos,
    "sigmoid": _ieee.sigmoid,
}


class FloatMath:
    """``F`` for the float evaluation of a rule: IEEE-safe float functions."""

    div = staticmethod(_ieee.div)
    pow = staticmethod(_ieee.pow)
    sech2 = staticmethod(_ieee.sech2)
    xlogy = staticmethod(_ieee.xlogy)

    @staticmethod
    def data(x: float) -> float:
        return x


for _name, _fn in SPECIAL_FUNCTIONS.items():
    setattr(FloatMath, _name, staticmethod(_fn))


Rule = Callable[[Any, Sequence[Any], Any, Any], Sequence[Any]]

#: ``Op.arity`` of an n-ary row: any number of parents, all passed as one list.
NARY = None


class Op(NamedTuple):
    """One primitive.

    ``arity`` is how many parents a node of this row has, and so how ``forward`` is called
    on their data (floats):

    * ``1`` -- ``forward(x, c)``, ``c`` the constant context (or None): ``exp``, ``x * 2.0``;
    * ``2`` -- ``forward(x, y)``; a binary row has no constant (a number operand makes
      the folded unary row instead: ``x * 2.0`` is ``mul_const``, not ``mul``);
    * ``NARY`` (None) -- ``forward(xs, c)`` with ``xs`` the list of every parent's data.

    ``Op.apply`` makes that call from a list and a context; the compiler, the expression
    parser and the tests read the arity instead of keeping their own lists of ops.
    ``symbol`` is how drawings and reprs show it; ``template`` how they show it with its
    constant (``"{c:g} -"`` for ``2 - x``), formatted with ``c`` and, for a sign-aware
    template, ``sign`` and ``magnitude``. ``param`` names a user-facing parameter
    (``alpha``), which the expression parser and the CLI help read.
    A row pickles by its (unique) name. (A NamedTuple rather than a dataclass: importing
    dataclasses costs inspect, about a third of `import valuegrad.autograd`.)
    """

    name: str
    symbol: str
    arity: int | None
    forward: Callable[..., float]
    partials: Rule
    template: str | None = None
    param: str | None = None

    def apply(self, xs: Sequence[Any], c: Any = None) -> Any:
        """``forward`` on the parents' data ``xs`` (and ``c``), called as ``arity`` says."""
        if self.arity is NARY:
            return self.forward(xs, c)
        if self.arity == 2:
            return self.forward(xs[0], xs[1])
        return self.forward(xs[0], c)

    def display(self, c: Any) -> str:
        """The symbol with the folded constant ``c`` (or just the symbol)."""
        if c is None or self.template is None:
            return self.symbol
        return self.template.format(c=c, sign="-" if c < 0 else "+", magnitude=abs(c))

    def __reduce__(self) -> tuple[Callable[[str], Op], tuple[str]]:
        return by_name, (self.name,)


#: Every row by its unique name (``by_name`` unpickles with it). Rows enter as they are made.
ALL: dict[str, Op] = {}
#: The rows that are functions by name, in ``Value`` and in the expression language (``tanh(x)``,
#: ``hypot(x, y)``, ``max(x, y, z)``): made with ``_function`` instead of ``_row``. A unary one is a
#: ``Value`` method of its name (``x.tanh()``); a binary or n-ary one is an engine function of its
#: name (``autograd.hypot``, ``autograd.max``), which takes plain numbers too, and a binary one is
#: also a ``Value`` method (``x.hypot(y)``). The expression parser, the CLI and the tests read this.
FUNCTIONS: dict[str, Op] = {}
#: The unary ones among ``FUNCTIONS`` (``x.exp()``, ``x.relu()``, ...), by name.
UNARY: dict[str, Op] = {}
_ARITIES = (1, 2, NARY)


def by_name(name: str) -> Op:
    """The row called ``name``."""
    return ALL[name]


def _row(
    name: str,
    symbol: str,
    arity: int | None,
    forward: Callable[..., float],
    partials: Rule,
    template: str | None = None,
    param: str | None = None,
) -> Op:
    """Make a row and enter it in ``ALL``; a second row of a name, or an arity not 1, 2 or NARY, is refused."""
    op = Op(name, symbol, arity, forward, partials, template, param)
    if op.name in ALL:
        raise ValueError(f"two op rows are named {op.name!r}: rows pickle by name, so names must be unique")
    if arity not in _ARITIES:
        raise ValueError(f"op row {name!r} has arity {arity!r}: a row takes 1 or 2 parents, or NARY (any number)")
    if param is not None and arity != 1:
        raise ValueError(f"op row {name!r} has a parameter: only a unary row has a constant to hold it")
    ALL[op.name] = op
    return op


def _function(*fields: Any) -> Op:
    """A row that is also a function by name (see ``FUNCTIONS``); a unary one is entered in ``UNARY`` too."""
    op = _row(*fields)
    FUNCTIONS[op.name] = op
    if op.arity == 1:
        UNARY[op.name] = op
    return op


_ONE = (1.0,)
_ONE_ONE = (1.0, 1.0)
_ONE_MINUS_ONE = (1.0, -1.0)
_MINUS_ONE = (-1.0,)


def _sign(x: Any) -> float:
    return 1.0 if x > 0.0 else (-1.0 if x < 0.0 else 0.0)


def _pow_base_partial(F: Any, x: Any, y: Any) -> Any:
    """∂(x**y)/∂x = y * x**(y-1), taken as 0 at x = y = 0 (0 * 0**-1 would be nan).

    Only that point is masked: at y = 0 and x != 0 the product is kept, because under
    ``create_graph`` it still depends on y (∂²(x**y)/∂x∂y = 1/x there).
    """
    if F.data(y) == 0.0 and F.data(x) == 0.0:
        return 0.0
    return y * F.pow(x, y - 1.0)


# Stable derivative forms. The textbook rules tanh' = 1 - out² and σ' = out(1 - out)
# subtract nearly equal numbers once out is within ulps of ±1, losing every digit in the
# tails (tanh'(19) off by 77 %); where that can happen, use forms without cancellation.
def _tanh_partials(F: Any, xs: Sequence[Any], out: Any, c: None) -> tuple[Any]:
    if -0.5 < out < 0.5:
        return (1.0 - out * out,)
    return (F.sech2(xs[0]),)


def _sigmoid_partials(F: Any, xs: Sequence[Any], out: Any, c: None) -> tuple[Any]:
    if out <= 0.5:
        return (out * (1.0 - out),)
    return (out * F.sigmoid(-xs[0]),)  # 1 - σ(x) = σ(-x)


def _hypot_partials(F: Any, xs: Sequence[Any], out: Any, c: Any) -> list[Any]:
    """∂h/∂x_i = x_i / h for h = hypot(x, y), and for ``hypot_const`` (one parent, y = c) alike.

    Divided by h itself, never by a square root of squares: each partial lies in [-1, 1] and
    nothing overflows or underflows. At the origin (h = 0) both are taken as 0 (0/0 would be
    nan; PyTorch's torch.hypot gives nan there, its norm 0).
    """
    if F.data(out) == 0.0:
        return [0.0 for _ in xs]
    return [F.div(x, out) for x in xs]


def _relu(x: float, c: None) -> float:
    return 0.0 if x <= 0.0 else x  # nan stays nan


def _hard_tanh(x: float, c: None) -> float:
    return -1.0 if x < -1.0 else (1.0 if x > 1.0 else x)


def _max(xs: Sequence[float], c: None) -> float:
    best = max(xs)
    return best if all(x == x for x in xs) else math.nan


def _argmax_onehot(F: Any, xs: Sequence[Any], out: Any, c: None) -> list[float]:
    """All to the first NaN if there is one (it made the output NaN), else to the first maximum."""
    datas = [F.data(x) for x in xs]
    nans = [i for i, d in enumerate(datas) if d != d]
    hot = nans[0] if nans else datas.index(max(datas))
    return [1.0 if i == hot else 0.0 for i in range(len(datas))]


def _logsumexp(xs: Sequence[float], c: None) -> float:
    top = max(xs)
    if not math.isfinite(top):
        return top if all(x == x for x in xs) else math.nan  # all -inf, some +inf, or nan
    return top + math.log(sum(math.exp(x - top) for x in xs))


# ``dot``'s context is its layout, one of three typed records, each of which knows its own
# forward and partials. The parents are ordered as the layout says.


class DotConst(NamedTuple):
    """Every partial is a constant (a first layer's inputs; a bias has partial 1.0)."""

    partials: tuple[float, ...]
    constant: float

    def value(self, xs: Sequence[float]) -> float:
        return sum(map(operator.mul, xs, self.partials), self.constant)

    def derivatives(self, xs: Sequence[Any]) -> Sequence[Any]:
        return self.partials


class DotPaired(NamedTuple):
    """Parents are w_1..w_n, x_1..x_n, then the bias if ``tail``: each factor's partial is its partner."""

    n: int
    constant: float
    tail: tuple[float, ...]  # (1.0,) with a bias parent, () without

    def value(self, xs: Sequence[float]) -> float:
        n = self.n
        total = sum(map(operator.mul, xs[:n], xs[n : 2 * n]), self.constant)
        return total + xs[2 * n] if self.tail else total

    def derivatives(self, xs: Sequence[Any]) -> Sequence[Any]:
        n = self.n
        return [*xs[n : 2 * n], *xs[:n], *self.tail]


class DotMixed(NamedTuple):
    """Anything else: parent i's partner is parent ``partner[i]``, or the constant ``weight[i]`` where that is -1."""

    partner: tuple[int, ...]
    weight: tuple[float, ...]
    constant: float

    def value(self, xs: Sequence[float]) -> float:
        total = self.constant
        for i, (j, w) in enumerate(zip(self.partner, self.weight)):
            if j < 0:
                total += xs[i] * w
            elif j > i:  # a Value*Value product appears twice, once per factor: count it once
                total += xs[i] * xs[j]
        return total

    def derivatives(self, xs: Sequence[Any]) -> Sequence[Any]:
        return [w if j < 0 else xs[j] for j, w in zip(self.partner, self.weight)]


DotLayout = Union[DotConst, DotPaired, DotMixed]


def _dot(xs: Sequence[float], c: DotLayout) -> float:
    return c.value(xs)


def _dot_partials(F: Any, xs: Sequence[Any], out: Any, c: DotLayout) -> Sequence[Any]:
    """∂(Σ w_i x_i + b)/∂w_i = x_i, ∂/∂x_i = w_i, ∂/∂b = 1."""
    return c.derivatives(xs)


# fmt: off
ADD       = _row("add", "+", 2, operator.add, lambda F, xs, out, c: _ONE_ONE)
SUB       = _row("sub", "-", 2, operator.sub, lambda F, xs, out, c: _ONE_MINUS_ONE)
MUL       = _row("mul", "*", 2, operator.mul, lambda F, xs, out, c: (xs[1], xs[0]))
DIV       = _row("div", "/", 2, _ieee.div, lambda F, xs, out, c: (F.div(1.0, xs[1]), -F.div(out, xs[1])))
POW       = _row("pow", "**", 2, _ieee.pow,
                 lambda F, xs, out, c: (_pow_base_partial(F, xs[0], xs[1]), F.xlogy(out, xs[0])))
ADD_CONST = _row("add_const", "+", 1, operator.add, lambda F, xs, out, c: _ONE, "{sign} {magnitude:g}")
MUL_CONST = _row("mul_const", "*", 1, operator.mul, lambda F, xs, out, c: (c,), "* {c:g}")
DIV_CONST = _row("div_const", "/", 1, _ieee.div, lambda F, xs, out, c: (F.div(1.0, c),), "/ {c:g}")
RSUB      = _row("rsub", "-", 1, lambda x, c: c - x, lambda F, xs, out, c: _MINUS_ONE, "{c:g} -")
RDIV      = _row("rdiv", "/", 1, lambda x, c: _ieee.div(c, x), lambda F, xs, out, c: (-F.div(out, xs[0]),), "{c:g} /")
POW_CONST = _row("pow_const", "**", 1, _ieee.pow, lambda F, xs, out, c: (_pow_base_partial(F, xs[0], c),), "** {c:g}")
RPOW      = _row("rpow", "**", 1, lambda x, c: _ieee.pow(c, x), lambda F, xs, out, c: (F.xlogy(out, c),), "{c:g} **")
NEG       = _row("neg", "-", 1, lambda x, c: -x, lambda F, xs, out, c: _MINUS_ONE)
ABS       = _function("abs", "abs", 1, lambda x, c: abs(x), lambda F, xs, out, c: (_sign(xs[0]),))
EXP       = _function("exp", "exp", 1, lambda x, c: _ieee.exp(x), lambda F, xs, out, c: (out,))
LOG       = _function("log", "log", 1, lambda x, c: _ieee.log(x), lambda F, xs, out, c: (F.div(1.0, xs[0]),))
SQRT      = _function("sqrt", "sqrt", 1, lambda x, c: _ieee.sqrt(x), lambda F, xs, out, c: (F.div(0.5, out),))
SIN       = _function("sin", "sin", 1, lambda x, c: _ieee.sin(x), lambda F, xs, out, c: (F.cos(xs[0]),))
COS       = _function("cos", "cos", 1, lambda x, c: _ieee.cos(x), lambda F, xs, out, c: (-F.sin(xs[0]),))
TANH      = _function("tanh", "tanh", 1, lambda x, c: math.tanh(x), _tanh_partials)
SIGMOID   = _function("sigmoid", "σ", 1, lambda x, c: _ieee.sigmoid(x), _sigmoid_partials)
RELU      = _function("relu", "relu", 1, _relu, lambda F, xs, out, c: (1.0 if xs[0] > 0.0 else 0.0,))
LEAKY     = _function("leaky_relu", "leaky_relu", 1, lambda x, c: x if x > 0.0 else c * x,
                      lambda F, xs, out, c: (1.0 if xs[0] > 0.0 else c,), "leaky_relu({c:g})", "alpha")
ELU       = _function("elu", "elu", 1, lambda x, c: x if x > 0.0 else c * _ieee.expm1(x),
                      lambda F, xs, out, c: (1.0 if xs[0] > 0.0 else c * F.exp(xs[0]),), "elu({c:g})", "alpha")
SOFTPLUS  = _function("softplus", "softplus", 1, lambda x, c: _ieee.softplus(x),
                      lambda F, xs, out, c: (F.sigmoid(xs[0]),))
HARD_TANH = _function("hard_tanh", "hard_tanh", 1, _hard_tanh,
                      lambda F, xs, out, c: (1.0 if -1.0 < xs[0] < 1.0 else 0.0,))
HYPOT     = _function("hypot", "hypot", 2, _ieee.hypot, _hypot_partials)
HYPOT_CONST = _row("hypot_const", "hypot", 1, _ieee.hypot, _hypot_partials, "hypot(·, {c:g})")
SUM       = _row("sum", "Σ", NARY, lambda xs, c: sum(xs, c), lambda F, xs, out, c: _ONE * len(xs), "Σ {c:g}")
DOT       = _row("dot", "·", NARY, _dot, _dot_partials)
LOGSUMEXP = _function("logsumexp", "logsumexp", NARY, _logsumexp, lambda F, xs, out, c: [F.exp(x - out) for x in xs])
MAX       = _function("max", "max", NARY, _max, _argmax_onehot)
# fmt: on

#: Rows whose partials are finite wherever their operands, constant and result are (a sign, an
#: operand, the result, a bounded function): a zero adjoint times any of them is a zero, so a
#: compiled example whose seed is zero may be skipped (``compiler.seeded.zero_safe``). Not
#: division, powers, log or sqrt: a finite 1/x can overflow (hypot and logsumexp would qualify,
#: but nothing needs them yet). A new row is outside until it is added here, which is safe;
#: ``test_ops_properties`` checks every row listed.
BOUNDED_PARTIALS = frozenset(op.name for op in (
    ADD, SUB, MUL, ADD_CONST, MUL_CONST, RSUB, NEG, ABS, EXP, SIN, COS, TANH, SIGMOID, RELU, LEAKY, ELU, SOFTPLUS,
    HARD_TANH, SUM, DOT, MAX,
))  # fmt: skip
