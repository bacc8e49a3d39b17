"""One Graphviz SVG, rendered once, turned into a template whose text and colours can change.

The backward player draws every frame on the same layout: Graphviz runs once, on a drawing
whose grad cells all hold the same widest text (so every cell has one fixed width), and each
frame is that SVG with only three kinds of slot filled in: a node's or edge's ``class``
(highlights are CSS classes), a grad cell's text, and a node's ``<title>`` (hover text).

Groups are found by the ids ``drawing_dot`` gives them (``v3``, ``op3``, ``box0``, ``e5``: names
we made, never user text); an edge's ``<title>`` names its ends. The SVG comes through
``svg_markup.normalize_svg``, so a grad cell is ``<g id="v3-grad">`` whatever drew it. A value
node's grad text gets the id ``<name>-grad-text``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from .svg_markup import SCALABLE, group_end

__all__ = ["STYLE", "SvgTemplate", "grad_text_id", "parse_svg"]

# Highlights as classes, so a frame changes attributes, never geometry.
STYLE = (
    "<style>"
    ".changed .grad-cell{fill:#fde047}"
    ".changed .grad-text{font-weight:bold}"
    ".changed .param-text{font-weight:normal}.focus .param-text{font-weight:bold}"  # a box's own step
    ".focus>polygon:first-of-type,.focus>ellipse{stroke:#dc2626;stroke-width:3px}"
    ".active>path{stroke:#dc2626;stroke-width:2px}"
    ".active>polygon{stroke:#dc2626;fill:#dc2626}"
    ".caption{font-family:Helvetica,Arial,sans-serif;font-size:14px}"
    "</style>"
)

_GROUP = re.compile(r'<g id="([\w-]+)" class="(node|edge)">\s*<title>([^<]*)</title>')
_TEXT = re.compile(r"<text([^>]*)>([^<]*)</text>")
_POLYGON = re.compile(r"<polygon([^>]*?)/>")
_POINTS = re.compile(r'points="([^"]*)"')
_ANCHOR = re.compile(r'\s(?:x|text-anchor)="[^"]*"')
_SVG_OPEN = re.compile(r"<svg\b([^>]*)>")
_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')
_SIZE = re.compile(r'\s(?:width|height|style)="[^"]*"')

Slot = tuple[str, str]  # (kind, group id): kind is "class", "title" or "grad"


@dataclass(frozen=True)
class SvgTemplate:
    """The SVG as literal pieces and slots; ``edges`` maps an edge id to its (tail, head) node names."""

    head: str  # the attributes of the <svg> element, without width/height/viewBox
    view_box: tuple[float, float, float, float]
    parts: tuple[str | Slot, ...]
    kinds: Mapping[str, str]  # group id -> "node" or "edge"
    edges: Mapping[str, tuple[str, str]]
    box_outputs: Mapping[str, str]  # folded box id -> its "out: data ...  grad ..." line as drawn

    def body(self, classes: Mapping[str, str], grads: Mapping[str, str], titles: Mapping[str, str]) -> str:
        """The SVG's content with the slots filled; missing classes are plain, missing titles empty."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            kind, key = part
            if kind == "class":
                extra = classes.get(key)
                out.append(self.kinds[key] + (" " + extra if extra else ""))
            elif kind == "grad":
                out.append(html.escape(grads.get(key, ""), quote=False))
            else:
                out.append(html.escape(titles.get(key, ""), quote=False))
        return "".join(out)

    @property
    def natural_width(self) -> float:
        """The drawing's width in CSS pixels (Graphviz sizes are in points)."""
        return self.view_box[2] * 4 / 3

    def inline(self, body: str) -> str:
        """The SVG as an element of an HTML page (``id="drawing"``), scaled by CSS."""
        x, y, w, h = self.view_box
        return f'<svg id="drawing" viewBox="{x:.2f} {y:.2f} {w:.2f} {h:.2f}"{self.head}>{STYLE}{body}</svg>'

    def document(self, body: str, *, top: float = 0.0, width: float = 0.0, extra: str = "") -> str:
        """A standalone SVG: ``top`` more units of room above the drawing (at least ``width``
        wide), ``extra`` drawn there."""
        x, y, w, h = self.view_box
        w = max(w, width)
        size = f'width="{w:.0f}pt" height="{h + top:.0f}pt" viewBox="{x:.2f} {y - top:.2f} {w:.2f} {h + top:.2f}"'
        return f"<svg {size} {SCALABLE}{self.head}>{STYLE}{extra}{body}</svg>\n"


def grad_text_id(key: str) -> str:
    """The id of the ``<text>`` showing the grad of the value node ``key``."""
    return f"{key}-grad-text"


def _grad_cell(group: str, key: str) -> list[str | Slot]:
    """The group with its grad cell (``<g id="{key}-grad">``, see ``drawing_dot``) marked:
    the border classed, the text given an id and its content slotted. The text keeps its
    place: number cells are monospace and every text is padded to one width."""
    cell = group.find(f'<g id="{key}-grad">')
    border = _POLYGON.search(group, cell)
    text = _TEXT.search(group, cell)
    if cell < 0 or border is None or text is None:
        raise ValueError(f"dot's SVG has no grad cell for node {key}")
    return [
        group[: border.start()],
        f'<polygon class="grad-cell"{border.group(1)}/>',
        group[border.end() : text.start()],
        f'<text id="{grad_text_id(key)}" class="grad-text"{text.group(1)}>',
        ("grad", key),
        "</text>" + group[text.end() :],
    ]


def _box_output(group: str, key: str, outputs: dict[str, str]) -> list[str | Slot]:
    """A folded box with its "out: data ...  grad ..." line and the lines after it (its parameters'
    gradients, ``{key}-p0``, ``{key}-p1``, ...) slotted and centred (their numbers change)."""
    texts = list(_TEXT.finditer(group))
    outs = [i for i, t in enumerate(texts) if html.unescape(t.group(2)).startswith("out: ")]
    face = _POLYGON.search(group)
    points = _POINTS.search(face.group(1)) if face else None
    if not outs or points is None:
        return [group]
    xs = [float(pair.split(",")[0]) for pair in points.group(1).split()]
    centre = (min(xs) + max(xs)) / 2
    parts: list[str | Slot] = []
    position = 0
    for n, line in enumerate(texts[outs[-1] :]):
        slot = key if n == 0 else f"{key}-p{n - 1}"
        outputs[slot] = html.unescape(line.group(2))
        attributes = _ANCHOR.sub("", line.group(1))
        kind = "grad-text" if n == 0 else "grad-text param-text"  # the out line, then the parameters
        opening = f'<text id="{grad_text_id(slot)}" class="{kind}" text-anchor="middle" x="{centre:.2f}"{attributes}>'
        parts += [group[position : line.start()], opening, ("grad", slot)]
        position = line.start() + len(line.group(0)) - len("</text>")
    parts.append(group[position:])
    return parts


def parse_svg(svg: str, grad_nodes: Collection[str], boxes: Collection[str] = ()) -> SvgTemplate:
    """Slot Graphviz's ``svg``: the grad cells of the value nodes ``grad_nodes`` and the output
    lines of the folded ``boxes`` become slots."""
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    opening = _SVG_OPEN.search(svg)
    if opening is None:
        raise ValueError("dot's output has no <svg> element")
    view_box = _VIEWBOX.search(opening.group(1))
    if view_box is None:
        raise ValueError("dot's <svg> element has no viewBox")
    head = _SIZE.sub("", _VIEWBOX.sub("", opening.group(1))).rstrip()
    content = svg[opening.end() : svg.rindex("</svg>")]
    parts: list[str | Slot] = []
    kinds: dict[str, str] = {}
    edges: dict[str, tuple[str, str]] = {}
    outputs: dict[str, str] = {}
    position = 0
    for match in _GROUP.finditer(content):
        key, kind, title = match.group(1), match.group(2), html.unescape(match.group(3))
        if kind == "edge":
            tail, _, head_name = title.partition("->")
            edges[key] = (tail, head_name)
        kinds[key] = kind
        parts += [content[position : match.start()], f'<g id="{key}" class="', ("class", key)]
        parts += ['">\n<title>', ("title", key), "</title>"]
        end = group_end(content, match.end())
        group = content[match.end() : end]
        if key in grad_nodes:
            parts += _grad_cell(group, key)
        elif key in boxes:
            parts += _box_output(group, key, outputs)
        else:
            parts.append(group)
        position = end
    parts.append(content[position:])
    box = tuple(float(view_box.group(i)) for i in range(1, 5))
    return SvgTemplate(" " + head.strip(), box, tuple(parts), kinds, edges, outputs)  # type: ignore[arg-type]
