"""The node statements of a drawing: value tables with fixed number cells, op ovals, folded boxes.

Also the palette, sizes and options they share with ``dot_writer``, which writes the whole DOT
text (header, clusters, edges) around them and states the ids both keep (``v{n}``, ``op{n}``,
``box{k}``, the ``v{n}-data`` / ``v{n}-grad`` cells). ``fit`` sizes a drawing from them too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..core import Value
from .structure import Box, Structure
from .text import counted_names, format_number, html_text, number_cell_text

__all__ = [
    "BOX_FILL",
    "EDGE_LABEL_COLOUR",
    "HIGHLIGHT",
    "OP_FILL",
    "OP_HEIGHT",
    "PENDING_GRAD",
    "ROLE_FILL",
    "DotWriter",
    "DrawOptions",
    "box_parameter_rows",
    "dot_attributes",
    "op_text",
    "op_width",
    "parameter_line",
    "text_width",
]

# Colour roles (Tailwind 100/600 shades: readable on screen and projected).
ROLE_FILL = {
    "input": "#dbeafe",
    "parameter": "#fef3c7",
    "output": "#dcfce7",
    "intermediate": "#ffffff",
    "backward": "#ede9fe",
}
ROLE_NAMES = {
    "input": "input",
    "parameter": "parameter",
    "intermediate": "intermediate",
    "output": "output",
    "backward": "built by backward",
}
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

_OP_SHOWN = {"*": "×", "-": "\u2212"}


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
    parameter_grads: bool = False  # a folded box lists its parameters' gradients (the player's boxes)


def _parameter(v: Value) -> bool:
    scope = v.scope
    return not v.parents and bool(v.module_path or (scope is not None and scope.key is not None))


def _dot_text(v: Value) -> str:
    """A dot product by what it computes: ``Σ w·x`` when one side is weights, ``Σ d·d`` for a
    sum of squares, else ``Σ a·b``."""
    parents, n = v.parents, getattr(v.constant, "n", None)
    if isinstance(n, int) and n > 0 and 2 * n <= len(parents):
        left, right = parents[:n], parents[n : 2 * n]
        if all(a is b for a, b in zip(left, right)):
            return "Σ d·d"
        if all(map(_parameter, left)) or all(map(_parameter, right)):
            return "Σ w·x"
        return "Σ a·b"
    if any(map(_parameter, parents)):
        return "Σ w·x"
    return "Σ c·x" if hasattr(v.constant, "partials") else "Σ a·b"  # constant factors: Σ cᵢ·xᵢ


def op_text(v: Value) -> str:
    """How an op node reads: ``×`` for a product, a dot product by what it computes (``Σ w·x``
    when one side is weights), else the engine's symbol."""
    symbol = v.op_symbol or ""
    if v.op == "dot":
        return _dot_text(v)
    return _OP_SHOWN.get(symbol, symbol)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """A generous estimate of ``text``'s width in points."""
    return len(text) * size * (TEXT_CHAR + (0.05 if bold else 0.0))


def op_width(v: Value) -> float:
    return max(30.0, text_width(op_text(v), OP_SIZE) + 14)


def dot_attributes(**attributes: str) -> str:
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
        # Stacked under a wider label, the number cell takes the rest of the row: Graphviz 2.4x
        # keeps a fixed-size cell at its size and leaves a gap, where 12+ stretches it.
        number_width = self.number_cell_width()
        if self.stacked:
            number_width = max(number_width, width - 2 - WORD_WIDTH)
        number = f'WIDTH="{number_width:g}" HEIGHT="{ROW_HEIGHT}" FIXEDSIZE="TRUE" ALIGN="RIGHT"'
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
        return f"op{n} {dot_attributes(**attrs)}"

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
        if self.options.show_grad and self.options.parameter_grads:
            for row in box_parameter_rows(self.s, box):
                lines.append(parameter_line(self.s, row, [self.grad_text(p) for p in row], self.number_width))
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
        return f"{box.id} {dot_attributes(**attrs)}"


def parameter_line(s: Structure, row: list[Value], texts: list[str], number_width: int) -> str:
    """``grad(w0) 0.1234   grad(w1) ?``: a row of a box's parameters' gradients (numbers padded)."""
    cells = [f"grad({s.label(p) or 'parameter'}) {number_cell_text(t, number_width)}" for p, t in zip(row, texts)]
    return "   ".join(cells)


def box_parameter_rows(s: Structure, box: Box) -> list[list[Value]]:
    """A folded box's parameters in rows: one a row up to 5, then 2, then 4 a row."""
    params = [m for m in box.members if m in s.parameters]
    per_row = 1 if len(params) <= 5 else 2 if len(params) <= 16 else 4
    return [params[i : i + per_row] for i in range(0, len(params), per_row)]


def _bold(text: str | None) -> str:
    """A label in bold; Graphviz refuses an empty <B></B>, so an empty label is an empty cell."""
    return f"<B>{html_text(text)}</B>" if text else ""
