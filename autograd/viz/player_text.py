"""The words of the backward player: names of values, captions, hover text.

A caption names a value by its label, else by a short formula of its inputs' names
(``w*x``, ``tanh(n)``), else by ``#N``, its place in topological order; the player
writes that name in the value's box, so the caption and the picture agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..core import Value, local_derivatives
from .structure import Structure
from .text import format_number

__all__ = ["Contribution", "adjoint_name", "caption", "hover_lines", "value_names"]

MAX_CAPTION_LABEL = 32  # characters of a label shown in a caption
MAX_CAPTION_TERMS = 8  # a wide node (a neuron's dot product) lists this many terms, then counts the rest
MAX_FORMULA_NAME = 16  # a longer formula names a value by its number instead
_ARITHMETIC = ("+", "-", "*", "/")


@dataclass(frozen=True)
class Contribution:
    """One chain-rule term added in a frame: ``before + upstream · derivative = after``."""

    parent: Value
    before: float
    upstream: float
    derivative: float
    after: float


def _formula(v: Value, names: Mapping[Value, str], formulas: set[Value]) -> str:
    inner = [f"({names[p]})" if p in formulas else names[p] for p in v.parents]
    symbol = v.op_symbol or ""
    if len(inner) == 2 and symbol in _ARITHMETIC:
        return inner[0] + symbol + inner[1]
    if len(inner) != 1:
        return ""
    if symbol.isidentifier():
        return f"{symbol}({names[v.parents[0]]})"
    if symbol in _ARITHMETIC:  # -x
        return symbol + inner[0]
    if symbol[:1] in _ARITHMETIC:  # a folded constant: x * 2
        return inner[0] + symbol.replace(" ", "")
    if symbol[-1:] in _ARITHMETIC:  # 2 - x
        return symbol.replace(" ", "") + inner[0]
    return ""


def value_names(order: Sequence[Value]) -> dict[Value, str]:
    """What captions call each value of ``order`` (a topological order)."""
    names: dict[Value, str] = {}
    formulas: set[Value] = set()  # named by a formula: wrapped in parentheses inside another
    for i, v in enumerate(order):
        if v.label:
            label = v.label
            names[v] = label if len(label) <= MAX_CAPTION_LABEL else label[: MAX_CAPTION_LABEL - 1] + "…"
            continue
        formula = _formula(v, names, formulas)
        numbered = any(names[p].startswith("#") and not p.label for p in v.parents)
        if formula and len(formula) <= MAX_FORMULA_NAME and not numbered:
            names[v] = formula
            formulas.add(v)
        else:
            names[v] = f"#{i}"
    return names


def adjoint_name(name: str) -> str:
    """``b`` -> ``b̄``; a longer name -> ``grad(name)`` (a bar over several letters cannot be typed)."""
    return name + "\u0304" if len(name) == 1 else f"grad({name})"


def caption(
    k: int,
    total: int,
    node: Value,
    adjoint: float,
    terms: Sequence[Contribution],
    names: Mapping[Value, str],
    precision: int,
) -> str:
    """Frame ``k``'s caption: the node's final adjoint, then one line of arithmetic per term."""

    def number(x: float) -> str:
        return format_number(x, precision)

    name = names[node]
    head = f"Step {k + 1}/{total}: {adjoint_name(name)} = {number(adjoint)}"
    if not node.parents:
        return head + f" is final; {name} is a leaf, so this is its gradient"
    lines = [head + f" is final; {node.op_symbol} passes it back to its inputs:"]
    for t in terms[:MAX_CAPTION_TERMS]:
        arithmetic = f"{number(t.before)} + {number(t.upstream)} · {number(t.derivative)} = {number(t.after)}"
        lines.append(f"{adjoint_name(names[t.parent])} = {arithmetic}")
    if len(terms) > MAX_CAPTION_TERMS:
        lines.append(f"… and {len(terms) - MAX_CAPTION_TERMS} more inputs, each the same way")
    return "\n".join(lines)


def hover_lines(
    structure: Structure, names: Mapping[Value, str], grads: Mapping[Value, float] | None
) -> dict[str, list[str]]:
    """Hover text for every drawn node id: name, data (and grad, when ``grads`` is given), how it
    was made and its local derivatives, all at full precision (the boxes show them rounded)."""
    info: dict[str, list[str]] = {}
    for n, v in enumerate(structure.values):
        name = names[v]
        derivatives = [f"∂{name}/∂{names[p]} = {d!r}" for p, d in zip(v.parents, local_derivatives(v))]
        grad = [] if grads is None else [f"grad {grads.get(v, 0.0)!r}"]
        made = [f"made by {v.op_symbol}"] if v.parents else ["a leaf"]
        info[f"v{n}"] = [name, f"data {v.data!r}", *grad, *made, *derivatives]
        if v.parents:
            info[f"op{n}"] = [f"{v.op_symbol} → {name}", *derivatives]
    for box in structure.boxes.values():
        size = len(box.members)
        info[box.id] = [box.steps[-1][1], f"{size} value{'s' if size != 1 else ''} folded in"]
    return info
