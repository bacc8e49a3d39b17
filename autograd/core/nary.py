"""The n-ary ops: ``sum``, ``dot``, ``logsumexp`` and ``max``, each ONE node however many inputs.

One node with n parents instead of a chain of n binary nodes keeps graphs shallow and
the sweep short: 100,000 terms make one node. Plain numbers among the inputs are folded
into the node's constant context instead of becoming leaf nodes.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

from . import ops
from .modes import STATE, untraced
from .value import Operand, Traced, Value, constant, node

__all__ = ["dot", "logsumexp", "max", "sum"]


def _operands(items: Iterable[Operand], what: str) -> list[Value | float]:
    """The items as Values and floats, refusing anything else with a message naming ``what``."""
    out: list[Value | float] = []
    for i, item in enumerate(items):
        c = None if item.__class__ is Value else constant(item)
        if c is None and item.__class__ is not Value:
            raise TypeError(f"{what}: item {i} is a {type(item).__name__}, expected a Value or a number")
        out.append(item if c is None else c)  # type: ignore[arg-type]
    return out


def sum(items: Iterable[Operand]) -> Value:
    """Σ items as ONE node with n parents: 100,000 terms make one node, not a 100,000-deep chain.

    Plain numbers are folded into a constant. The empty sum is ``Value(0.0)``.
    """
    items = items if isinstance(items, (list, tuple)) else list(items)
    values = [item for item in items if item.__class__ is Value]
    total = 0.0
    if len(values) < len(items):  # some plain numbers (or bad items): fold them into the constant
        for item in _operands(items, "autograd.sum"):
            if not isinstance(item, Value):
                total += item
    if not values:
        return Value(total)
    out = node(ops.SUM.forward([v.data for v in values], total), tuple(values), ops.SUM, total)
    if STATE.get().trace is not None:
        twin = _eager_twin(sum, items)
        if twin is not None:
            out.data = twin
    return out


def dot(weights: Sequence[Operand], inputs: Sequence[Operand], bias: Operand = 0.0) -> Value:
    """Σ w_i x_i + bias as ONE node: a neuron's whole pre-activation.

    Either side may hold plain numbers (a network's inputs usually are): they are
    folded in as constant partials rather than made into leaf nodes. The node's
    parents and context follow one of three layouts (``ops.DotConst``, ``DotPaired``,
    ``DotMixed``): every partial constant; Values on both sides, paired; or anything mixed.
    """
    ws = weights if isinstance(weights, (list, tuple)) else list(weights)
    xs = inputs if isinstance(inputs, (list, tuple)) else list(inputs)
    if len(ws) != len(xs):
        raise ValueError(f"autograd.dot: {len(ws)} weights but {len(xs)} inputs; they must match")
    tail: tuple[Value, ...]
    if bias.__class__ is Value:
        tail, start = (bias,), 0.0  # type: ignore[assignment]
    else:
        b = constant(bias)
        if b is None:
            raise TypeError(f"autograd.dot: bias is a {type(bias).__name__}, expected a Value or a number")
        tail, start = (), b
    w_types, x_types = set(map(type, ws)), set(map(type, xs))
    if Traced in w_types or Traced in x_types:  # inside a jit trace: a traced node is a Value here
        out = _laid_out(ws, xs, tail, start, _as_values(w_types), _as_values(x_types), bias)
        twin = _eager_twin(dot, ws, xs, bias)
        if twin is not None:
            out.data = twin
        return out
    return _laid_out(ws, xs, tail, start, w_types, x_types, bias)


def _laid_out(
    ws: Sequence[Operand],
    xs: Sequence[Operand],
    tail: tuple[Value, ...],
    start: float,
    w_types: set[type],
    x_types: set[type],
    bias: Operand,
) -> Value:
    """The dot node in the layout its operands' types call for (``ops.DotConst``, ``DotPaired``, ``DotMixed``)."""
    # Layouts built with tuple.__new__: a NamedTuple's own __new__ is a Python function that
    # costs ~120 ns more, once per neuron per sample.
    if w_types == _JUST_VALUE:
        if x_types == _JUST_FLOAT:
            partials = (*xs, 1.0) if tail else tuple(xs)
            return _dot_node((*ws, *tail), _layout(ops.DotConst, (partials, start)))  # type: ignore[arg-type]
        if x_types == _JUST_VALUE:
            n = len(ws)
            paired = _PAIRED_WITH_BIAS.get(n) if tail else None  # a hidden neuron's layout: one per width
            if paired is None:
                paired = _layout(ops.DotPaired, (n, start, (1.0,) if tail else ()))
                if tail and n <= 4096:
                    _PAIRED_WITH_BIAS[n] = paired
            return _dot_node((*ws, *xs, *tail), paired)  # type: ignore[arg-type]
    elif w_types == _JUST_FLOAT and x_types == _JUST_VALUE:
        partials = (*ws, 1.0) if tail else tuple(ws)
        return _dot_node((*xs, *tail), _layout(ops.DotConst, (partials, start)))  # type: ignore[arg-type]
    # Other plain numbers (ints, NumPy floats) facing only Values: the layout floats get, so
    # dot(w, [1, 2]) is dot(w, [1.0, 2.0]) to the last bit (from 3.12 on, sum compensates).
    if w_types == _JUST_VALUE and Value not in x_types:
        floats = _plain_numbers(xs)
        if floats is not None:
            return dot(ws, floats, bias)
    elif x_types == _JUST_VALUE and Value not in w_types:
        floats = _plain_numbers(ws)
        if floats is not None:
            return dot(floats, xs, bias)
    return _dot_mixed(ws, xs, tail, start)


def _eager_twin(op: Callable[..., Value], *operands: Any) -> float | None:
    """The number ``op`` gives in the eager call, where the trace's number inputs are plain floats.

    A jit trace sees every input as a Value, but the eager call passes a batch's numbers as
    floats, and floats get another layout, whose ``sum`` adds differently from Python 3.12 on
    (it compensates). User code may read the node's number (``h.item() > 0``), and a guard
    then holds the replay -- which computes as the eager call -- to what was read, so the
    trace must see the eager number. None when no operand is such an input.
    """
    trace = STATE.get().trace
    numbers = trace.numbers if trace is not None else ()
    if not numbers:
        return None
    groups = [group if isinstance(group, (list, tuple)) else (group,) for group in operands]
    if not any(id(x) in numbers for group in groups for x in group):
        return None
    with untraced():  # computed as the eager call would, out of the trace's sight
        eager = [[x.data if id(x) in numbers else x for x in group] for group in groups]
        args = [e if isinstance(o, (list, tuple)) else e[0] for e, o in zip(eager, operands)]
        return op(*args).data


def _as_values(types: set[type]) -> set[type]:
    return {Value if t is Traced else t for t in types}


def _plain_numbers(items: Sequence[Operand]) -> list[float] | None:
    """``items`` as floats (``constant``'s conversion), or None if one is not a plain number."""
    floats = [constant(x) for x in items]
    return None if any(f is None for f in floats) else floats  # type: ignore[return-value]


_JUST_VALUE, _JUST_FLOAT = {Value}, {float}
_layout = tuple.__new__
_PAIRED_WITH_BIAS: dict[int, ops.DotPaired] = {}  # immutable, so shared by every node of that width


def _dot_node(parents: tuple[Value, ...], layout: ops.DotLayout) -> Value:
    return node(layout.value([p.data for p in parents]), parents, ops.DOT, layout)


def _dot_mixed(ws: Sequence[Operand], xs: Sequence[Operand], tail: tuple[Value, ...], start: float) -> Value:
    """The general layout: each parent's partner is a constant or another parent."""
    parents: list[Value] = []
    partner: list[int] = []
    weight: list[float] = []
    for i, (w, x) in enumerate(zip(ws, xs)):
        wv = w if w.__class__ is Value else None
        xv = x if x.__class__ is Value else None
        wc = None if wv is not None else constant(w)
        xc = None if xv is not None else constant(x)
        if (wv is None and wc is None) or (xv is None and xc is None):
            bad = w if wv is None and wc is None else x
            raise TypeError(f"autograd.dot: element {i} is a {type(bad).__name__}, expected a Value or a number")
        if wv is not None and xv is not None:
            j = len(parents)
            parents += (wv, xv)  # type: ignore[arg-type]
            partner += (j + 1, j)
            weight += (0.0, 0.0)
        elif wv is not None or xv is not None:
            parents.append(wv if wv is not None else xv)  # type: ignore[arg-type]
            partner.append(-1)
            weight.append(xc if wv is not None else wc)  # type: ignore[arg-type]
        else:
            start += wc * xc  # type: ignore[operator]
    if tail:
        parents += tail
        partner.append(-1)
        weight.append(1.0)
    if not parents:
        return Value(start)
    return _dot_node(tuple(parents), ops.DotMixed(tuple(partner), tuple(weight), start))


def _values(items: Iterable[Operand], what: str) -> tuple[Value, ...]:
    values = tuple(v if v.__class__ is Value else Value(v) for v in _operands(items, what))  # type: ignore[arg-type]
    if not values:
        raise ValueError(f"{what} of an empty sequence is undefined; pass at least one item")
    return values  # type: ignore[return-value]


def logsumexp(items: Iterable[Operand]) -> Value:
    """log Σ e^x_i, computed as m + log Σ e^(x_i - m) so it never overflows; its gradient is softmax."""
    values = _values(items, "autograd.logsumexp")
    return node(ops.LOGSUMEXP.forward([v.data for v in values], None), values, ops.LOGSUMEXP, None)


def max(items: Iterable[Operand]) -> Value:
    """The largest item as one node; the whole gradient goes to the first maximal item.

    If any item is NaN the result is NaN, and the first NaN item is the one chosen: it takes the
    whole gradient (``max([1.0, nan, nan])`` sends it to the middle item), in eager mode, under
    ``create_graph`` and in ``jit``'s compiled code alike.
    """
    values = _values(items, "autograd.max")
    return node(ops.MAX.forward([v.data for v in values], None), values, ops.MAX, None)
