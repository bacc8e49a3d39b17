"""Grow a random graph op by op and check ``backward()`` against a sum over all paths.

The reference is the chain rule written out the long way: the derivative of the
root with respect to a node is the sum, over every path from the root down to that
node, of the product of the local derivatives along the path. Local derivatives
come from SymPy (the op table's symbolic forms), not from the engine; paths are
enumerated one by one with an explicit stack. Nothing is shared with the engine's
reverse topological sweep, so this is an independent oracle for fan-out: a node
used k times must collect k contributions, ``a + a`` counts its edge twice, and
``backward()`` must touch nothing outside the root's graph.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from valuegrad import autograd
from valuegrad.autograd import Value
from valuegrad.autograd.testing.optable import ROWS, OpRow
from valuegrad.autograd.testing.strategies import finite_floats, valid_step
from valuegrad.autograd.testing.symbolic import row_twin

MAX_NODES = 10
MAX_PATHS = 20_000  # path enumeration is exponential on purpose; stay small


@dataclass
class Node:
    value: Value
    row: OpRow | None = None  # None for a leaf
    args: tuple[int, ...] = ()
    local: tuple[float, ...] = ()  # ∂node/∂arg for each argument position, from SymPy


def path_sum_adjoints(nodes: list[Node], root: int) -> dict[int, float] | None:
    """Σ over root→node paths of the product of local derivatives; None if there are too many paths."""
    paths_below = [1] * len(nodes)  # number of root-ward paths is cheap to count first
    for i, node in enumerate(nodes):
        paths_below[i] = 1 + sum(paths_below[a] for a in node.args)
    if paths_below[root] > MAX_PATHS:
        return None
    adjoint: dict[int, float] = {}
    stack = [(root, 1.0)]
    while stack:
        i, product = stack.pop()
        adjoint[i] = adjoint.get(i, 0.0) + product
        node = nodes[i]
        for arg, local in zip(node.args, node.local):
            stack.append((arg, product * local))
    return adjoint


class GrowingGraph(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.nodes: list[Node] = []

    @initialize(x=finite_floats(-2.0, 2.0))
    def first_leaf(self, x: float) -> None:
        self.nodes.append(Node(Value(x)))

    @precondition(lambda self: len(self.nodes) < MAX_NODES)
    @rule(x=finite_floats(-2.0, 2.0))
    def add_leaf(self, x: float) -> None:
        self.nodes.append(Node(Value(x)))

    @precondition(lambda self: len(self.nodes) < MAX_NODES)
    @rule(data=st.data())
    def apply_op(self, data: st.DataObject) -> None:
        row = data.draw(st.sampled_from(ROWS), label="op")
        args = tuple(data.draw(st.integers(0, len(self.nodes) - 1), label="arg") for _ in range(row.arity))
        constants = tuple(data.draw(finite_floats(c.lo, c.hi), label="constant") for c in row.constants)
        if any(c.integer for c in row.constants):
            constants = tuple(float(round(c)) for c in constants)
        xs = [self.nodes[a].value.data for a in args]
        if not valid_step(row, xs, constants):
            return  # outside the op's domain or near a kink at these values: grow elsewhere
        out = row.on_values(*(self.nodes[a].value for a in args), *constants)
        local = tuple(row_twin(row).gradient(*xs, *constants))
        self.nodes.append(Node(out, row, args, local))

    @rule(data=st.data())
    def backward_matches_the_sum_over_paths(self, data: st.DataObject) -> None:
        root = data.draw(st.integers(0, len(self.nodes) - 1), label="root")
        reference = path_sum_adjoints(self.nodes, root)
        if reference is None:
            return
        root_value = self.nodes[root].value
        autograd.zero_grad(root_value)
        outside = {i: n.value.grad for i, n in enumerate(self.nodes) if i not in reference}
        root_value.backward()
        self._compare(reference, 1.0, "backward()")
        root_value.backward()  # gradients accumulate: a second pass doubles every reached node
        self._compare(reference, 2.0, "a second backward()")
        for i, grad in outside.items():
            assert self.nodes[i].value.grad == grad, f"backward() from node {root} changed node {i} outside its graph"
        leaves = [i for i in reference if self.nodes[i].row is None]
        functional = autograd.gradients(root_value, [self.nodes[i].value for i in leaves])
        for i, g in zip(leaves, functional):
            assert _close(g, reference[i]), f"gradients(): node {i} got {g!r}, paths give {reference[i]!r}"

    def _compare(self, reference: dict[int, float], times: float, what: str) -> None:
        for i, expected in reference.items():
            got = self.nodes[i].value.grad
            assert _close(got, times * expected), (
                f"after {what}: node {i} ({self._describe(i)}) has grad {got!r}, paths give {times * expected!r}"
            )

    def _describe(self, i: int) -> str:
        node = self.nodes[i]
        if node.row is None:
            return "leaf"
        return node.row.format([f"n{a}" for a in node.args], [])

    @invariant()
    def every_node_has_its_parents_in_argument_order(self) -> None:
        for node in self.nodes:
            if node.row is not None and node.row.engine_op not in ("dot",):
                # dot folds its layout; every other op keeps one parent per Value argument, in order
                assert node.value.parents == tuple(self.nodes[a].value for a in node.args)


def _close(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-9 + 1e-9 * max(abs(a), abs(b))


TestGrowingGraph = GrowingGraph.TestCase


def test_path_sum_counts_every_edge() -> None:
    """The oracle itself, by hand: b = a + a, c = b * b gives dc/da = 2b · 2 = 8a."""
    a = Node(Value(1.5))
    b = Node(Value(3.0), ROWS[0], (0, 0), (1.0, 1.0))
    c = Node(Value(9.0), ROWS[2], (1, 1), (3.0, 3.0))
    assert path_sum_adjoints([a, b, c], 2) == {2: 1.0, 1: 6.0, 0: 12.0}


def test_path_sum_differs_from_a_wrong_engine_answer() -> None:
    """If fan-out were not summed (last write wins) the oracle would disagree."""
    a = Node(Value(1.5))
    b = Node(Value(3.0), ROWS[0], (0, 0), (1.0, 1.0))
    reference = path_sum_adjoints([a, b], 1)
    assert reference is not None and reference[0] == 2.0
    assert not _close(1.0, reference[0])


def _last_write_wins_backward(self: Value, grad: float = 1.0, create_graph: bool = False) -> None:
    """A plausible wrong engine: each parent's adjoint is overwritten, not summed, across fan-out."""
    adjoint = {self: grad}
    for node in reversed(autograd.topological_order(self)):
        for parent, local in zip(node.parents, autograd.local_derivatives(node)):
            adjoint[parent] = adjoint.get(node, 0.0) * local
    for node, g in adjoint.items():
        node.grad += g


def test_the_machine_catches_an_engine_that_drops_fan_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Value, "backward", _last_write_wins_backward)
    strict = settings(
        max_examples=100,
        database=None,
        derandomize=True,
        phases=[Phase.generate],  # finding it is the point; shrinking would only cost time
        suppress_health_check=list(HealthCheck),
    )
    with pytest.raises(AssertionError, match="paths give"):
        run_state_machine_as_test(GrowingGraph, settings=strict)
