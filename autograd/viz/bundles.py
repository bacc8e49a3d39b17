"""Collapsed drawings of layered models: boxes in their natural order, fan-ins as one edge.

At a collapse level a layer of 16 neurons is 16 boxes in one cluster, and a dense connection
between two such layers is 256 edges: a solid band that says nothing. Here the boxes of a
cluster that do not feed each other are kept in one rank in their natural order (neuron 0 at
the top), and all the edges from one such cluster (or one node) to another become ONE edge
between the clusters, labelled with what it stands for ("16×16 weights").
"""

from __future__ import annotations

from dataclasses import dataclass

from .structure import Edge, Steps, Structure

__all__ = ["Bundle", "plan_boxes"]


@dataclass
class Bundle:
    """One drawn edge standing for ``count`` edges; ``tail``/``head`` are clusters it joins."""

    source: str
    target: str
    tail: Steps | None
    head: Steps | None
    label: str


def _parallel_clusters(s: Structure) -> dict[Steps, list[str]]:
    """Clusters holding two or more boxes with no edge among them: drawn as one ordered rank."""
    members: dict[Steps, list[str]] = {}
    for box in s.boxes.values():
        if box.steps[:-1]:
            members.setdefault(box.steps[:-1], []).append(box.id)
    cluster_of = {b: steps for steps, boxes in members.items() for b in boxes}
    for edge in s.edges:
        steps = cluster_of.get(edge.source)
        if steps is not None and cluster_of.get(edge.target) == steps:
            members.pop(steps, None)
    return {steps: boxes for steps, boxes in members.items() if len(boxes) >= 2}


def plan_boxes(s: Structure, left_to_right: bool) -> tuple[dict[Steps, str], list[Edge | Bundle]]:
    """Per cluster, a DOT statement that keeps its boxes in order; and the edges to draw,
    with the edges between parallel clusters (and a node and one) bundled into one each."""
    parallel = _parallel_clusters(s)
    order_statements: dict[Steps, str] = {}
    cluster_of: dict[str, Steps] = {}
    for steps, boxes in parallel.items():
        # Graphviz turns a TB layout into LR by rotating it, which reverses a rank's order.
        chain = list(reversed(boxes)) if left_to_right else boxes
        order_statements[steps] = "{rank=same; " + " -> ".join(chain) + ' [style="invis"]}'
        for b in boxes:
            cluster_of[b] = steps
    if not parallel:
        return order_statements, list(s.edges)

    def group(node: str) -> tuple[str, object]:
        steps = cluster_of.get(node)
        return ("cluster", steps) if steps is not None else ("node", node)

    weights_in = {b.id for b in s.boxes.values() if any(m in s.parameters for m in b.members)}
    groups: dict[tuple[object, object], list[Edge]] = {}
    for edge in s.edges:
        if edge.child is None and (edge.source in cluster_of or edge.target in cluster_of):
            groups.setdefault((group(edge.source), group(edge.target)), []).append(edge)
    edges: list[Edge | Bundle] = []
    emitted: set[tuple[object, object]] = set()
    for edge in s.edges:
        key = (group(edge.source), group(edge.target)) if edge.child is None else None
        members = groups.get(key) if key is not None else None
        if key is None or members is None or len(members) < 2:
            edges.append(edge)
            continue
        if key in emitted:
            continue
        emitted.add(key)
        sources = list(dict.fromkeys(e.source for e in members))
        targets = list(dict.fromkeys(e.target for e in members))
        what = "weights" if all(t in weights_in for t in targets) else "edges"
        count = f"{len(sources)}×{len(targets)}" if len(sources) > 1 and len(targets) > 1 else str(len(members))
        edges.append(
            Bundle(
                sources[len(sources) // 2],
                targets[len(targets) // 2],
                cluster_of.get(sources[0]) if len(sources) > 1 else None,
                cluster_of.get(targets[0]) if len(targets) > 1 else None,
                f"{count} {what}",
            )
        )
    return order_statements, edges
