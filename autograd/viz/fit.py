"""Readable by default: pick the orientation and collapse level so a drawing fits a notebook.

A notebook column is about 1,000 px wide; Graphviz's SVG is in points (4/3 px each), so a
drawing up to ``FIT_WIDTH`` points is shown at full size and one up to ``MAX_WIDTH`` points is
scaled down no further than keeps 10 pt text at 9 px. The sizes here are estimates from the
fixed cell sizes and a longest-path layering; the size tests measure the real SVGs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..core import Value
from .dot_nodes import OP_HEIGHT, DotWriter, DrawOptions, op_width
from .structure import Structure
from .text import counted_names

__all__ = ["FIT_WIDTH", "MAX_HEIGHT", "MAX_WIDTH", "Choice", "choose", "estimate_size"]

FIT_WIDTH = 740.0
MAX_WIDTH = 1000.0
MAX_HEIGHT = 1600.0  # about two screens: taller than that, folding reads better than scrolling
RANK_GAP = 16.0  # ranksep plus arrow heads
NODE_GAP = 9.0  # nodesep
CLUSTER_PAD = 14.0
LEGEND_ENTRY = 62.0
_ROW = 1 << 20  # estimate_size keys a wrapped layer as row * _ROW + layer


@dataclass
class Choice:
    structure: Structure
    rankdir: str
    width: float
    note: str | None
    wrap: int = 0


def estimate_size(structure: Structure, options: DrawOptions) -> tuple[float, float]:
    """(width, height) in points of ``structure`` drawn with ``options.rankdir``, roughly."""
    writer = DotWriter(structure, options, None, set(), None, None)

    size: dict[str, tuple[float, float]] = {}
    for n, v in enumerate(structure.values):
        size[f"v{n}"] = writer.value_size(v)
        if v.parents:
            size[f"op{n}"] = (op_width(v), OP_HEIGHT)
    for box in structure.boxes.values():
        size[box.id] = writer.box_size(box)
    rank = structure.ranks()
    if options.wrap:  # row k holds layers k*wrap ... (k+1)*wrap - 1, stacked across the flow
        rank = {node: r % options.wrap + _ROW * (r // options.wrap) for node, r in rank.items()}
    across: dict[int, float] = {}  # total extent of a rank across the flow
    along: dict[int, float] = {}  # largest extent of a rank along the flow
    horizontal = options.rankdir in ("LR", "RL")
    for node, (w, h) in size.items():
        r = rank.get(node, 0)
        flow, cross = (w, h) if horizontal else (h, w)
        along[r] = max(along.get(r, 0.0), flow)
        across[r] = across.get(r, 0.0) + cross + NODE_GAP
    gaps = RANK_GAP + (22.0 if options.edge_labels else 0.0)
    if options.wrap:  # rows side by side across the flow: the longest row, the sum of the rows' breadths
        by_row: dict[int, list[int]] = {}
        for r in along:
            by_row.setdefault(r // _ROW, []).append(r)
        length = max(sum(along[r] for r in rs) + gaps * (len(rs) - 1) for rs in by_row.values())
        breadth = sum(max(across[r] for r in rs) + 2 * RANK_GAP for rs in by_row.values())
    else:
        length = sum(along.values()) + gaps * max(len(along) - 1, 0)
        breadth = max(across.values(), default=0.0)
    pad = 2 * CLUSTER_PAD * structure.depth + 16
    width, height = (length, breadth) if horizontal else (breadth, length)
    roles = {structure.role(v) for v in structure.values} | ({"box"} if structure.boxes else set())
    legend = LEGEND_ENTRY * len(roles) if options.legend else 0.0
    return max(width + pad, legend), height + pad


def _levels(root: Value, params: frozenset[Value]) -> list[int | None]:
    depth = Structure(root, None, params).depth
    return [None, *range(depth, 0, -1)]


def choose(
    root: Value,
    params: frozenset[Value],
    options: DrawOptions,
    rankdir: str,
    collapse: int | str | None,
    max_nodes: int | None,
) -> Choice | list[tuple[int | None, int]]:
    """The structure and orientation to draw, or, when nothing fits under ``max_nodes``,
    every collapse level tried with its node count (for the error message)."""
    levels = _levels(root, params) if isinstance(collapse, str) else [collapse]
    directions = ("LR", "TB") if rankdir == "auto" else (rankdir,)
    tried: list[tuple[int | None, int]] = []
    candidates: list[Choice] = []
    for level in levels:
        structure = Structure(root, level, params)
        tried.append((level, structure.node_count))
        if max_nodes is not None and structure.node_count > max_nodes:
            continue
        sizes = [(d, *estimate_size(structure, replace(options, rankdir=d))) for d in directions]
        d, width, height = min(
            sizes, key=lambda item: (item[1] > MAX_WIDTH or item[2] > MAX_HEIGHT, item[1] > FIT_WIDTH, item[0] != "LR")
        )
        note = _note(structure) if collapse == "auto" and level is not None else None
        choice = Choice(structure, d, width, note)
        if width <= MAX_WIDTH and height <= MAX_HEIGHT:
            return choice
        candidates.append(choice)
    if not candidates:
        return tried
    best = min(candidates, key=lambda c: c.width)
    if rankdir in ("auto", "LR"):
        wrapped = _wrapped(best.structure, options)
        if wrapped is not None:
            return wrapped
    return best


def _wrapped(structure: Structure, options: DrawOptions) -> Choice | None:
    """A long left-to-right drawing broken into rows that fit the column, if that fits."""
    flow = replace(options, rankdir="LR")
    width, _ = estimate_size(structure, flow)
    layers = max(structure.ranks().values(), default=0) + 1
    per_row = max(2, int(layers * FIT_WIDTH / max(width, 1.0)))
    if per_row >= layers:
        return None
    wrapped = replace(flow, wrap=per_row)
    width, height = estimate_size(structure, wrapped)
    if width > MAX_WIDTH or height > 2 * MAX_HEIGHT:
        return None
    rows = (layers + per_row - 1) // per_row
    return Choice(
        structure, "LR", width, f"wrapped into {rows} rows to fit; rankdir='TB' draws one long column", per_row
    )


def _note(structure: Structure) -> str:
    """What auto-collapse folded, in the boxes' own words: 'folded 17 neurons into boxes ...'."""
    what = ", ".join(counted_names(box.steps[-1][1] for box in structure.boxes.values()))
    return f"folded {what} into boxes to fit (collapse={structure.collapse}); collapse=None draws every node"
