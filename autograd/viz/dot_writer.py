"""DOT text for a drawing, with the ids and fixed cell sizes the backward player relies on.

Contract (the HTML player and anything else that edits the SVG rely on it):

* Value ``n`` of the drawing's deterministic node order (``DotDrawing.values[n]``) is the node
  ``v{n}``: DOT node name and SVG ``<g id="v{n}">``. The op that computed it is ``op{n}``; a
  collapsed cluster is ``box{k}``; edge ``k`` in emission order is ``<g id="e{k}">``.
* The number cells are ``<TD ID="v{n}-data">`` and ``<TD ID="v{n}-grad">``; ``Graph.svg()``
  writes them as ``<g id="v{n}-data">`` / ``<g id="v{n}-grad">`` around one ``<text>``.
* Number cells have a fixed size in a monospace font (Courier), and every number is
  right-aligned to ``DotDrawing.number_width`` characters (``number_cell_text``). Replacing
  a grad text by another string of that length never changes the layout. Pass
  ``number_width`` to reserve room for numbers that a later frame will show.
* The same graph and options give the same DOT text, byte for byte.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..core import Value, local_derivatives
from .bundles import Bundle, plan_boxes
from .dot_nodes import (
    BOX_FILL,
    CLUSTER_COLOUR,
    EDGE_LABEL_COLOUR,
    FONT,
    HIGHLIGHT,
    OP_FILL,
    PENDING_GRAD,
    ROLE_FILL,
    ROLE_NAMES,
    SMALL_SIZE,
    TEXT_SIZE,
    DotWriter,
    DrawOptions,
    dot_attributes,
    text_width,
)
from .render import lr_ranks_follow_declaration
from .structure import Edge, Steps, Structure
from .text import format_number, html_text

__all__ = [
    "BOX_FILL",
    "EDGE_LABEL_COLOUR",
    "HIGHLIGHT",
    "OP_FILL",
    "PENDING_GRAD",
    "ROLE_FILL",
    "DotDrawing",
    "DrawOptions",
    "dot_text",
]


@dataclass
class DotDrawing:
    """DOT text plus what it drew: ``values[n]`` is node ``v{n}``; ``node_of`` maps every
    Value to the id that stands for it; ``number_width`` is the characters of every number cell."""

    source: str
    structure: Structure
    values: list[Value]
    node_of: dict[Value, str]
    number_width: int
    node_count: int
    edge_count: int
    precision: int = 4  # digits of the drawn numbers (the static page's hover text uses them too)


def dot_text(
    structure: Structure,
    options: DrawOptions,
    *,
    grads: Mapping[Value, float] | None = None,
    highlight: Iterable[Value] = (),
    focus: Value | None = None,
    caption: str | None = None,
    note: str | None = None,
    number_width: int | None = None,
) -> DotDrawing:
    """The DOT text of ``structure`` (see the module docstring for the ids it guarantees).

    ``grads`` replaces ``.grad`` in the grad cells (a Value missing from it shows ``?``);
    ``highlight`` and ``focus`` outline values (``focus`` also its op); ``caption`` and
    ``note`` are written above the graph; ``number_width`` reserves characters per number.
    """
    writer = DotWriter(structure, options, grads, set(highlight), focus, number_width)
    s = structure
    lines = _header_lines(s, options, caption, note)
    tree = _ClusterTree.of(s, writer)
    order_statements, planned = plan_boxes(s, options.rankdir in ("LR", "RL"))
    # Left to right, a renderer lists a rank top down or bottom up by version: declare to suit it.
    reverse = writer.stacked and len(tree.statements) > 1 and not lr_ranks_follow_declaration()
    cluster_name = _write_clusters(lines, tree, order_statements, reverse)
    lines.extend(_edge_lines(s, options, planned, cluster_name, focus))
    body = "".join(f"\t{line}\n" for line in lines)
    source = f"digraph valuegrad {{\n{body}}}\n"
    counts = (s.node_count, len(planned))
    return DotDrawing(source, s, list(s.values), dict(s.node_of), writer.number_width, *counts, options.precision)


def _header_lines(s: Structure, options: DrawOptions, caption: str | None, note: str | None) -> list[str]:
    """The graph, node and edge defaults, and the caption, note and legend above the graph (if any)."""
    lines: list[str] = [
        f'graph [id="graph" rankdir={options.rankdir} fontname="{FONT}" fontsize="{TEXT_SIZE}"'
        f' nodesep="0.12" ranksep="{0.55 if options.edge_labels else 0.22}"'
        ' newrank="true" ordering="out" compound="true"]',
        f'node [fontname="{FONT}" fontsize="{TEXT_SIZE}" margin="0"]',
        f'edge [fontname="{FONT}" fontsize="{SMALL_SIZE}" arrowsize="0.6" color="#4b5563"]',
    ]
    label = _graph_label(s, options, caption, note)
    if label:
        lines.append(f'graph [label=<{label}> labelloc="t" labeljust="l"]')
    return lines


@dataclass
class _ClusterTree:
    """The node statements filed by cluster (``()`` is the graph itself) and each cluster's children,
    both in the order the drawn values first reach them; a cluster exists once something sits in it."""

    statements: dict[Steps, list[str]]
    children: dict[Steps, list[Steps]]

    @classmethod
    def of(cls, s: Structure, writer: DotWriter) -> _ClusterTree:
        """Every drawn value's statements (op, then value; a box once) in the cluster of its place."""
        tree = cls({(): []}, {(): []})
        declared: set[str] = set()
        for v in s.drawn:
            box = s.box_of.get(v)
            if box is not None:
                if box.id not in declared:
                    declared.add(box.id)
                    tree.cluster(box.steps[:-1]).append(writer.box_node(box))
                continue
            n = int(s.node_of[v][1:])
            statements = tree.cluster(s.place[v])
            if v.parents:
                statements.append(writer.op_node(n, v))
            statements.append(writer.value_node(n, v))
        return tree

    def cluster(self, steps: Steps) -> list[str]:
        """The statements of cluster ``steps``, made (with any missing ancestor) on first use."""
        if steps not in self.statements:
            for depth in range(1, len(steps) + 1):
                prefix = steps[:depth]
                if prefix not in self.statements:
                    self.statements[prefix] = []
                    self.children[prefix] = []
                    self.children[prefix[:-1]].append(prefix)
        return self.statements[steps]


def _write_clusters(
    lines: list[str], tree: _ClusterTree, order_statements: Mapping[Steps, str], reverse: bool
) -> dict[Steps, str]:
    """Append the nested ``subgraph cluster_k`` blocks with their statements; return each cluster's DOT name.

    Written with a stack rather than recursion, since scopes can nest deeply.
    """
    cluster_name: dict[Steps, str] = {}
    cluster_number = 0
    stack: list[tuple[bool, Steps]] = [(True, ())]
    depth = 0
    while stack:
        opening, steps = stack.pop()
        if not opening:
            depth -= 1
            lines.append("\t" * depth + "}")
            continue
        if steps:
            lines.append("\t" * depth + f"subgraph cluster_{cluster_number} {{")
            depth += 1
            cluster_attrs = dot_attributes(
                id=f"cluster{cluster_number}",
                label=f"<{html_text(steps[-1][1])}>",
                style="rounded,dashed",
                color=CLUSTER_COLOUR,
                fontcolor="#374151",
                margin="6",
            )
            cluster_name[steps] = f"cluster_{cluster_number}"
            cluster_number += 1
            lines.append("\t" * depth + f"graph {cluster_attrs}")
            stack.append((False, steps))
        # Graphviz 12-16 lays out LR by rotating a TB layout, which lists a rank bottom to top; there,
        # declaring in reverse puts the natural order (neuron 0, then w0, w1, ..., b) top down.
        statements = tree.statements[steps][::-1] if reverse and steps else tree.statements[steps]
        lines.extend("\t" * depth + statement for statement in statements)
        if steps in order_statements:
            lines.append("\t" * depth + order_statements[steps])
        children = tree.children[steps] if reverse else tree.children[steps][::-1]
        stack.extend((True, child) for child in children)
    return cluster_name


def _edge_lines(
    s: Structure,
    options: DrawOptions,
    planned: Sequence[Edge | Bundle],
    cluster_name: Mapping[Steps, str],
    focus: Value | None,
) -> list[str]:
    """One statement per planned edge, ``e0, e1, ...`` in order: bundles joining clusters, and plain
    edges with their labels, local derivatives (``edge_labels``) and the focus's highlight."""
    lines = []
    derivatives: dict[Value, Sequence[float]] = {}
    # Wrapping: an edge from one row to the next does not push its head further along the flow,
    # so the next row starts again at the left edge, below.
    row = {node: r // options.wrap for node, r in s.ranks().items()} if options.wrap else {}
    for k, edge in enumerate(planned):
        attrs: dict[str, str] = {"id": f"e{k}"}
        if row and row.get(edge.source, 0) != row.get(edge.target, 0):
            attrs["constraint"] = "false"
        if isinstance(edge, Bundle):
            attrs.update(label=f"<{html_text(edge.label)}>", penwidth="2", fontcolor=EDGE_LABEL_COLOUR)
            if edge.tail is not None:
                attrs["ltail"] = cluster_name[edge.tail]
            if edge.head is not None:
                attrs["lhead"] = cluster_name[edge.head]
            lines.append(f"{edge.source} -> {edge.target} {dot_attributes(**attrs)}")
            continue
        child = edge.child
        if edge.label is not None:
            attrs.update(label=f"<{html_text(edge.label)}>", fontcolor=EDGE_LABEL_COLOUR)
        if child is not None and options.edge_labels:
            if child not in derivatives:
                derivatives[child] = local_derivatives(child)
            text = format_number(derivatives[child][edge.index], options.precision)
            attrs.update(headlabel=f"<{html_text(text)}>", fontcolor=EDGE_LABEL_COLOUR)
            attrs.update(labeldistance="2.2", labelangle="-40")
        if focus is not None and child is focus:
            attrs.update(color=HIGHLIGHT, penwidth="2")
        lines.append(f"{edge.source} -> {edge.target} {dot_attributes(**attrs)}")
    return lines


def _graph_label(s: Structure, options: DrawOptions, caption: str | None, note: str | None) -> str:
    rows = []
    for text in (caption, note):
        if text:
            rows.append(f'<TR><TD ALIGN="LEFT" COLSPAN="8">{_small(html_text(text, None))}</TD></TR>')
    if options.legend:
        present = {s.role(v) for v in s.values}
        cells = [
            f'<TD BORDER="1" BGCOLOR="{ROLE_FILL[role]}" WIDTH="{_legend_width(ROLE_NAMES[role])}">'
            f"{_small(ROLE_NAMES[role])}</TD>"
            for role in ("input", "parameter", "intermediate", "backward", "output")
            if role in present
        ]
        if s.boxes:
            folded = "folded part"
            cells.append(f'<TD BORDER="1" BGCOLOR="{BOX_FILL}" WIDTH="{_legend_width(folded)}">{_small(folded)}</TD>')
        if cells:
            rows.append(f"<TR>{''.join(cells)}</TR>")
    if not rows:
        return ""
    return f'<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="2">{"".join(rows)}</TABLE>'


def _legend_width(name: str) -> int:
    return round(text_width(name, SMALL_SIZE) + 6)


def _small(text: str) -> str:
    return f'<FONT POINT-SIZE="{SMALL_SIZE}">{text}</FONT>'
