"""Graphviz's SVG, normalised to one markup whatever program drew it.

Renderers agree on the groups that matter (``<g id="v3" class="node">`` with a ``<title>``,
``<g id="e5" class="edge">``) but not on table cells: Graphviz 16.1 and graphviz-pure wrap a
cell that has an ID and a tooltip in ``<g id="a_v3&#45;grad"><a xlink:title="grad">``, while
Graphviz 2.42/2.43 (Debian, Ubuntu, Colab) writes no group at all for it. So the cells are
found by what we drew, not by how a renderer marks them: in a value node's table each number
cell follows its word cell (``data`` or ``grad``), and its text is monospace. Every renderer's
output comes out of ``normalize_svg`` with the same cell groups, ``<g id="v3-data">`` and
``<g id="v3-grad">``, each holding exactly the cell's border ``<polygon>`` and its ``<text>``.
This is the only place that knows how renderers differ.
"""

from __future__ import annotations

import re

__all__ = [
    "NUMBER_FONT_MARK",
    "SCALABLE",
    "count_node_groups",
    "group_end",
    "normalize_svg",
    "scalable",
]

NUMBER_FONT_MARK = "Courier"  # the number cells' face (drawing_dot.NUMBER_FONT); every renderer names it

_COMMENT = re.compile(r"<!--.*?-->", re.S)
_VALUE_GROUP = re.compile(r'<g id="(v\d+)" class="node">')
_G_TAG = re.compile(r"<g\b|</g>")
# A cell's link wrapper, as 16.1 and graphviz-pure write it (2.42 writes none).
_ANCHOR_OPEN = re.compile(r'<g id="a_[^"]*">\s*<a\b[^>]*>\s*')
_ANCHOR_CLOSE = re.compile(r"\s*</a>\s*</g>")
_SHAPE = re.compile(r"<polygon\b[^>]*/>|<text\b([^>]*)>([^<]*)</text>")
_NODE_GROUP = re.compile(r'<g\b[^>]*\bclass="node"')
_WORDS = ("data", "grad")


_SVG_OPEN = re.compile(r"<svg\b[^>]*>")


def group_end(content: str, position: int) -> int:
    """Where the ``<g>`` opened just before ``position`` closes (groups may nest)."""
    depth = 1
    while True:
        tag = _G_TAG.search(content, position)
        if tag is None:
            raise ValueError("the SVG has a <g> that is never closed")
        depth += 1 if tag.group() == "<g" else -1
        if depth == 0:
            return tag.start()
        position = tag.end()


def _value_node(key: str, group: str) -> str:
    """A value node's content with its number cells grouped as ``{key}-data`` / ``{key}-grad``."""
    group = _ANCHOR_CLOSE.sub("", _ANCHOR_OPEN.sub("", group))
    shapes = list(_SHAPE.finditer(group))
    cells: list[tuple[int, int, str]] = []
    for i, word in enumerate(shapes[:-2]):
        kind = word.group(2)
        border, number = shapes[i + 1], shapes[i + 2]
        if (
            kind in _WORDS
            and border.group().startswith("<polygon")
            and number.group(1) is not None
            and NUMBER_FONT_MARK in number.group(1)
        ):
            cells.append((border.start(), number.end(), kind))
    out, position = [], 0
    for start, end, kind in cells:
        out += [group[position:start], f'<g id="{key}-{kind}">', group[start:end], "</g>"]
        position = end
    out.append(group[position:])
    return "".join(out)


SCALABLE = 'style="max-width:100%;height:auto"'  # a notebook column (nbconvert, JupyterLab, VS Code) scales it


def scalable(svg: str) -> str:
    """``svg`` whose ``<svg>`` element keeps its width and shrinks to its container (never grows)."""
    opening = _SVG_OPEN.search(svg)
    if opening is None or "max-width" in opening.group(0):
        return svg
    return svg[: opening.end() - 1] + " " + SCALABLE + svg[opening.end() - 1 :]


def normalize_svg(svg: str) -> str:
    """``svg`` without comments, its value nodes' number cells in the one markup described above,
    and scalable to a notebook's column (``max-width:100%``, its width kept)."""
    svg = scalable(_COMMENT.sub("", svg))
    out, position = [], 0
    for match in _VALUE_GROUP.finditer(svg):
        if match.start() < position:  # inside a group already rewritten (cannot happen with our DOT)
            continue
        end = group_end(svg, match.end())
        out += [svg[position : match.end()], _value_node(match.group(1), svg[match.end() : end])]
        position = end
    out.append(svg[position:])
    return "".join(out)


def count_node_groups(svg: str) -> int:
    """How many node groups (``<g ... class="node">``) the SVG holds."""
    return len(_NODE_GROUP.findall(svg))
