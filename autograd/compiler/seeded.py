"""Seeded mode of the code writer: one example's code, looped over a batch.

A batch's trace written out whole grows with the batch (800 KB of code for 100 moons points),
past what the CPU's caches hold. When every example runs the same graph against the same
parameters, one example's code suffices, written inside a loop over the batch:

* ``forward(_batch, _shared)`` runs the forward pass of each example and returns the outputs
  and, per example, the tuple of the values its backward pass reads;
* the caller computes the loss's gradient with respect to each output, for the whole batch;
* ``backward(_saved, _seeds, _shared, _grads)`` runs the backward passes, last example first
  (the engine's sweep meets them in that order), and adds each parameter's term onto its
  gradient, ``a = a + g * f``: the engine's additions, in the engine's order.

An example whose seed is zero (a hinge loss's point beyond the margin) adds nothing and is
skipped, when that is exact (``zero_safe``): then each of its terms is a zero, and adding a zero
leaves a gradient as it was.

Two loops in two calls rather than a generator per example: no generator to make and resume
three times per example, and the parameters are unpacked into locals once per batch, not
once per example (a third of a moons step's time went to that bookkeeping). Everything that
is the same for every example (the parameters, tuples of them) is built once per batch by
``shared(_params)``.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

from ..core import ops

if TYPE_CHECKING:
    from .codegen import Tape, _Writer

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class NotLoopable(Exception):
    """This trace cannot be written as one example's code looped over a batch (the message says why)."""


def seeded_source(w: _Writer, lines: list[str], seed_line: str) -> str:
    """The three functions of seeded mode: ``shared`` (once per batch), ``forward`` and ``backward`` (looped).

    ``lines`` are one example's statements: the inputs' unpacking, the forward pass, and after
    ``seed_line`` (``out_bar = out``, the output's adjoint) the backward pass.
    """
    cut = lines.index(seed_line)
    forward, backward = lines[:cut], lines[cut + 1 :]
    out_bar, out = (side.strip() for side in seed_line.split("="))
    columns, uses = [], []  # each term's factors: a name as it is, else a local ``c{i}``
    for i, text in enumerate(w.columns):
        if _NAME.fullmatch(text):
            columns.append(text)
        else:
            columns.append(f"c{i}")
            uses.append(f"c{i} = {text}")
    grads = "".join(f"a{k}, " for k in range(len(w.plan)))
    adds = [
        f"a{k} = a{k} + {columns[i]}" + ("" if j is None else f" * {columns[j]}") for k, (i, j) in enumerate(w.plan)
    ]

    # What is the same for every example, and is read anywhere (a parameter may be read only as
    # another's factor, in ``adds``): unpacked from ``_shared`` by both functions.
    used = set(_NAME.findall("\n".join([*lines, *uses, *adds])))
    shared = [name for name in w.invariant if name in used]
    params = ", ".join(w.invariant[: len(w.captured)])
    prelude = "".join(f"    {line}\n" for line in w.shared_lines)
    returned = "".join(f"{name}, " for name in shared)
    unpack = f"    {returned}= _shared\n" if shared else ""

    # What the backward pass reads of the forward pass's values, saved per example: the numbers,
    # then any tuple of them (a long dot's operands, read again by the backward pass's ``_sum``).
    made = [name for line in forward if (name := _assigned(line))] + w.input_names
    read = set(_NAME.findall("\n".join([*backward, *uses, *adds])))
    tuples = set(w.tuples.values())
    numbers = [name for name in made if name in read and name not in tuples]
    packed = [name for name in made if name in read and name in tuples]
    saved = "".join(f"{name}, " for name in [*numbers, *packed])
    finite = " + ".join(
        ["sum(_row)" if not packed else f"sum(_row[:{len(numbers)}])"]
        + [f"sum(_row[{len(numbers) + k}])" for k in range(len(packed))]
    )
    loop = "\n".join(f"        {line}" for line in forward)
    sweep = "\n".join(f"        {line}" for line in [*backward, *uses, *adds])
    return (
        f"def shared(_params):\n    {params}, = _params\n{prelude}    return ({returned})\n\n\n"
        f"def forward(_batch, _shared):\n{unpack}    _outputs = []\n    _saved = []\n"
        f"    for _inputs in _batch:\n{loop}\n        _outputs.append({out})\n        _saved.append(({saved}))\n"
        f"    return _outputs, _saved\n\n\n"
        f"def backward(_saved, _seeds, _shared, _grads, _skip_zeros):\n{unpack}    {grads}= _grads\n"
        f"    for _row, {out_bar} in zip(reversed(_saved), reversed(_seeds)):\n"
        f"        if _skip_zeros and {out_bar} == 0.0 and ({finite}) * 0.0 == 0.0:\n"
        f"            continue  # a zero seed, every number it meets finite: each term is a zero (``zero_safe``)\n"
        f"        ({saved}) = _row\n{sweep}\n"
        f"    return ({grads})\n"
    )


def _assigned(line: str) -> str | None:
    """The name a statement ``name = ...`` assigns, else None (a comment, an unpacking)."""
    target, sep, _ = line.partition(" = ")
    return target if sep and _NAME.fullmatch(target) else None


def columns(w: _Writer, terms: list[list[tuple[str, str, str | None]]]) -> str:
    """Seeded mode: the factors of every leaf's one term, each written once however many terms share it
    (a neuron's adjoint, an input); ``backward`` adds ``g * f`` (or a lone term) onto the leaf's
    gradient. Fills ``w.plan`` (per leaf, the columns of its factors) and ``w.columns``."""
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
    w.columns = list(found)
    return "".join(f"{text}, " for text in found)


def zero_safe(tape: Tape) -> bool:
    """Whether an example with a zero seed can be skipped, given finite parameters and forward values.

    Every adjoint is the seed times sums of products of partials. With ops whose partials are
    bounded (``ops.BOUNDED_PARTIALS``) and finite constants, every partial is finite when the
    numbers the backward pass reads are (the caller checks the parameters once per batch,
    ``backward`` the example's saved values), so every adjoint and every term is a zero (of
    either sign). Adding a zero to a gradient leaves it as
    it was, unless the gradient is -0.0 (-0.0 + 0.0 is 0.0): the caller checks that too. Any
    infinity or NaN, and the example runs, to give the engine's NaN.
    """
    for node in tape.order:
        if node._op is not None and (node._op.name not in ops.BOUNDED_PARTIALS or not _finite(node._ctx)):
            return False
    return all(_finite(leaf.data) for leaf in tape.constants.values())


def _finite(x: Any) -> bool:
    """Whether a constant (a number, a tuple of them, or None) is finite; anything else counts as not."""
    if x is None:
        return True
    if isinstance(x, (int, float)):
        return math.isfinite(x)
    if isinstance(x, tuple):
        return all(_finite(item) for item in x)
    return False
