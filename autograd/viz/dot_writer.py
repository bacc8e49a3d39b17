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
from .render import lr_ranks_follow_declaration
from .structure import Box, Steps, Structure
from .text import counted_names, format_number, html_text, number_cell_text

__all__ = [
    "BOX_FILL",
    "EDGE_LABEL_COLOUR",
    "HIGHLIGHT",
    "OP_FILL",
    "PENDING_GRAD",
    "ROLE_FILL",
    "DotDrawing",
    "DotWriter",
    "DrawOptions",
    "dot_text",
]

# Colour roles (Tailwind 100/600 shades: readable on screen and projected).
ROLE_FILL = {"input": "#dbeafe", "parameter": "#fef3c7", "output": "#dcfce7", "intermediate": "#ffffff"}
ROLE_NAMES = {"input": "input", "parameter": "parameter", "intermediate": "intermediate", "output": "output"}
OP_FILL = "#f3f4f6"
BOX_FILL = "#e5e7eb"
HIGHLIGHT = "#dc2626"
EDGE_LABEL_COLOUR = "#374151"
CLUSTER_COLOUR = "#9ca3af"
PENDING_GRAD = "?"

# Sizes in points. Graphviz's SVG is 1 pt per user unit, shown at 4/3 px per pt.
FONT = "Helvetica"
NUMBER_FONT = "Courier"  # monospace: a number's width is its length times NUMBER_CHAR
TEXT_SIZE = 11
NUMBER_SIZE = 10
SMALL_SIZE = 10
OP_SIZE = 12
NUMBER_CHAR = 0.6 * NUMBER_SIZE
ROW_HEIGHT = 15
WORD_WIDTH = 30  # the 'data' / 'grad' cells: room for a wide sans-serif fallback font
CELL_PAD = 6
TEXT_CHAR = 0.62  # a generous average Helvetica advance, in ems: other renderers' fonts still fit
OP_HEIGHT = 22

_OP_SHOWN = {"*": "×", "·": "Σ w·x"}


@dataclass(frozen=True)
class DrawOptions:
    """Checked drawing options (``draw`` validates them)."""

    rankdir: str = "LR"
    show_data: bool = True
    show_grad: bool = True
    edge_labels: bool = False
    precision: int = 4
    legend: bool = True
    wrap: int = 0  # > 0: layers per row of a long left-to-right drawing broken into rows


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


def op_text(v: Value) -> str:
    """How an op node reads: ``×`` for a product, ``Σ w·x`` for a dot product, else the engine's symbol."""
    symbol = v.op_symbol or ""
    return _OP_SHOWN.get(symbol, symbol)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate of ``text``'s width in points."""
    return len(text) * size * (TEXT_CHAR + (0.05 if bold else 0.0))


def op_width(v: Value) -> float:
    return max(30.0, text_width(op_text(v), OP_SIZE) + 14)


def _attributes(**attributes: str) -> str:
    """DOT attribute list; values are our own constants or already-escaped HTML labels (``<...>``)."""
    parts = []
    for key, value in attributes.items():
        parts.append(f"{key}={value}" if value.startswith("<") else f'{key}="{value}"')
    return "[" + " ".join(parts) + "]"


class DotWriter:
    """The node statements of one drawing (value tables, op ovals, folded boxes) and their sizes.

    Shared by ``dot_text`` and the size estimate in ``fit``; it settles one ``number_width``
    for every number cell, so that any later grad text of that width leaves the layout as it is.
    """

    def __init__(
        self,
        structure: Structure,
        options: DrawOptions,
        grads: Mapping[Value, float] | None,
        highlight: set[Value],
        focus: Value | None,
        number_width: int | None,
    ) -> None:
        self.s = structure
        self.options = options
        self.grads = grads
        self.highlight = highlight
        self.focus = focus
        self.stacked = options.rankdir in ("LR", "RL")
        texts = [self.data_text(v) for v in structure.values] + [self.grad_text(v) for v in structure.values]
        self.number_width = max([len(t) for t in texts if t] + [number_width or 0, 1])

    def data_text(self, v: Value) -> str:
        return format_number(v.data, self.options.precision) if self.options.show_data else ""

    def grad_text(self, v: Value) -> str:
        if not self.options.show_grad:
            return ""
        grad = v.grad if self.grads is None else self.grads.get(v)
        return PENDING_GRAD if grad is None else format_number(grad, self.options.precision)

    def number_cell_width(self) -> float:
        return self.number_width * NUMBER_CHAR + CELL_PAD

    def value_size(self, v: Value) -> tuple[float, float]:
        """(width, height) of ``v``'s table: stacked rows when the graph flows left to right,
        one row when it flows top down, so the boxes are short along the flow either way."""
        numbers = int(self.options.show_data) + int(self.options.show_grad)
        label = self.s.label(v)
        label_width = text_width(label or "", TEXT_SIZE, bold=True) + CELL_PAD if label or not numbers else 0.0
        pair = WORD_WIDTH + self.number_cell_width()
        if self.stacked:
            rows = numbers + (1 if label_width else 0)
            return max(pair, label_width) + 2, rows * ROW_HEIGHT + 2
        return label_width + numbers * pair + 2, ROW_HEIGHT + 2

    def value_node(self, n: int, v: Value) -> str:
        width, _ = self.value_size(v)
        number = f'WIDTH="{self.number_cell_width():g}" HEIGHT="{ROW_HEIGHT}" FIXEDSIZE="TRUE" ALIGN="RIGHT"'
        word = f'WIDTH="{WORD_WIDTH}" HEIGHT="{ROW_HEIGHT}" FIXEDSIZE="TRUE"'
        cells = []
        label = self.s.label(v)
        show_numbers = self.options.show_data or self.options.show_grad
        if label or not show_numbers:
            label_width = text_width(label or "", TEXT_SIZE, bold=True) + CELL_PAD
            span = ' COLSPAN="2"' if self.stacked and show_numbers else ""
            cell_width = width - 2 if self.stacked else label_width
            cells.append(f'<TD{span} WIDTH="{cell_width:g}" HEIGHT="{ROW_HEIGHT}">{_bold(label)}</TD>')
        for kind, text in (("data", self.data_text(v)), ("grad", self.grad_text(v))):
            if text:
                shown = html_text(number_cell_text(text, self.number_width), None)
                cells.append(
                    f'<TD {word}><FONT POINT-SIZE="{SMALL_SIZE}">{kind}</FONT></TD>'
                    f'<TD ID="v{n}-{kind}" TOOLTIP="{kind}" {number}>'
                    f'<FONT FACE="{NUMBER_FONT}" POINT-SIZE="{NUMBER_SIZE}">{shown}</FONT></TD>'
                )
        rows = "".join(f"<TR>{cell}</TR>" for cell in cells) if self.stacked else f"<TR>{''.join(cells)}</TR>"
        marked = v in self.highlight or v is self.focus
        border = f'BORDER="3" COLOR="{HIGHLIGHT}"' if marked else 'BORDER="0"'
        fill = ROLE_FILL[self.s.role(v)]
        table = f'<TABLE {border} CELLBORDER="1" CELLSPACING="0" CELLPADDING="1" BGCOLOR="{fill}">'
        return f'v{n} [id="v{n}" shape="plain" label=<{table}{rows}</TABLE>>]'

    def op_node(self, n: int, v: Value) -> str:
        attrs = {
            "id": f"op{n}",
            "label": f"<{html_text(op_text(v))}>",
            "shape": "ellipse",
            "style": "filled",
            "fillcolor": OP_FILL,
            "width": f"{op_width(v) / 72:.3f}",
            "height": f"{OP_HEIGHT / 72:.3f}",
            "fixedsize": "true",
            "fontsize": str(OP_SIZE),
        }
        if v is self.focus:
            attrs.update(color=HIGHLIGHT, penwidth="3")
        return f"op{n} {_attributes(**attrs)}"

    def box_lines(self, box: Box) -> list[str]:
        """What a collapsed cluster holds, in words: its name, its parts, its one output's numbers."""
        lines = [box.steps[-1][1]]
        depth = len(box.steps)
        children: dict[object, str] = {}
        parameters = 0
        ops: list[str] = []
        for v in box.members:
            place = self.s.place[v]
            if len(place) > depth:
                children.setdefault(place[depth][0], place[depth][1])
            if v in self.s.parameters:
                parameters += 1
            elif v.parents and not children:
                text = op_text(v)
                if text not in ops:
                    ops.append(text)
        parts = counted_names(children.values())
        if parameters:
            parts.append(f"{parameters} parameter{'s' if parameters != 1 else ''}")
        if not children and ops:
            parts.append(" → ".join(ops[:3]) + (" …" if len(ops) > 3 else ""))
        if parts:
            lines.append(" · ".join(parts))
        outputs = self.s.box_outputs(box)
        if len(outputs) == 1:
            numbers = []
            if self.options.show_data:
                numbers.append("data " + self.data_text(outputs[0]))
            if self.options.show_grad:
                numbers.append("grad " + self.grad_text(outputs[0]))
            if numbers:
                lines.append("out: " + "  ".join(numbers))
        return lines

    def box_size(self, box: Box) -> tuple[float, float]:
        lines = self.box_lines(box)
        width = max(text_width(line, TEXT_SIZE, bold=i == 0) for i, line in enumerate(lines)) + 16
        return width, len(lines) * (TEXT_SIZE + 3) + 12

    def box_node(self, box: Box) -> str:
        lines = self.box_lines(box)
        text = f"<B>{html_text(lines[0])}</B>" + "".join(f"<BR/>{html_text(line)}" for line in lines[1:])
        fill = ROLE_FILL["output"] if self.s.output in box.members else BOX_FILL
        width, height = self.box_size(box)
        attrs = {"id": box.id, "label": f"<{text}>", "shape": "box3d", "style": "filled", "fillcolor": fill}
        attrs.update(width=f"{width / 72:.3f}", height=f"{height / 72:.3f}", margin="0.06,0.04")
        if any(m in self.highlight or m is self.focus for m in box.members):
            attrs.update(color=HIGHLIGHT, penwidth="3")
        return f"{box.id} {_attributes(**attrs)}"


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

    cluster_nodes: dict[Steps, list[str]] = {(): []}
    cluster_children: dict[Steps, list[Steps]] = {(): []}

    def cluster(steps: Steps) -> list[str]:
        if steps not in cluster_nodes:
            for depth in range(1, len(steps) + 1):
                prefix = steps[:depth]
                if prefix not in cluster_nodes:
                    cluster_nodes[prefix] = []
                    cluster_children[prefix] = []
                    cluster_children[prefix[:-1]].append(prefix)
        return cluster_nodes[steps]

    declared: set[str] = set()
    for v in s.drawn:
        box = s.box_of.get(v)
        if box is not None:
            if box.id not in declared:
                declared.add(box.id)
                cluster(box.steps[:-1]).append(writer.box_node(box))
            continue
        n = int(s.node_of[v][1:])
        statements = cluster(s.place[v])
        if v.parents:
            statements.append(writer.op_node(n, v))
        statements.append(writer.value_node(n, v))

    order_statements, planned = plan_boxes(s, options.rankdir in ("LR", "RL"))
    # Left to right, a renderer lists a rank top down or bottom up by version: declare to suit it.
    reverse = writer.stacked and len(cluster_nodes) > 1 and not lr_ranks_follow_declaration()
    cluster_name: dict[Steps, str] = {}
    cluster_number = 0
    stack: list[tuple[bool, Steps]] = [(True, ())]
    depth = 0
    while stack:  # nested clusters without recursion (scopes can nest deeply)
        opening, steps = stack.pop()
        if not opening:
            depth -= 1
            lines.append("\t" * depth + "}")
            continue
        if steps:
            lines.append("\t" * depth + f"subgraph cluster_{cluster_number} {{")
            depth += 1
            cluster_attrs = _attributes(
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
        statements = cluster_nodes[steps][::-1] if reverse and steps else cluster_nodes[steps]
        lines.extend("\t" * depth + statement for statement in statements)
        if steps in order_statements:
            lines.append("\t" * depth + order_statements[steps])
        children = cluster_children[steps] if reverse else cluster_children[steps][::-1]
        stack.extend((True, child) for child in children)

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
            lines.append(f"{edge.source} -> {edge.target} {_attributes(**attrs)}")
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
        lines.append(f"{edge.source} -> {edge.target} {_attributes(**attrs)}")

    body = "".join(f"\t{line}\n" for line in lines)
    source = f"digraph valuegrad {{\n{body}}}\n"
    return DotDrawing(source, s, list(s.values), dict(s.node_of), writer.number_width, s.node_count, len(planned))


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
            for role in ("input", "parameter", "intermediate", "output")
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


def _bold(text: str | None) -> str:
    """A label in bold; Graphviz refuses an empty <B></B>, so an empty label is an empty cell."""
    return f"<B>{html_text(text)}</B>" if text else ""


def _legend_width(name: str) -> int:
    return round(text_width(name, SMALL_SIZE) + 6)


def _small(text: str) -> str:
    return f'<FONT POINT-SIZE="{SMALL_SIZE}">{text}</FONT>'
