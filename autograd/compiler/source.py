"""``SourceMath``: the third way to evaluate an op-table rule -- into Python source text.

``ops.py``'s rules are written once against an ``F`` namespace. ``FloatMath`` gives floats,
``GraphMath`` gives ``Value`` nodes; here ``F = SourceMath`` and the operands are ``Sym``s,
placeholders that stand for local variables of the generated function. Arithmetic on a
``Sym`` writes the expression instead of computing it (``x * y`` becomes the text
``"x * y"``), and each ``F`` function becomes a call of the very helper ``FloatMath`` would
run (``F.div(1.0, x)`` becomes ``"_div(1.0, x)"``), so the generated code performs the same
IEEE operations in the same order as the engine's float sweep.

A rule may branch on its inputs (relu's ``x > 0.0``). Python's ``if`` needs a real bool, so
``explore`` runs the rule once per path: every comparison of a ``Sym`` is a branch point,
answered True on the first run and False on a rerun, and the answers are folded back into
one conditional expression (``"(g if x > 0.0 else g * 0.0)"``). A rule with too many paths
(``max`` over many inputs), or one that calls something a ``Sym`` cannot stand in for
(``math.tanh``), raises ``NotSymbolic``; the compiler then emits a call of the row itself.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Union

from ..core.ops import FloatMath

#: Names the generated code uses for non-finite constants; the compiler binds them as globals.
INF_NAME, NAN_NAME = "_inf", "_nan"
#: How many paths one rule may have before it is called instead of written out.
MAX_PATHS = 16


class NotSymbolic(Exception):
    """This rule cannot be written out as an expression; call it instead."""


def number(x: float) -> str:
    """A float as source: its repr (round-trips exactly), or a bound name for inf and nan."""
    x = float(x)
    if x != x:
        return NAN_NAME
    if math.isinf(x):
        return INF_NAME if x > 0 else f"(-{INF_NAME})"
    text = repr(x)
    return f"({text})" if text.startswith("-") else text


def _arithmetic(symbol: str) -> tuple[Callable[[Sym, Any], Sym], Callable[[Sym, Any], Sym]]:
    """``Sym``'s operator and its reflected twin for ``symbol``: both write the expression."""

    def forward(self: Sym, other: Any) -> Sym:
        return _binary(self, symbol, other)

    def reflected(self: Sym, other: Any) -> Sym:
        return _binary(other, symbol, self)

    return forward, reflected


def _comparison(symbol: str) -> Callable[[Sym, Any], bool]:
    def compare(self: Sym, other: Any) -> bool:
        return _decide(self, symbol, other)

    return compare


class Sym:
    """A placeholder for a float in generated code: operators build expression text."""

    __slots__ = ("atomic", "text")

    def __init__(self, text: str, atomic: bool = False) -> None:
        self.text = text
        self.atomic = atomic  # a name or a call: needs no parentheses as an operand

    def __repr__(self) -> str:
        return f"Sym({self.text!r})"

    # Arithmetic writes text; comparisons are branch points of the current exploration.
    __add__, __radd__ = _arithmetic("+")
    __sub__, __rsub__ = _arithmetic("-")
    __mul__, __rmul__ = _arithmetic("*")
    __lt__, __le__, __gt__, __ge__ = map(_comparison, ("<", "<=", ">", ">="))
    __eq__, __ne__ = map(_comparison, ("==", "!="))  # type: ignore[assignment]

    def __neg__(self) -> Sym:
        return Sym(f"-{operand(self)}")

    __hash__ = object.__hash__

    def __bool__(self) -> bool:
        raise NotSymbolic("a rule used a placeholder as a truth value")

    def __float__(self) -> float:
        raise NotSymbolic("a rule needed a placeholder's float value")


Operand = Union[Sym, float, int]


def operand(x: Any) -> str:
    """Source for ``x`` where it is an operand of a binary operator."""
    if x.__class__ is Sym:
        return x.text if x.atomic else f"({x.text})"
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return number(x)
    raise NotSymbolic(f"cannot write a {type(x).__name__} into generated code")


def _binary(left: Any, symbol: str, right: Any) -> Sym:
    return Sym(f"{operand(left)} {symbol} {operand(right)}")


class _Path:
    """One run of a rule: the answers to give its comparisons, and the tests it asked."""

    def __init__(self, answers: tuple[bool, ...]) -> None:
        self.answers = answers
        self.tests: list[str] = []

    def decide(self, test: str) -> bool:
        i = len(self.tests)
        self.tests.append(test)
        return self.answers[i] if i < len(self.answers) else True


_CURRENT: list[_Path] = []


def _decide(left: Any, symbol: str, right: Any) -> bool:
    if not _CURRENT:
        raise NotSymbolic("a placeholder was compared outside an exploration")
    return _CURRENT[-1].decide(f"{operand(left)} {symbol} {operand(right)}")


class Cond:
    """``yes if test else no``, the result of a rule that branched."""

    __slots__ = ("no", "test", "yes")

    def __init__(self, test: str, yes: Any, no: Any) -> None:
        self.test, self.yes, self.no = test, yes, no


def explore(rule: Callable[[], Any]) -> Any:
    """Run ``rule()`` down every path of its comparisons; return its result as a tree.

    The tree is the rule's own result (a Sym, a number, or a sequence of them) where it did
    not branch, and a ``Cond`` per comparison where it did. Raises ``NotSymbolic`` past
    ``MAX_PATHS`` paths or when the rule needs something a placeholder cannot give.
    """
    paths = [0]

    def walk(answers: tuple[bool, ...]) -> Any:
        paths[0] += 1
        if paths[0] > MAX_PATHS:
            raise NotSymbolic(f"the rule has more than {MAX_PATHS} paths")
        path = _Path(answers)
        _CURRENT.append(path)
        try:
            result = rule()
        except (TypeError, AttributeError) as error:  # a math function met a placeholder
            raise NotSymbolic(str(error)) from None
        finally:
            _CURRENT.pop()
        if len(path.tests) == len(answers):
            return result
        test = path.tests[len(answers)]
        return Cond(test, walk((*answers, True)), walk((*answers, False)))

    return walk(())


def component(tree: Any, i: int) -> Any:
    """The tree of the ``i``-th item of a rule that returns a sequence."""
    if tree.__class__ is Cond:
        return Cond(tree.test, component(tree.yes, i), component(tree.no, i))
    return tree[i]


def length(tree: Any) -> int:
    """How many items a rule's result has (the same on every path)."""
    while tree.__class__ is Cond:
        tree = tree.yes
    return len(tree)


def times(adjoint: str, tree: Any) -> Any:
    """``adjoint * partial`` with the multiplication pushed into branches and exact folds.

    ``g * 1.0`` is ``g`` and ``g * -1.0`` is ``-g`` bit for bit (IEEE 754), so those are
    written without the multiply. ``g * 0.0`` is kept: it is nan when g is inf or nan.
    """
    if tree.__class__ is Cond:
        return Cond(tree.test, times(adjoint, tree.yes), times(adjoint, tree.no))
    if tree.__class__ is not Sym and tree == 1.0:
        return Sym(adjoint, atomic=True)
    if tree.__class__ is not Sym and tree == -1.0:
        return Sym(f"-{adjoint}")
    return Sym(f"{adjoint} * {operand(tree)}")


def render(tree: Any) -> str:
    """Source text of a result tree (a top-level expression: no outer parentheses)."""
    if tree.__class__ is Cond:
        yes, no = render(tree.yes), render(tree.no)
        if yes == no:
            return yes
        return f"{_wrap(tree.yes, yes)} if {tree.test} else {_wrap(tree.no, no)}"
    if tree.__class__ is Sym:
        return str(tree.text)
    return operand(tree)


def _wrap(tree: Any, text: str) -> str:
    return f"({text})" if tree.__class__ is Cond else text


def _lift(name: str, float_fn: Callable[..., float]) -> Callable[..., Any]:
    def fn(*args: Any) -> Any:
        if not any(a.__class__ is Sym for a in args):
            return float_fn(*args)  # constants fold now, exactly as FloatMath computes them
        return Sym(f"_{name}({', '.join(render(a) for a in args)})", atomic=True)

    fn.__name__ = name
    return fn


class SourceMath:
    """``F`` for writing a rule as source: one function per ``FloatMath`` function, same names.

    Built from ``FloatMath``'s own namespace, so the two cannot drift apart; ``helpers()``
    gives the globals the generated code needs to call them.
    """

    @staticmethod
    def data(x: Any) -> Any:
        return x

    @staticmethod
    def helpers() -> dict[str, Callable[..., float]]:
        return {f"_{name}": getattr(FloatMath, name) for name in _FLOAT_FUNCTIONS}


_FLOAT_FUNCTIONS = sorted(name for name in vars(FloatMath) if not name.startswith("_") and name != "data")
for _name in _FLOAT_FUNCTIONS:
    setattr(SourceMath, _name, staticmethod(_lift(_name, getattr(FloatMath, _name))))
