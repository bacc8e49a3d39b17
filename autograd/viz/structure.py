"""What a drawing shows: which Values become boxes, where they sit, and what is folded away.

Three things happen between a graph and its picture, all without touching the graph:

* **Plain-number artefacts are folded.** ``h = 0.0`` then ``w * h`` makes a node ``* 0`` whose
  value is 0 and whose only use is a sum; ``loss = 0.0`` then ``loss + term`` makes ``+ 0``.
  A zero term that is only ever added is left out, and a node that merely repeats its one
  input (``x + 0``, ``x * 1``, ``x / 1``, a sum left with one term) is drawn as that input:
  one box, with the later label if only the later one has a label.
* **Scopes become clusters.** A node sits in the cluster of its ``autograd.scope`` (or, for
  graphs from an older ``nn``, of its ``module_path``, shown as "layer 0 / neuron 3"). A
  parameter sits in the innermost cluster that holds all of its uses, so a neuron's weights
  are drawn inside the neuron and an RNN's shared weights outside every time step.
* **Clusters can be collapsed.** ``collapse=k`` folds every cluster at depth k into one box;
  a named input made inside one stays a node of its own next to the box.

Ids are numbered in the graph's topological order (inputs first, arguments in order), so the
same graph always gives the same drawing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from ..core import Scope, Value, topological_order

__all__ = [
    "MAX_CLUSTER_DEPTH",
    "Edge",
    "GraphCount",
    "Steps",
    "Structure",
    "count_nodes",
    "human_module_name",
    "module_steps",
]

MAX_CLUSTER_DEPTH = 16  # nesting drawn as clusters; deeper parts share the innermost one

Step = tuple[object, str]  # (what identifies the cluster, its label)
Steps = tuple[Step, ...]

_INDEXED_NAME = re.compile(r"^([A-Za-z_]\w*?)s\.(\d+)$")


def human_module_name(step: str) -> str:
    """'layers.0' -> 'layer 0', 'neurons.3' -> 'neuron 3'; anything else unchanged."""
    match = _INDEXED_NAME.match(step)
    return f"{match.group(1)} {match.group(2)}" if match else step


def module_steps(path: str | None) -> Steps:
    """'MLP.layers.0.neurons.3' -> steps labelled 'MLP', 'layer 0', 'neuron 3'.

    Nesting deeper than ``MAX_CLUSTER_DEPTH`` is kept in the last step, so a strange
    path cannot make thousands of nested clusters.
    """
    if not path:
        return ()
    parts: list[str] = []
    for part in path.split("."):
        if parts and part.isascii() and part.isdigit():
            parts[-1] += "." + part
        else:
            parts.append(part)
    if len(parts) > MAX_CLUSTER_DEPTH:
        parts[MAX_CLUSTER_DEPTH - 1 :] = [".".join(parts[MAX_CLUSTER_DEPTH - 1 :])]
    return tuple((".".join(parts[: i + 1]), human_module_name(part)) for i, part in enumerate(parts))


def _scope_steps(scope: Scope) -> Steps:
    chain = scope.path()
    steps: list[Step] = [(s, s.label) for s in chain[:MAX_CLUSTER_DEPTH]]
    if len(chain) > MAX_CLUSTER_DEPTH:  # deeper scopes share the innermost drawn cluster
        steps[-1] = (chain[MAX_CLUSTER_DEPTH - 1], " / ".join(s.label for s in chain[MAX_CLUSTER_DEPTH - 1 :]))
    return tuple(steps)


def _constant_op(v: Value, names: tuple[str, ...], constant: float) -> bool:
    """``v`` is ``x <op> constant`` with a plain-number constant (``x + 0``, ``x * 1``, ...)."""
    op = v.op
    c = v.constant
    return len(v.parents) == 1 and op is not None and op.startswith(names) and type(c) is float and c == constant


def _additive(v: Value) -> bool:
    return v.op in ("add", "sum") and (len(v.parents) > 1 or v.op == "sum")


def _same_number(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _consumers(order: list[Value]) -> dict[Value, list[Value]]:
    """Who uses each Value, in graph order (the graph itself only knows its parents)."""
    consumers: dict[Value, list[Value]] = {}
    for v in order:
        for p in v.parents:
            consumers.setdefault(p, []).append(v)
    return consumers


def _vanishing_zero_terms(order: list[Value], consumers: dict[Value, list[Value]], root: Value) -> set[Value]:
    """Unnamed ``x * 0`` nodes that are only ever added: a plain-number start such as ``h = 0.0``."""
    vanished: set[Value] = set()
    for v in order:
        zero_term = v.label is None and _constant_op(v, ("mul",), 0.0) and v.data == 0.0 and v is not root
        if zero_term and all(_additive(c) for c in consumers.get(v, ())):
            vanished.add(v)
    return vanished


@dataclass
class Edge:
    """A drawn edge ``source -> target``; ``child`` and ``index`` say which argument it is (for labels)."""

    source: str
    target: str
    child: Value | None = None
    index: int = -1
    label: str | None = None  # what a folded edge stands for


@dataclass
class Box:
    """A collapsed cluster: its id, its steps, and the drawn values folded into it."""

    id: str
    steps: Steps
    members: list[Value] = field(default_factory=list)


class Structure:
    """The drawn nodes of ``root``'s graph for one collapse level.

    ``values`` are the Values drawn as boxes of their own, in order; value ``values[n]`` has
    id ``v{n}`` and, if computed, its op node ``op{n}``. ``node_of`` maps every Value of the
    graph to the id that stands for it (a folded identity maps to its input's id, a value
    inside a collapsed cluster to the cluster's box); vanished zero terms are absent.
    """

    def __init__(self, root: Value, collapse: int | None, params: frozenset[Value] = frozenset()) -> None:
        self.root = root
        order = topological_order(root)
        self.order = order
        self.consumers = _consumers(order)

        # Plain-number artefacts: zero terms that are only added, and identities.
        self.vanished: set[Value] = _vanishing_zero_terms(order, self.consumers, root)
        self.representative: dict[Value, Value] = {}
        self.shown_label: dict[Value, str | None] = {}
        self.arguments: dict[Value, list[int]] = {}  # drawn argument positions of each computed value
        self._fold_identities()
        drawn = [v for v in order if self.representative.get(v) is v]
        self.drawn = drawn

        # Roles and places.
        self.output = self.representative[root]
        self.parameters = {v for v in drawn if not v.parents and self._is_parameter(v, params)}
        self.built_by_backward = _built_by_backward(order)
        self.place: dict[Value, Steps] = self._places()
        self.depth = max((len(s) for s in self.place.values()), default=0)

        # Collapse and ids.
        self.collapse = collapse
        self.values: list[Value] = []
        self.boxes: dict[Steps, Box] = {}
        self.box_of: dict[Value, Box] = {}
        self.node_of: dict[Value, str] = {}
        self._number_nodes()
        self.edges = self._edges()
        ops = sum(1 for v in self.values if v.parents)
        self.node_count = len(self.values) + ops + len(self.boxes)

    # ------------------------------------------------------------------ building

    def _fold_identities(self) -> None:
        """Give every kept Value its representative: itself, or the input it merely repeats.

        In graph order, so an identity of an identity lands on the first input; a later name
        moves onto the representative's box. Fills ``representative``, ``shown_label`` and
        ``arguments``.
        """
        for v in self.order:
            if v in self.vanished:
                continue
            kept = [i for i, p in enumerate(v.parents) if p not in self.vanished]
            source = self._identity_source(v, kept)
            if source is not None:
                rep = self.representative[source]
                self.representative[v] = rep
                if v.label is not None:
                    self.shown_label[rep] = v.label
                continue
            self.representative[v] = v
            self.shown_label[v] = v.label
            self.arguments[v] = kept

    def _places(self) -> dict[Value, Steps]:
        """The cluster each drawn Value sits in: its own scope's, but a parameter's is the
        innermost cluster holding all of its uses (a neuron's weights inside the neuron)."""
        scope_steps: dict[int, Steps] = {}
        module_cache: dict[str, Steps] = {}
        place = {v: self._own_steps(v, scope_steps, module_cache) for v in self.drawn}
        for v in self.drawn:
            if v in self.parameters:
                uses = [place[self.representative[c]] for c in self.consumers.get(v, ()) if c in self.representative]
                if uses:
                    place[v] = _common_prefix(uses)
        return place

    def _number_nodes(self) -> None:
        """Fold the values of clusters at depth ``collapse`` into boxes and number the rest ``v0, v1, ...``.

        A named input stays in sight, one cluster up. A folded identity takes its input's id.
        Fills ``values``, ``boxes``, ``box_of`` and ``node_of``.
        """
        collapse = self.collapse
        for v in self.drawn:
            steps = self.place[v]
            if collapse is not None and len(steps) >= collapse and self._named_input(v):
                steps = self.place[v] = steps[: collapse - 1]  # the reader's named inputs stay in sight
            if collapse is not None and len(steps) >= collapse:
                key = steps[:collapse]
                box = self.boxes.get(key)
                if box is None:
                    box = self.boxes[key] = Box(f"box{len(self.boxes)}", key)
                box.members.append(v)
                self.box_of[v] = box
                self.node_of[v] = box.id
            else:
                self.node_of[v] = f"v{len(self.values)}"
                self.values.append(v)
        for v in self.order:
            merged_into = self.representative.get(v)
            if merged_into is not None and merged_into is not v:
                self.node_of[v] = self.node_of[merged_into]

    # ------------------------------------------------------------------ helpers

    def _identity_source(self, v: Value, kept: Sequence[int]) -> Value | None:
        """The input that ``v`` merely repeats, if it is drawn as that input."""
        if not v.parents:
            return None
        source: Value
        if _constant_op(v, ("add",), 0.0) or _constant_op(v, ("mul", "div"), 1.0):
            source = v.parents[0]
        elif _additive(v) and len(kept) == 1 and (v.op == "add" or v.constant == 0.0):
            source = v.parents[kept[0]]
        else:
            return None
        if source in self.vanished or len(self.consumers.get(source, ())) != 1:
            return None
        if v.label is not None and self.shown_label.get(self.representative[source]) is not None:
            return None  # both named: keep both
        return source if _same_number(v.data, source.data) else None

    def _named_input(self, v: Value) -> bool:
        return not v.parents and v not in self.parameters and self.shown_label.get(v) is not None

    @staticmethod
    def _is_parameter(v: Value, params: frozenset[Value]) -> bool:
        if v in params or v.module_path:
            return True
        scope = v.scope
        return scope is not None and scope.key is not None

    @staticmethod
    def _own_steps(v: Value, scope_steps: dict[int, Steps], module_cache: dict[str, Steps]) -> Steps:
        if v.scope is not None:
            return _steps(v, scope_steps)
        path = v.module_path
        if not path:
            return ()
        steps = module_cache.get(path)
        if steps is None:
            steps = module_cache[path] = module_steps(path)
        return steps

    def role(self, v: Value) -> str:
        """'output', 'parameter', 'input', 'backward' (built by a backward pass) or 'intermediate'."""
        if v is self.output:
            return "output"
        if not v.parents:
            return "parameter" if v in self.parameters else "input"
        return "backward" if v in self.built_by_backward else "intermediate"

    def label(self, v: Value) -> str | None:
        return self.shown_label.get(v)

    def ranks(self) -> dict[str, int]:
        """Each drawn node's layer along the flow (longest path from a source), roughly as dot
        ranks it; a leaf sits one layer before its first use. One pass: edges come sources-first."""
        rank: dict[str, int] = {}
        for edge in self.edges:
            rank.setdefault(edge.source, 0)
            rank[edge.target] = max(rank.get(edge.target, 0), rank[edge.source] + 1)
        targets = {edge.target for edge in self.edges}
        for edge in self.edges:
            if edge.source not in targets:
                first_use = rank[edge.target] - 1
                rank[edge.source] = first_use if rank[edge.source] == 0 else min(rank[edge.source], first_use)
        return rank

    def box_outputs(self, box: Box) -> list[Value]:
        """The members of ``box`` that something outside it uses (or that are the output)."""
        outputs = []
        for m in box.members:
            used_outside = any(
                self.box_of.get(self.representative.get(c, c)) is not box for c in self.consumers.get(m, ())
            )
            if used_outside or m is self.output:
                outputs.append(m)
        return outputs

    def _edges(self) -> list[Edge]:
        edges: list[Edge] = []
        box_edges: dict[tuple[str, str], tuple[Edge, dict[Value, None], dict[Value, None]]] = {}
        for v in self.values + [m for box in self.boxes.values() for m in box.members]:
            if not v.parents:
                continue
            target = self.node_of[v]
            if v in self.box_of:
                for i in self.arguments[v]:
                    parent = self.representative[v.parents[i]]
                    source = self.node_of[parent]
                    if source == target:
                        continue
                    if (source, target) not in box_edges:
                        box_edges[source, target] = (Edge(source, target), {}, {})
                        edges.append(box_edges[source, target][0])
                    box_edges[source, target][1][parent] = None
                    box_edges[source, target][2][v] = None
                continue
            op = "op" + target[1:]
            for i in self.arguments[v]:
                edges.append(Edge(self.node_of[self.representative[v.parents[i]]], op, v, i))
            edges.append(Edge(op, target))
        # A folded fan-in says what it stands for: "16×16 weights" from one layer's 16 outputs.
        for edge, sources, consumers in box_edges.values():
            m, n = len(sources), len(consumers)
            if m * n > 1:
                target_box = self.box_of.get(next(iter(consumers)))
                weighted = target_box is not None and any(p in self.parameters for p in target_box.members)
                edge.label = (f"{m}×{n}" if m > 1 and n > 1 else str(m * n)) + (" weights" if weighted else " uses")
        return edges


def _built_by_backward(order: list[Value]) -> set[Value]:
    """The computed Values a ``backward(create_graph=True)`` made: in a graph that holds gradient
    Values, every node that is neither a node whose gradient was taken nor one of its ancestors."""
    forward = [v for v in order if v.grad_value is not None]
    if not forward:
        return set()
    seen = set(forward)
    while forward:
        for p in forward.pop().parents:
            if p not in seen:
                seen.add(p)
                forward.append(p)
    return {v for v in order if v.parents and v not in seen}


def _common_prefix(places: list[Steps]) -> Steps:
    first = places[0]
    length = len(first)
    for other in places[1:]:
        length = min(length, len(other))
        for i in range(length):
            if other[i][0] is not first[i][0] and other[i][0] != first[i][0]:
                length = i
                break
    return first[:length]


# ------------------------------------------------------------------ counting before building


@dataclass(frozen=True)
class GraphCount:
    """What one cheap walk of a graph finds, before any ``Structure`` is built.

    ``values``: the Values reachable from the root. ``at_least``: drawn nodes that every
    drawing at the collapse levels allowed must have (an honest lower bound, see ``count_nodes``).
    """

    values: int
    at_least: int


def count_nodes(root: Value, collapse: int | str | None, params: frozenset[Value] = frozenset()) -> GraphCount:
    """Count ``root``'s graph with one iterative walk, and a lower bound on its drawn nodes.

    The drawn count is not the graph's: plain-number artefacts (``x + 0``, a zero term) fold
    away, and ``collapse`` folds whole scopes into one box each, so any part inside a scope can
    shrink to one node. The exact count is what ``Structure`` computes, at the price of
    building it (several times, when ``collapse='auto'`` tries levels). So this counts only
    what no rule can fold away, and refusing on it never refuses a drawing that would fit:

    * a *kept* Value is one that cannot vanish (not ``* 0``) nor be drawn as its input (not
      ``+ 0``, ``* 1``, ``/ 1``, nor a sum with fewer than two terms that cannot vanish);
    * a kept computed Value outside every scope that folds at ``collapse`` (depth below ``k``
      for ``collapse=k``; ``'auto'`` may fold from depth 1; ``None`` folds nothing) is drawn as
      a value node and an op node: 2;
    * a leaf outside every scope (nor an ``nn`` parameter, nor in ``params``, which move into
      the clusters of their uses) is drawn as one node: 1 (with ``collapse=None``, every leaf);
    * the kept computed Values that may fold share at least one node per outermost scope:
      a box, or themselves if that scope is too shallow to fold at the level drawn. So the
      count at ``collapse=1`` bounds every level, None included.

    Anything else counts 0. ``skip_leaves`` changes a walk's frames, not its picture, so it
    does not enter here (it enters the player's byte budget).
    """
    deepest = None if collapse is None else (collapse if isinstance(collapse, int) else 1)
    seen = {root}
    stack = [root]
    scope_steps: dict[int, Steps] = {}
    outermost: set[object] = set()  # the outermost scopes of kept Values that may fold
    at_least = 0
    while stack:
        v = stack.pop()
        parents = v.parents
        if not parents:
            if deepest is None or (v not in params and v.scope is None and not v.module_path):
                at_least += 1
        elif _kept(v, parents):
            steps = _steps(v, scope_steps)
            if deepest is None or len(steps) < deepest:
                at_least += 2
            else:
                outermost.add(steps[0][0])
        for p in parents:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return GraphCount(len(seen), at_least + len(outermost))


def _kept(v: Value, parents: tuple[Value, ...]) -> bool:
    """Computed ``v`` is drawn as a node of its own (or in a box): it cannot vanish nor be an identity."""
    if _constant_op(v, ("mul",), 0.0) or _constant_op(v, ("add",), 0.0) or _constant_op(v, ("mul", "div"), 1.0):
        return False
    if v.op in ("add", "sum"):  # a sum is an identity only if at most one of its terms is kept
        return sum(1 for p in parents if not _constant_op(p, ("mul",), 0.0)) >= 2
    return True


def _steps(v: Value, scope_steps: dict[int, Steps]) -> Steps:
    """``v``'s own cluster steps, as ``Structure`` places a computed Value."""
    scope = v.scope
    if scope is not None:
        steps = scope_steps.get(id(scope))
        if steps is None:
            steps = scope_steps[id(scope)] = _scope_steps(scope)
        return steps
    return module_steps(v.module_path)
