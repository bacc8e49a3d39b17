"""The n-ary nodes ``dot`` and ``sum`` as generated source: the very additions the engine makes, in its order.

The engine picks a dot's layout (``nary.dot``) from the types of its operands, and the layouts
add differently where ``sum`` is compensated (Python 3.12+, Neumaier): ``DotConst`` sums every
product, the bias's ``b * 1.0`` included, in one ``sum``; ``DotPaired`` adds the bias after
its ``sum``; ``DotMixed`` adds left to right in Python. Before 3.12 all three are the same
left-to-right additions, so the layout never showed.

A trace sees the examples' numbers as ``Value``s (they are its inputs), so a first layer's
``dot(w, x, b)`` is traced as ``DotPaired`` -- while the eager call, ``model(x)`` with ``x`` a
list of floats, builds ``DotConst``. The tape's ``numbers`` are the inputs the eager call
passes as plain floats; a dot with such operands is written in the layout the engine builds
for that call (``eager_layout``), and a sum adds them into its constant first, as
``nary.sum`` does, so replay equals eager on every Python.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Sequence

from ..core import ops
from .source import operand, render

if TYPE_CHECKING:
    from .codegen import _Writer

#: Whether ``sum`` of floats adds left to right (before 3.12), so a written-out chain equals it.
SUM_IS_SEQUENTIAL = sys.version_info < (3, 12)

# Up to this many products, a dot or a sum of terms is written out (``a * b + c * d + ...``)
# rather than summed by ``sum(map(mul, ...))``: CPython's specialised float ``*`` and ``+``
# beat a call of ``mul`` per item (16 products: 180 ns against 330 ns on 3.11), and need no tuples.
WRITTEN_OUT = 32


def written_out(start: Any, pairs: Sequence[tuple[Any, Any]]) -> str:
    """``start + a * b + ...`` left to right; a factor 1.0 is left out (``v * 1.0`` is ``v``, bit for bit)."""
    terms = [operand(a) if b.__class__ is float and b == 1.0 else f"{operand(a)} * {operand(b)}" for a, b in pairs]
    return " + ".join([operand(start), *terms])


def _summed(w: _Writer, start: Any, pairs: Sequence[tuple[Any, Any]], constants: tuple[float, ...] = ()) -> str:
    """``sum(map(mul, left, right), start)``, or written out where that is the same additions.

    The tuples are shared locals (a layer's weights, an example's inputs); ``constants``, if
    given, is the right side as one bound tuple (a ``DotConst``'s partials).
    """
    if SUM_IS_SEQUENTIAL and len(pairs) <= WRITTEN_OUT:
        return written_out(start, pairs)
    left = w.pack([render(a) for a, _ in pairs])
    right = w.bind("c", constants) if constants else w.pack([render(b) for _, b in pairs])
    return f"_sum(map(_mul, {left}, {right}), {operand(start)})"


def dot_source(w: _Writer, ctx: Any, xs: list[Any], numbers: list[bool]) -> str | None:
    """A dot's value as source, or None to call the row. ``numbers[i]``: operand i is a float in the eager call."""
    if any(numbers):
        return _eager_source(w, ctx, xs, numbers)
    if isinstance(ctx, ops.DotConst):
        return _summed(w, ctx.constant, list(zip(xs, ctx.partials)), ctx.partials)
    if isinstance(ctx, ops.DotPaired):
        n = ctx.n
        total = _summed(w, ctx.constant, list(zip(xs[:n], xs[n : 2 * n])))
        return f"{total} + {operand(xs[2 * n])}" if ctx.tail else total
    return None


def eager_layout(
    ctx: Any, xs: list[Any], numbers: list[bool]
) -> tuple[str, Any, list[tuple[Any, Any]], list[tuple[Any, Any]]]:
    """The layout ``nary.dot`` builds when the operands marked in ``numbers`` are floats.

    Returns ``(kind, start, folded, pairs)``: ``kind`` "sum" (one ``sum`` of ``pairs`` from
    ``start``: ``DotConst``, or ``DotPaired`` with a number as bias) or "mixed" (``start``,
    then the ``folded`` number-by-number products, then ``pairs``, added left to right), as
    ``nary.dot`` and the ``ops.Dot*`` layouts do.

    A traced layout does not keep everything the call said. A ``DotConst`` records a bias as
    one more product, with 1.0, so a bias from the example next to a side of constants of the
    function is read as a product; a ``DotMixed`` does not record which side an operand paired
    with a constant was on, so it is read as "mixed" even where the eager call's sides would
    make it "sum" (numbers and constants on one side, only parameters on the other); and a
    product of two constants of the function was added into the constant when traced, while
    the eager call adds it among the numbers' products in the order of the operands.
    """
    start: Any = ctx.constant
    tail: list[tuple[Any, bool]] = []
    if isinstance(ctx, ops.DotPaired):
        n = ctx.n
        ws, ins = list(zip(xs[:n], numbers[:n])), list(zip(xs[n : 2 * n], numbers[n : 2 * n]))
        tail = [(xs[2 * n], numbers[2 * n])] if ctx.tail else []
        if tail and tail[0][1]:  # a bias passed as a number is where the engine starts
            start, tail = tail[0][0], []
    elif isinstance(ctx, ops.DotConst):  # one side numbers already
        ws, ins = list(zip(xs, numbers)), [(c, True) for c in ctx.partials]
    else:  # DotMixed: each parent paired with a constant weight, or with its partner parent
        ws, ins = [], []
        for i, (j, weight) in enumerate(zip(ctx.partner, ctx.weight)):
            if j < 0 or j > i:
                ws.append((xs[i], numbers[i]))
                ins.append((weight, True) if j < 0 else (xs[j], numbers[j]))
    bias = [(b, 1.0) for b, _ in tail]
    if not isinstance(ctx, ops.DotMixed):
        for values, others in ((ws, ins), (ins, ws)):
            kinds = {is_number for _, is_number in others}
            if not any(is_number for _, is_number in values) and len(kinds) == 1:  # Values against one kind
                return "sum", start, [], [(v, o) for (v, _), (o, _) in zip(values, others)] + bias
    folded = [(a, b) for (a, a_number), (b, b_number) in zip(ws, ins) if a_number and b_number]
    pairs = [(a, b) for (a, a_number), (b, b_number) in zip(ws, ins) if not (a_number and b_number)]
    return "mixed", start, folded, pairs + bias


def _eager_source(w: _Writer, ctx: Any, xs: list[Any], numbers: list[bool]) -> str:
    kind, start, folded, pairs = eager_layout(ctx, xs, numbers)
    if kind == "sum":
        return _summed(w, start, pairs)
    return written_out(start, folded + pairs)


def sum_source(call: str, ctx: float, xs: list[Any], numbers: list[bool]) -> str:
    """A sum over some numbers of the eager call, as ``nary.sum`` makes it: the numbers added into the constant.

    ``call`` is the row's bound name. The trace folded the sum's own constants (the floats
    written in the function) into ``ctx``; the eager call adds those and the numbers in the
    order of the items, which this equals when the constants come first (or there are none).
    """
    values = ", ".join(render(x) for x, is_number in zip(xs, numbers) if not is_number)
    start = " + ".join([operand(ctx), *(operand(x) for x, is_number in zip(xs, numbers) if is_number)])
    return f"{call}([{values}], {start})"
