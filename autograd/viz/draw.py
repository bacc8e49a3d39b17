"""Pictures of computation graphs: ``draw(root)`` (the backward walkthrough is in ``player``).

Value nodes are small tables (label, then data and grad) and each op is a separate
oval, as in micrograd, which students know. Fill colours are fixed roles, named in a
legend: inputs blue, parameters amber (``params=[...]``, or made by an ``nn`` module),
intermediate values white, the output green. By default a drawing picks its
orientation and folds scopes into boxes until it fits a notebook column
(``drawing_fit``); what is drawn is decided in ``drawing_structure``, how in
``drawing_dot`` (which also states the ids the HTML player relies on).
The same graph always gives the same DOT text, byte for byte.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..core import Value, topological_order
from ..core.files import write_bytes_atomic
from .dot_writer import HIGHLIGHT, PENDING_GRAD, ROLE_FILL, DotDrawing, DrawOptions, dot_text
from .fit import choose
from .page import graph_page
from .render import DotNotFoundError, RenderError, let_graphviz_find_dot, run_dot
from .structure import MAX_CLUSTER_DEPTH, Structure, count_nodes
from .svg_markup import normalize_svg
from .text import format_number, html_text

__all__ = [
    "DEFAULT_MAX_NODES",
    "HIGHLIGHT",
    "MAX_CLUSTER_DEPTH",
    "PENDING_GRAD",
    "RANKDIRS",
    "ROLE_FILL",
    "SAVE_FORMATS",
    "DotDrawing",
    "DotNotFoundError",
    "Graph",
    "GraphTooLargeError",
    "Prepared",
    "RenderError",
    "draw",
    "format_number",
    "html_text",
    "prepare",
]

DEFAULT_MAX_NODES = 500
RANKDIRS = ("auto", "LR", "RL", "TB", "BT")  # auto: left to right if that fits a notebook, else top down
MAX_PRECISION = 17

SAVE_FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot", ".html": "html"}


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``; the message says how to collapse it or raise the limit."""


# ------------------------------------------------------------------ the Graph


class Graph:
    """A drawn computation graph: DOT text, rendered on demand by Graphviz's ``dot``.

    ``source`` is the DOT text; ``drawing`` says which Value became which node
    (``drawing.node_of``, ``drawing.values``). In Jupyter a cell ending with a Graph
    shows the SVG, or, if no ``dot`` is installed, a one-line hint and the DOT text.
    """

    def __init__(self, drawing: DotDrawing) -> None:
        self.drawing = drawing
        self.source = drawing.source
        self.node_count = drawing.node_count
        self.edge_count = drawing.edge_count
        self._svg_cache: tuple[str, str] | None = None

    def pipe(self, output_format: str = "svg") -> bytes:
        """Render with ``dot`` to ``output_format`` ('svg', 'png', ...) and return the bytes."""
        return run_dot(self.source, output_format)

    @property
    def digraph(self) -> Any:
        """The DOT text as a ``graphviz.Source``, whose own methods (pipe, render, view) find our dot."""
        import graphviz

        let_graphviz_find_dot()
        return graphviz.Source(self.source)

    def svg(self) -> str:
        """The picture as SVG text (rendered once per distinct source)."""
        source = self.source
        if self._svg_cache is None or self._svg_cache[0] != source:
            self._svg_cache = (source, normalize_svg(run_dot(source, "svg").decode("utf-8")))
        return self._svg_cache[1]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the graph to ``path``; the suffix picks the format (.svg, .png, .dot, .html). Atomic."""
        if not os.fspath(path):
            raise ValueError("cannot save to an empty path: give a file name such as graph.svg")
        target = Path(path)
        output_format = SAVE_FORMATS.get(target.suffix.lower())
        if output_format is None:
            known = ", ".join(sorted(SAVE_FORMATS))
            raise ValueError(f"cannot tell the format of {str(target)!r} from its suffix: use one of {known}")
        write_bytes_atomic(target, self.render(output_format))
        return target

    def render(self, output_format: str) -> bytes:
        """The graph as bytes in ``output_format``: 'dot' (the source itself), 'svg', 'png' or 'html'."""
        if output_format == "html":  # a page with hover text, zoom and pan
            return graph_page(self.svg(), self.drawing.structure, self.drawing.precision).encode("utf-8")
        if output_format == "dot":
            return self.source.encode("utf-8")
        if output_format == "svg":
            return self.svg().encode("utf-8")
        return self.pipe(output_format)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        try:
            return {"image/svg+xml": self.svg()}
        except (DotNotFoundError, RenderError) as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            return {"text/plain": f"(no picture: {first_line})\n{self.source}"}

    def __repr__(self) -> str:
        return f"<Graph: {self.node_count} nodes, {self.edge_count} edges; .svg(), .save(path), .source>"


# ------------------------------------------------------------------ options


def _check_options(
    rankdir: object,
    show_data: object,
    show_grad: object,
    edge_labels: object,
    precision: object,
    collapse: object,
    max_nodes: object,
    legend: object = True,
) -> DrawOptions:
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir={rankdir!r}: use one of {', '.join(RANKDIRS)} (LR draws inputs on the left)")
    for name, flag in (("show_data", show_data), ("show_grad", show_grad), ("edge_labels", edge_labels)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    if not isinstance(legend, bool):
        raise TypeError(f"legend must be True or False, got {legend!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= MAX_PRECISION:
        raise ValueError(f"precision={precision!r}: use an int from 0 to {MAX_PRECISION} (decimals shown)")
    if collapse not in (None, "auto") and (isinstance(collapse, bool) or not isinstance(collapse, int) or collapse < 1):
        raise ValueError(
            f"collapse={collapse!r}: use 'auto', None (every node), or an int >= 1 (1 folds each outermost scope)"
        )
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"max_nodes={max_nodes!r}: use a positive int, or None for no limit")
    return DrawOptions(str(rankdir), bool(show_data), bool(show_grad), bool(edge_labels), precision, legend)


def _check_root(root: object, what: str) -> Value:
    if not isinstance(root, Value):
        raise TypeError(f"{what}() draws a Value's graph, got {type(root).__name__}; pass the output Value")
    return root


def _members(items: Value | Iterable[Value], root: Value, what: str) -> frozenset[Value]:
    """The Values named by ``highlight`` or ``params``, checked to be Values of ``root``'s graph."""
    values = [items] if isinstance(items, Value) else list(items)
    if not values:
        return frozenset()
    members = set(topological_order(root))
    for item in values:
        if not isinstance(item, Value):
            raise TypeError(f"{what} takes Values from the graph, got {type(item).__name__}")
        if item not in members:
            raise ValueError(f"{what}: {item!r} is not part of this graph")
    return frozenset(values)


def _too_large_message(tried: list[tuple[int | None, int]], max_nodes: int | None) -> str:
    full = tried[0][1]
    message = f"this graph has {full} nodes to draw, more than max_nodes={max_nodes}."
    fitting = [(level, count) for level, count in tried if level is not None]
    if fitting:
        counts = ", ".join(f"collapse={level} draws {count}" for level, count in fitting)
        message += f" Even folded into boxes it is too big ({counts} nodes):"
        return message + f" raise the limit, e.g. max_nodes={min(c for _, c in fitting)}, or draw a smaller part."
    return message + f" Draw a smaller part of the computation, or raise the limit with max_nodes={full}."


def _structure(
    root: Value,
    params: frozenset[Value],
    options: DrawOptions,
    collapse: int | str | None,
    max_nodes: int | None,
) -> tuple[Structure, DrawOptions, str | None]:
    """The structure to draw and the orientation, after fitting; raises GraphTooLargeError."""
    chosen = choose(root, params, options, options.rankdir, collapse, max_nodes)
    if isinstance(chosen, list):
        if collapse != "auto":  # the caller chose a level: say which levels would fit
            asked = chosen[-1][1]
            smaller = _smaller_levels(root, params, max_nodes)
            if smaller:
                advice = ", ".join(f"collapse={level} draws {count}" for level, count in smaller)
                raise GraphTooLargeError(
                    f"this graph has {asked} nodes to draw at collapse={collapse}, more than "
                    f"max_nodes={max_nodes}. Fold more ({advice} nodes), or raise the limit with "
                    f"max_nodes={asked}."
                )
        raise GraphTooLargeError(_too_large_message(chosen, max_nodes))
    return chosen.structure, replace(options, rankdir=chosen.rankdir, wrap=chosen.wrap), chosen.note


def _refuse_before_building(
    root: Value, params: frozenset[Value], collapse: int | str | None, max_nodes: int | None
) -> None:
    """Refuse, from one cheap walk and before any ``Structure`` is built, a graph that has more than
    ``max_nodes`` drawn nodes at every collapse level it could be drawn at.

    ``count_nodes`` gives a lower bound (nodes no rule can fold away) at the most folded level,
    collapse=1, which bounds every level (None included), so a drawing that would fit at some
    level is never refused here. A graph that fits only when folded more than asked is judged
    later on the exact counts, which also name the levels that fit."""
    if max_nodes is None:
        return
    counted = count_nodes(root, 1, params)
    if counted.at_least <= max_nodes:
        return
    raise GraphTooLargeError(
        f"this graph ({counted.values} values) has at least {counted.at_least} nodes to draw, more than "
        f"max_nodes={max_nodes}, even folded into boxes (collapse=1): nodes outside every scope are never "
        "folded. Draw a smaller part (an intermediate value), build the repeated parts inside "
        "autograd.scope(...) so collapse can fold them into boxes, or raise the limit "
        f"(max_nodes={counted.at_least} at least; max_nodes=None lifts it)."
    )


def _smaller_levels(root: Value, params: frozenset[Value], max_nodes: int | None) -> list[tuple[int, int]]:
    """Collapse levels whose drawing fits under ``max_nodes``, with their node counts."""
    depth = Structure(root, None, params).depth
    counts = [(level, Structure(root, level, params).node_count) for level in range(depth, 0, -1)]
    return [(level, count) for level, count in counts if max_nodes is None or count <= max_nodes]


# ------------------------------------------------------------------ public API


@dataclass(frozen=True)
class Prepared:
    """A drawing ready to write: what ``draw`` and ``draw_backward`` share, checked once.

    ``structure`` is what is drawn (after fitting and folding), ``options`` how (the
    orientation chosen), ``note`` what fitting says above the picture, ``highlight`` the
    Values to outline."""

    root: Value
    structure: Structure
    options: DrawOptions
    note: str | None
    highlight: frozenset[Value]


def prepare(root: object, what: str, *, highlight: object = (), params: object = (), **options: Any) -> Prepared:
    """Check ``root`` and the drawing ``options`` of ``what`` (``"draw"``, ``"draw_backward"``), then fit
    the drawing. ``options`` are ``draw``'s keywords (rankdir, show_data, show_grad, edge_labels,
    precision, collapse, max_nodes, legend), checked here and nowhere else."""
    value = _check_root(root, what)
    checked = _check_options(**options)
    chosen_params = _members(params, value, "params")  # type: ignore[arg-type]
    marked = _members(highlight, value, "highlight")  # type: ignore[arg-type]
    collapse, max_nodes = options["collapse"], options["max_nodes"]
    _refuse_before_building(value, chosen_params, collapse, max_nodes)
    structure, checked, note = _structure(value, chosen_params, checked, collapse, max_nodes)
    return Prepared(value, structure, checked, note, marked)


def draw(
    root: Value,
    *,
    rankdir: str = "auto",
    show_data: bool = True,
    show_grad: bool = True,
    edge_labels: bool = False,
    precision: int = 4,
    collapse: int | str | None = "auto",
    max_nodes: int | None = DEFAULT_MAX_NODES,
    highlight: Value | Iterable[Value] = (),
    params: Value | Iterable[Value] = (),
    legend: bool = True,
) -> Graph:
    """Draw the graph that computes ``root``.

    ``rankdir`` sets the direction ('LR', 'TB', ...; 'auto' picks LR when it fits a
    notebook column, else TB); ``show_data``/``show_grad`` choose the cells of each
    value's box; ``edge_labels=True`` writes the local derivative ∂b/∂a at the head of
    each edge a → b, so the picture shows grad(a) = Σ_b grad(b)·∂b/∂a; ``precision`` is the number
    of decimals. ``collapse=k`` folds every ``autograd.scope`` at depth ≥ k (an ``nn``
    model is 1, its layers 2, their neurons 3) into one box; 'auto' (the default) folds
    only as much as it takes to fit a notebook column and says so above the graph;
    None never folds. A graph with more than ``max_nodes`` drawn nodes at every level
    allowed is refused with ``GraphTooLargeError`` (``None`` lifts the limit).
    ``highlight`` outlines the given Values in red; ``params`` colours the given leaves
    as parameters (``nn`` parameters are recognised without it); ``legend`` names the colours.
    """
    prepared = prepare(
        root,
        "draw",
        rankdir=rankdir,
        show_data=show_data,
        show_grad=show_grad,
        edge_labels=edge_labels,
        precision=precision,
        collapse=collapse,
        max_nodes=max_nodes,
        highlight=highlight,
        params=params,
        legend=legend,
    )
    return Graph(dot_text(prepared.structure, prepared.options, highlight=prepared.highlight, note=prepared.note))
