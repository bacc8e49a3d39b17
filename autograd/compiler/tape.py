"""The tape of a trace: what ``codegen`` writes out, gathered from the output and the recording."""

from __future__ import annotations

from typing import Any

from ..core import Value, topological_order
from .codegen import Tape
from .tracing import CompileError, Recording

__all__ = ["forward_order", "make_tape"]


def make_tape(
    output: Value,
    aux: list[Value],
    inputs: list[Value],
    wanted: list[int],
    record: Recording,
    hints: Any,
    numbers: set[int],
) -> Tape:
    """The tape of one trace: the engine's sweep order for the backward pass, the replay's order forward."""
    backward = [node for node in topological_order(output) if node._parents]
    roots = [output, *aux, *(g.left for g in record.guards), *(g.right for g in record.guards)]
    order = forward_order(roots, record.sources)
    for node in order:
        if node._extra is not None and node._extra.get("hooks"):
            raise CompileError("jit: a traced node has a backward hook; hooks run only in the eager engine")
    made = dict(record.made)
    return Tape(output, aux, order, backward, inputs, wanted, made, record.guards, hints, numbers, record.sources)


def forward_order(roots: list[Any], sources: dict[int, Value]) -> list[Value]:
    """Every node the roots depend on, inputs first, without recursion; ``x.detach()`` depends on ``x``.

    A detached value is a leaf to the engine's sweep (no gradient passes), but the replay
    computes it from its source, so the source comes first here.
    """
    order: list[Value] = []
    seen: set[int] = set()

    def before(node: Value) -> Any:
        source = sources.get(id(node))
        return iter(node._parents if source is None else (source,))

    for root in roots:
        if root.__class__ is not Value or id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, before(root))]
        while stack:
            node, parents = stack[-1]
            for parent in parents:
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append((parent, before(parent)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order
