"""The words of the backward player: names of values, captions, hover text.

One notation everywhere: the gradient of ``x`` is written ``grad(x)`` (as in ``x.grad``),
negative numbers and subtractions with a true minus sign (``0.5000 − 0.2500 · 2.0000``),
numbers at the drawing's precision. A value is named by its label (qualified by its place,
``layer 1 · neuron 0 · w0``, when the label repeats), else by a short formula of its inputs'
names (``w*x``, ``tanh(n)``), else by its operation and a count (``add_2``); the output of a
folded box is named by the box (``layer 0 · neuron 3``). The player writes a value's name in
its drawn box, so the caption and the picture agree; internal ids never appear.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ..core import Value, local_derivatives
from .dot_nodes import op_text
from .structure import Box, Structure
from .text import format_number

__all__ = [
    "Contribution",
    "adjoint_name",
    "box_caption",
    "box_name",
    "caption",
    "hover_lines",
    "signed",
    "start_caption",
    "value_names",
]

MAX_CAPTION_LABEL = 32  # characters of a label shown in a caption
MAX_FORMULA_NAME = 16  # a longer formula names a value by its operation instead
MINUS = "\u2212"
_ARITHMETIC = ("+", "-", "*", "/")


@dataclass(frozen=True)
class Contribution:
    """One chain-rule term added in a frame: ``before + upstream · derivative = after``."""

    parent: Value
    before: float
    upstream: float
    derivative: float
    after: float


def signed(x: float, precision: int) -> str:
    """``x`` at ``precision`` with a true minus sign (``−0.0333``)."""
    text = format_number(x, precision)
    return MINUS + text[1:] if text.startswith("-") else text


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


def box_name(box: Box) -> str:
    """``layer 0 · neuron 3``: the labels of the clusters a folded box stands for."""
    return " · ".join(label for _, label in box.steps)


def _place_name(structure: Structure, v: Value) -> str:
    steps = structure.place.get(structure.representative.get(v, v), ())
    return " · ".join(label for _, label in steps)


def value_names(structure: Structure) -> dict[Value, str]:
    """What captions, tooltips and the player's drawing call each value of the graph."""
    names: dict[Value, str] = {}
    formulas: set[Value] = set()  # named by a formula: wrapped in parentheses inside another
    counts: dict[str, int] = {}
    outputs = {}
    for box in structure.boxes.values():
        out = structure.box_outputs(box)
        if len(out) == 1:
            outputs[out[0]] = box_name(box)
    labels = Counter(v.label for v in structure.order if v.label)
    repeated = {label for label, count in labels.items() if count > 1}
    for v in structure.order:
        if v.label:
            label = v.label
            label = label if len(label) <= MAX_CAPTION_LABEL else label[: MAX_CAPTION_LABEL - 1] + "…"
            place = _place_name(structure, v) if v.label in repeated else ""
            names[v] = f"{place} · {label}" if place else label
            continue
        if v in outputs:
            names[v] = outputs[v]
            continue
        formula = _formula(v, names, formulas)
        counted = any(p not in formulas and not p.label and p.parents and p not in outputs for p in v.parents)
        if formula and len(formula) <= MAX_FORMULA_NAME and not counted:
            names[v] = formula
            formulas.add(v)
        else:
            op = (v.op or "value").split("_")[0]  # mul_const -> mul
            counts[op] = counts.get(op, 0) + 1
            names[v] = f"{op}_{counts[op]}"
    return names


def adjoint_name(name: str) -> str:
    """``b`` -> ``grad(b)``: one notation for every gradient, as in ``b.grad``."""
    return f"grad({name})"


def _term(t: Contribution, precision: int) -> str:
    """``before ± |upstream| · |derivative| = after``: a negative product is subtracted."""
    negative = (t.upstream < 0) != (t.derivative < 0)
    operator = MINUS if negative else "+"
    up, d = signed(abs(t.upstream), precision), signed(abs(t.derivative), precision)
    return f"{signed(t.before, precision)} {operator} {up} · {d} = {signed(t.after, precision)}"


def start_caption(root: Value, names: Mapping[Value, str]) -> str:
    """Frame 0: the state before the backward pass."""
    name = names[root]
    return (
        f"Start, before the backward pass: {adjoint_name(name)} = 1, the output's gradient with respect to itself.\n"
        "Every other grad is ? until the sweep reaches it."
    )


def caption(
    k: int,
    total: int,
    node: Value,
    adjoint: float,
    terms: Sequence[Contribution],
    names: Mapping[Value, str],
    precision: int,
) -> str:
    """Step ``k``'s caption: the node's final adjoint, then one line of arithmetic per term."""
    name = names[node]
    head = f"Step {k}/{total}: {adjoint_name(name)} = {signed(adjoint, precision)} is final; "
    if not node.parents:
        return head + f"{name} is a leaf, so this is its gradient"
    lines = [head + f"{op_text(node)} passes it back to its inputs:"]
    lines += [f"{adjoint_name(names[t.parent])} = {_term(t, precision)}" for t in terms]
    return "\n".join(lines)


def box_caption(
    k: int,
    total: int,
    box: Box,
    structure: Structure,
    adjoint: float,
    terms: Sequence[Contribution],
    names: Mapping[Value, str],
    precision: int,
) -> str:
    """Step ``k`` through a folded box: its output's grad, the steps inside in words, then what
    its parameters and its inputs receive (a parameter by its name in the box)."""
    lines = [f"Step {k}/{total}: {box_name(box)}: out grad = {signed(adjoint, precision)} is final; it passes it back:"]
    outside: list[str] = []
    for t in terms:
        inside = structure.box_of.get(structure.representative.get(t.parent, t.parent)) is box
        if inside and t.parent in structure.parameters:
            label = structure.label(t.parent) or names[t.parent]
            lines.append(f"  grad({label}) = {_term(t, precision)}")
        elif inside:
            factors = f"{signed(t.upstream, precision)} · {signed(t.derivative, precision)}"
            product = signed(t.after - t.before, precision)
            lines.append(f"  inside: {op_text(t.parent)} receives {factors} = {product}")
        else:
            outside.append(f"  {adjoint_name(names[t.parent])} = {_term(t, precision)}")
    if outside:
        lines.append("its inputs receive:")
        lines += outside
    return "\n".join(lines)


def hover_lines(
    structure: Structure, names: Mapping[Value, str], grads: Mapping[Value, float] | None, precision: int
) -> dict[str, list[str]]:
    """Hover text for every drawn node id: name, data (and grad, when ``grads`` is given), how it
    was made and its local derivatives, at the drawing's precision."""
    info: dict[str, list[str]] = {}
    for n, v in enumerate(structure.values):
        name = names[v]
        derivatives = [f"∂{name}/∂{names[p]} = {signed(d, precision)}" for p, d in zip(v.parents, local_derivatives(v))]
        grad = [] if grads is None else [f"{adjoint_name(name)} = {signed(grads.get(v, 0.0), precision)}"]
        made = [f"made by {op_text(v)}"] if v.parents else ["a leaf"]
        info[f"v{n}"] = [name, f"data {signed(v.data, precision)}", *grad, *made, *derivatives]
        if v.parents:
            info[f"op{n}"] = [f"{op_text(v)} → {name}", *derivatives]
    for box in structure.boxes.values():
        size = len(box.members)
        info[box.id] = [box_name(box), f"{size} value{'s' if size != 1 else ''} folded in"]
    return info
