"""Seeded mode of the code writer: one example of a batch as a generator, looped by the caller.

A batch's trace written out whole grows with the batch (800 KB of code for 100 moons points),
past what the CPU's caches hold. When every example runs the same graph against the same
parameters, one example's code suffices: ``example(_inputs, _shared)`` runs the forward pass,
yields the output, is sent its adjoint (the loss's gradient, computed by the caller for the
whole batch), runs the backward pass, and yields the factors of each parameter's gradient term.
``accumulate(rows, grads)``, written for the same plan, multiplies and adds those terms over the
batch in the engine's order.
Everything that is the same for every example (the parameters, tuples of them) is built once
per batch by ``shared(_params)``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .codegen import _Writer


class NotLoopable(Exception):
    """This trace cannot be written as a per-example generator (the message says why)."""


def seeded_source(w: _Writer, lines: list[str], results: str) -> str:
    """The two functions of seeded mode: ``shared`` (once per batch) and ``example`` (per example)."""
    used = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", "\n".join(lines)))
    shared = [name for name in w.invariant if name in used]
    params = ", ".join(w.invariant[: len(w.captured)])
    prelude = "".join(f"    {line}\n" for line in w.shared_lines)
    start = 1 if w.tape.inputs else 0  # after the unpacking of the inputs
    unpack = [f"{', '.join(shared)}, = _shared"] if shared else []
    body = "".join(f"    {line}\n" for line in [*lines[:start], *unpack, *lines[start:]])
    returned = "".join(f"{name}, " for name in shared)
    return (
        f"def shared(_params):\n    {params}, = _params\n{prelude}    return ({returned})\n\n\n"
        f"def example(_inputs, _shared):\n{body}    yield ({results})\n\n\n{_accumulate_source(w.plan)}"
    )


def _accumulate_source(plan: list[tuple[int, int | None]]) -> str:
    """``accumulate(_rows, _grads)``: each parameter's terms over the batch, added onto its gradient in row order.

    One ``a = a + c * d`` per parameter per row, CPython's specialised float ops: the engine's
    additions, left to right, on every Python (``sum`` compensates from 3.12 on), and as fast
    as ``sum(map(mul, ...))`` per parameter on 3.11 (0.57 ms a moons batch; 3.12: 0.55 against 1.4).
    """
    grads = "".join(f"a{k}, " for k in range(len(plan)))
    width = 1 + max(max(i, -1 if j is None else j) for i, j in plan)
    lines = [f"    {grads}= _grads", f"    for {''.join(f'c{i}, ' for i in range(width))}in _rows:"]
    for k, (i, j) in enumerate(plan):
        lines.append(f"        a{k} = a{k} + c{i}" + ("" if j is None else f" * c{j}"))
    return "def accumulate(_rows, _grads):\n" + "\n".join(lines) + f"\n    return ({grads})\n"


def columns(w: _Writer, terms: list[list[tuple[str, str, str | None]]]) -> str:
    """Seeded mode: the values an example yields, from which the caller forms every leaf's term.

    A term ``g * f`` is yielded as its two factors, each once however many terms share it
    (a neuron's adjoint, an input), and multiplied by the caller over the whole batch at once
    (``sum(map(mul, gs, fs), grad)`` in C); other terms are yielded as they are. Fills ``w.plan``.
    """
    found: dict[str, int] = {}

    def column(text: str) -> int:
        return found.setdefault(text, len(found))

    for leaf_terms in terms:
        if len(leaf_terms) != 1:
            raise NotLoopable("a parameter is used more than once (or not at all) in one example")
        ((text, g, factor),) = leaf_terms
        if factor is not None and text == f"{g} * {factor}":
            w.plan.append((column(g), column(factor)))
        else:
            w.plan.append((column(text), None))
    return "".join(f"{text}, " for text in found)
