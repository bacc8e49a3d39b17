"""The reverse sweep: ONE walk that serves ``backward``, ``gradients``, ``create_graph``,
anomaly mode and the drawings' step-by-step frames.

It orders the graph with an iterative depth-first search (no recursion, so a graph a
million nodes deep works at the default recursion limit), then walks it in reverse,
adding ``node_adjoint * ∂node/∂parent`` into each parent's adjoint: ā = Σ_b b̄ · ∂b/∂a,
the fan-out rule. The local derivatives come from the op table's rules, evaluated on
floats (``FloatMath``) or, under ``create_graph``, on Values (``GraphMath``), so the
gradient is itself a graph that can be differentiated again.
"""

from __future__ import annotations

import contextlib
import gc
import math
from typing import Any, Callable, Iterable, Iterator, NamedTuple, Sequence

from . import ieee as _ieee
from . import ops
from .modes import ANOMALY, STATE, refuse_in_trace
from .ops import FloatMath
from .value import Number, Value, anomaly_message, constant

__all__ = [
    "BackwardStep",
    "GraphMath",
    "HookHandle",
    "Term",
    "backward_steps",
    "gradients",
    "local_derivatives",
    "topological_order",
    "zero_grad",
]


class GraphMath:
    """``F`` for building a rule's result as Values (``create_graph=True``).

    The special functions are generated from ``ops.SPECIAL_FUNCTIONS``, the same list
    ``FloatMath`` is made from: on a Value each calls the method of that name, on a float
    the float function.
    """

    @staticmethod
    def data(x: Any) -> float:
        return x.data if x.__class__ is Value else x  # type: ignore[no-any-return]

    @staticmethod
    def div(x: Any, y: Any) -> Any:
        if x.__class__ is Value or y.__class__ is Value:
            return x / y
        return _ieee.div(x, y)

    @staticmethod
    def pow(x: Any, y: Any) -> Any:
        if x.__class__ is Value or y.__class__ is Value:
            return x**y
        return _ieee.pow(x, y)

    @staticmethod
    def xlogy(x: Any, y: Any) -> Any:
        if GraphMath.data(x) == 0.0:
            return 0.0
        return x * GraphMath.log(y)  # type: ignore[attr-defined]

    @staticmethod
    def sech2(x: Any) -> Any:
        """sech²x = 4σ(2x)σ(-2x): built from sigmoid nodes so it can be differentiated again."""
        if x.__class__ is Value:
            return 4.0 * (2.0 * x).sigmoid() * (-2.0 * x).sigmoid()
        return _ieee.sech2(x)


def _lift(name: str, float_fn: Callable[[float], float]) -> Callable[[Any], Any]:
    method = getattr(Value, name)  # a special function without a Value method fails here, at import

    def fn(x: Any) -> Any:
        return method(x) if x.__class__ is Value else float_fn(x)

    fn.__name__ = name
    return fn


for _name, _fn in ops.SPECIAL_FUNCTIONS.items():
    setattr(GraphMath, _name, staticmethod(_lift(_name, _fn)))


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, inputs before outputs, found without recursion."""
    return _depth_first(root, leaves=True)


def _depth_first(root: Value, leaves: bool) -> list[Value]:
    """Post-order depth-first search with an explicit stack; ``leaves=False`` leaves them out.

    A leaf has nothing to pass on, so a sweep needs no place for it in the order; skipping
    leaves saves a set lookup per edge into a parameter, which is most edges of a network.
    """
    if not (leaves or root._parents):
        return []
    order: list[Value] = []
    seen = {root}
    stack: list[tuple[Value, Iterator[Value]]] = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent._parents:
                if parent not in seen:
                    seen.add(parent)
                    stack.append((parent, iter(parent._parents)))
                    break
            elif leaves and parent not in seen:
                seen.add(parent)
                order.append(parent)
        else:
            stack.pop()
            order.append(node)
    return order


class Term(NamedTuple):
    """One edge of a backward step: ``contribution = adjoint of the node × derivative``, added into ``parent``."""

    parent: Value
    derivative: Any
    contribution: Any


class BackwardStep(NamedTuple):
    """One node of the reverse sweep, as ``backward_steps`` yields it.

    ``adjoint`` is the node's final adjoint; ``terms`` what it passed to each parent (none
    for a leaf); ``adjoints`` the running adjoint of every node reached so far, the live
    dict of the sweep (read it at the step; copy it to keep it).
    """

    node: Value
    adjoint: Any
    terms: tuple[Term, ...]
    adjoints: dict[Value, Any]


def _sweep(
    adj: dict[Value, Any], order: list[Value], create_graph: bool, checked: bool, steps: bool
) -> Iterator[BackwardStep]:
    """THE reverse sweep over ``order`` (inputs before outputs), accumulating into ``adj``.

    A generator so the drawings can watch it (``steps``); otherwise it yields nothing and
    runs straight through. The general step handles every mode; the block marked
    OPTIMIZATION computes the same sums for plain float passes, the overwhelming majority.
    """
    plain = not (create_graph or checked or steps)
    get = adj.get
    F = FloatMath  # a local: read once per node in the loop below
    for node in reversed(order):
        g = adj[node] if node._extra is None else _run_hooks(node, adj)
        parents = node._parents
        if plain:
            # OPTIMIZATION of the general step below, for plain float passes: the same rule on
            # the same floats and the same sums, without Term records; unary and binary nodes
            # (most nodes) are unrolled, which skips a list and a loop (2.5x on a chain).
            arity = len(parents)
            if arity == 1:
                (parent,) = parents
                (d,) = node._op.partials(F, (parent.data,), node.data, node._ctx)  # type: ignore[union-attr]
                adj[parent] = get(parent, 0.0) + g * d
            elif arity == 2:
                left, right = parents
                d_left, d_right = node._op.partials(F, (left.data, right.data), node.data, node._ctx)  # type: ignore[union-attr]
                adj[left] = get(left, 0.0) + g * d_left
                adj[right] = get(right, 0.0) + g * d_right
            else:
                partials = node._op.partials(F, [p.data for p in parents], node.data, node._ctx)  # type: ignore[union-attr]
                for parent, d in zip(parents, partials):
                    adj[parent] = get(parent, 0.0) + g * d
            continue
        # The general step: local derivatives, contributions, and the fan-out sum.
        terms = _terms(node, g, create_graph, checked)
        for parent, _, contribution in terms:
            if create_graph:  # a Value sum starts at its first term, not at a 0.0 + term node
                previous = get(parent)
                adj[parent] = contribution if previous is None else previous + contribution
            else:
                adj[parent] = get(parent, 0.0) + contribution
        if steps:
            yield BackwardStep(node, g, terms, adj)


def _terms(node: Value, g: Any, create_graph: bool, checked: bool) -> tuple[Term, ...]:
    """(parent, ∂node/∂parent, g · ∂node/∂parent) for each parent; in anomaly mode, checked."""
    parents, op = node._parents, node._op
    if op is None:
        return ()
    try:
        if create_graph:
            partials = op.partials(GraphMath, parents, node, node._ctx)
        else:
            partials = op.partials(FloatMath, [p.data for p in parents], node.data, node._ctx)
    except FloatingPointError as error:  # anomaly mode, while building the derivative graph
        found = str(error).split(".", 1)[0]
        raise FloatingPointError(anomaly_message(node, f"has a derivative that is not finite here ({found})")) from None
    terms = tuple(Term(parent, d, g * d) for parent, d in zip(parents, partials))
    if checked:
        for i, term in enumerate(terms):
            t = GraphMath.data(term.contribution)
            if not math.isfinite(t) and math.isfinite(GraphMath.data(g)):
                raise FloatingPointError(anomaly_message(node, f"returned {t} as the gradient for its input {i}"))
    return terms


class HookHandle:
    """What ``register_hook`` returns; ``remove()`` takes the hook off again."""

    __slots__ = ("_hook", "_hooks")

    def __init__(self, hooks: list[Callable[[Any], Any]], hook: Callable[[Any], Any]) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _run_hooks(node: Value, adj: dict[Value, Any]) -> Any:
    g = adj.get(node, 0.0)
    for hook in list((node._extra or {}).get("hooks", ())):
        replaced = hook(g)
        if replaced is None:
            continue
        if replaced.__class__ is not Value and constant(replaced) is None:
            raise TypeError(
                f"a gradient hook returned {type(replaced).__name__} {replaced!r:.40}: "
                "return None to keep the gradient, or a number (a Value under create_graph) to replace it"
            )
        g = replaced
    adj[node] = g
    return g


@contextlib.contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Keep Python's cycle collector out of a backward pass.

    The pass makes no reference cycles, but its allocations (the sort's stack, the
    adjoints) trigger full collections that rescan the whole graph: on a 50,000-step
    chain that was 0.35 s of a 0.83 s backward. Collection resumes afterwards.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def adjoints(root: Value, seed: Any, create_graph: bool) -> dict[Value, Any]:
    """This pass's adjoint of every node ``root`` depends on (root included)."""
    adj: dict[Value, Any] = {root: seed}
    checked = bool(STATE.get().mode & ANOMALY)
    with _cycle_collector_paused():
        for _ in _sweep(adj, _depth_first(root, leaves=False), create_graph, checked, steps=False):
            pass
        for node in [n for n in adj if n._extra is not None and "hooks" in n._extra and not n._parents]:
            _run_hooks(node, adj)  # a leaf's adjoint is complete only once every node is done
    return adj


def backward_steps(root: Value, seed: Number = 1.0) -> Iterator[BackwardStep]:
    """The reverse sweep one node at a time: what ``draw_backward`` shows.

    Yields a ``BackwardStep(node, adjoint, terms, adjoints)`` for every node ``root``
    depends on, leaves included, outputs before inputs (reversed ``topological_order``);
    a node's adjoint is final when it is yielded. Float adjoints, no ``.grad`` is touched;
    hooks and anomaly mode apply as in ``backward``. After the last step, ``adjoints``
    holds what ``gradients`` would return.
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward_steps(): root must be a Value, got {type(root).__name__}")
    refuse_in_trace("backward_steps()")
    start = constant(seed)
    if start is None:
        raise TypeError(f"backward_steps(seed=...) takes a number, got {type(seed).__name__}")
    checked = bool(STATE.get().mode & ANOMALY)
    yield from _sweep({root: start}, topological_order(root), False, checked, steps=True)


def backward(root: Value, grad: Number, create_graph: bool) -> None:
    """``Value.backward``: add this pass's adjoints into ``.grad`` (and ``grad_value``)."""
    seed = constant(grad)
    if seed is None:
        raise TypeError(f"backward(grad=...) takes a number, got {type(grad).__name__}")
    refuse_in_trace("backward()")  # its .grad would be numbers frozen at the traced ones
    for node, g in adjoints(root, seed, create_graph).items():
        if create_graph and g.__class__ is not Value:
            g = Value(g)  # the root's seed: its gradient is a Value too, so every node of the pass has one
        if g.__class__ is Value:
            extra = node.extra()
            previous = extra.get("grad_value")
            extra["grad_value"] = g if previous is None else previous + g
            node.grad += g.data
        else:
            node.grad += g


def gradients(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Any]:
    """d output / d input for each input, without touching any ``.grad``.

    Inputs the output does not depend on get 0.0. With ``create_graph=True`` each
    gradient is a ``Value`` that can be differentiated again.
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradients(): output must be a Value, got {type(output).__name__}")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"gradients(): inputs[{i}] is a {type(x).__name__}, expected a Value")
    if not create_graph:
        refuse_in_trace("gradients() (float gradients; create_graph=True gives traceable Values)")
    adj = adjoints(output, 1.0, create_graph)
    if not create_graph:
        return [adj.get(x, 0.0) for x in inputs]
    result = []
    for x in inputs:
        g = adj.get(x, 0.0)
        result.append(g if g.__class__ is Value else Value(g))
    return result


def local_derivatives(node: Value) -> tuple[float, ...]:
    """∂node/∂parent for each of ``node``'s parents, as floats (what the edges of a drawing show)."""
    refuse_in_trace("local_derivatives()")
    return tuple(term.derivative for term in _terms(node, 1.0, create_graph=False, checked=False))


def zero_grad(roots: Value | Iterable[Value]) -> None:
    """Set ``.grad`` to 0 (and drop any differentiable gradient) on ``roots`` and everything they depend on.

    One Value zeroes its graph; an iterable of Values (a model's parameters) zeroes each one's
    graph, which for a leaf is the leaf alone. The one way to zero gradients: ``Module.zero_grad``
    and ``Optimizer.zero_grad`` call it with their parameters."""
    for root in (roots,) if isinstance(roots, Value) else roots:
        if not root._parents:  # a parameter: the common case, without a graph walk
            root.grad = 0.0
            if root._extra is not None:
                root._extra.pop("grad_value", None)
            continue
        for node in topological_order(root):
            node.grad = 0.0
            if node._extra is not None:
                node._extra.pop("grad_value", None)
