"""The backward pass step by step: ``draw_backward(root)``, a player you can click through.

Each frame is one node processed in reverse topological order: its adjoint is final, and
each input's adjoint grows by one chain-rule term, which the caption writes out
(``b̄ = 0.5000 + 0.5000 · 1.0000 = 1.0000``: old + upstream · local derivative = new).
Graphviz lays the graph out once; every frame is that one SVG with only the grad texts and
highlight classes changed (``_svg_slots``), so nothing moves between frames.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuegrad.autograd import _checks
from valuegrad.autograd._files import write_text_atomic
from valuegrad.autograd._page import MIN_SCALE, page
from valuegrad.autograd._svg_slots import SvgTemplate, grad_text_id, parse_svg
from valuegrad.autograd.drawing import (
    DEFAULT_MAX_NODES,
    PENDING_GRAD,
    Graph,
    GraphTooLargeError,
    _build,
    _check_options,
    _check_root,
    _Layout,
    _Options,
    _too_large_message,
    format_number,
)
from valuegrad.autograd.engine import Value, local_derivatives, topological_order

__all__ = ["BackwardFrame", "Contribution", "Walkthrough", "draw_backward", "graph_page", "save_frames"]

PLAY_INTERVAL_MS = 1200
MAX_CAPTION_LABEL = 32  # characters of a label shown in a caption
_ARITHMETIC = ("+", "-", "*", "/")
MAX_FORMULA_NAME = 16  # longer formulas name a value by its number instead
CAPTION_MIN_PX = 11  # a saved frame's caption, at least, is readable in a 1000 px column


@dataclass(frozen=True)
class Contribution:
    """One chain-rule term added in a frame: ``before + upstream · derivative = after``."""

    parent: Value
    before: float
    upstream: float
    derivative: float
    after: float


class BackwardFrame:
    """One step of the walkthrough: ``node`` was processed (its adjoint is final).

    ``adjoints`` maps every Value reached so far to its adjoint after this step,
    ``contributions`` are the terms this step added, ``caption`` says it in words and numbers.
    """

    def __init__(
        self,
        walk: Walkthrough,
        step: int,
        node: Value,
        adjoints: dict[Value, float],
        contributions: tuple[Contribution, ...],
        caption: str,
    ) -> None:
        self._walk = walk
        self.step = step
        self.node = node
        self.adjoints = adjoints
        self.contributions = contributions
        self.caption = caption

    def svg(self) -> str:
        """This frame as a standalone SVG (the shared layout, this frame's numbers and caption)."""
        return self._walk._frame_svg(self)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write this frame as SVG to ``path`` (which must end in .svg). Atomic."""
        target = Path(path)
        if target.suffix.lower() != ".svg":
            raise ValueError(f"a frame saves as SVG: give a path ending in .svg, not {str(target)!r}")
        write_text_atomic(target, self.svg())
        return target

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": self.svg(), "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"<BackwardFrame {self.step}: {self.caption.splitlines()[0]}>"


def save_frames(
    frames: Iterator[BackwardFrame] | Sequence[BackwardFrame],
    directory: str | os.PathLike[str],
    output_format: str = "svg",
    prefix: str = "frame",
) -> list[Path]:
    """Save frames as ``directory/frame_000.svg``, ``frame_001.svg``, ...; returns the paths written."""
    if output_format.lower().lstrip(".") != "svg":
        raise ValueError(f"unknown frame format {output_format!r}: frames are saved as svg")
    if not prefix or any(sep in prefix for sep in ("/", "\\", os.sep)) or prefix.startswith("."):
        raise ValueError(f"prefix {prefix!r} must be a plain file-name prefix such as 'frame'")
    frame_list = list(frames)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(len(frame_list) - 1)))
    return [frame.save(folder / f"{prefix}_{i:0{width}d}.svg") for i, frame in enumerate(frame_list)]


# ------------------------------------------------------------------ names and hover text


def _names(order: Sequence[Value]) -> dict[Value, str]:
    """What captions call each value: its label, else a short formula of its inputs' names
    (``w*x``, ``tanh(n)``), else ``#N`` with N its place in the drawing's order."""
    names: dict[Value, str] = {}
    formulas: set[Value] = set()  # named by a formula: wrapped in parentheses inside another
    for i, v in enumerate(order):
        if v.label:
            label = v.label
            names[v] = label if len(label) <= MAX_CAPTION_LABEL else label[: MAX_CAPTION_LABEL - 1] + "…"
            continue
        inner = [f"({names[p]})" if p in formulas else names[p] for p in v.parents]
        symbol = v.op_symbol or ""
        formula = ""
        if len(inner) == 2 and symbol in _ARITHMETIC:
            formula = inner[0] + symbol + inner[1]
        elif len(inner) == 1 and symbol.isidentifier():
            formula = f"{symbol}({names[v.parents[0]]})"
        elif len(inner) == 1 and symbol in _ARITHMETIC:  # -x
            formula = symbol + inner[0]
        elif len(inner) == 1 and symbol[:1] in _ARITHMETIC:  # a folded constant: x * 2
            formula = inner[0] + symbol.replace(" ", "")
        elif len(inner) == 1 and symbol[-1:] in _ARITHMETIC:  # 2 - x
            formula = symbol.replace(" ", "") + inner[0]
        numbered = any(names[p].startswith("#") and not p.label for p in v.parents)
        if formula and len(formula) <= MAX_FORMULA_NAME and not numbered:
            names[v] = formula
            formulas.add(v)
        else:
            names[v] = f"#{i}"
    return names


def _adjoint_name(name: str) -> str:
    """``b`` -> ``b̄``; a longer name -> ``grad(name)`` (a bar over several letters cannot be typed)."""
    return name + "\u0304" if len(name) == 1 else f"grad({name})"


def _hover_lines(root: Value, layout: _Layout, precision: int, with_grad: bool) -> dict[str, list[str]]:
    """Hover text for every drawn node id: label, data (and grad), local derivatives."""
    names = _names(layout.order)

    def number(x: float) -> str:
        return format_number(x, precision)

    info: dict[str, list[str]] = {}
    for v in layout.order:
        name = names[v]
        derivatives = [f"∂{name}/∂{names[p]} = {number(d)}" for p, d in zip(v.parents, local_derivatives(v))]
        if v in layout.value_id:
            made = [f"made by {v.op_symbol}"] if v.parents else ["a leaf"]
            grad = [f"grad {number(v.grad)}"] if with_grad else []
            info[layout.value_id[v]] = [name, f"data {number(v.data)}", *grad, *made, *derivatives]
        if v in layout.op_id:
            info[layout.op_id[v]] = [f"{v.op_symbol} → {name}", *derivatives]
    for box, key in layout.box_id.items():
        size = layout.box_size[box]
        info[key] = [box[-1], f"{size} value{'s' if size != 1 else ''} folded in"]
    return info


def graph_page(graph: Graph) -> str:
    """``draw(...).save("graph.html")``: the static drawing with hover text, zoom and pan."""
    if graph._drawn is None:
        raise ValueError("this Graph was not made by draw(), so there is nothing to show on hover")
    root, layout, precision = graph._drawn
    template = parse_svg(graph.svg(), ())
    info = _hover_lines(root, layout, precision, with_grad=True)
    body = template.body({}, {}, {})  # the page's own tooltip shows the hover text
    data = {"frames": [], "start": [], "info": info, "interval": PLAY_INTERVAL_MS}
    return page("valuegrad graph", template.inline(body), data, template.natural_width)


# ------------------------------------------------------------------ the walkthrough


class Walkthrough:
    """The frames of one backward pass: iterate them, ``len()``, index, ``.save(path)``.

    ``.save("walk.html")`` writes a self-contained player; ``.save("folder")`` writes
    ``folder/frame_000.svg``, ...  In Jupyter the object shows as the player.
    Graphviz runs once, on first use of a picture, and every frame reuses its layout.
    """

    def __init__(self, root: Value, order: list[Value], layout: _Layout, options: _Options, skip_leaves: bool) -> None:
        self.root = root
        self._layout = layout
        self._options = options
        self._template: SvgTemplate | None = None
        self.frames: list[BackwardFrame] = self._sweep(order, skip_leaves)

    def _number(self, x: float) -> str:
        return format_number(x, self._options.precision)

    def _sweep(self, order: list[Value], skip_leaves: bool) -> list[BackwardFrame]:
        """Replay backward's sweep (same order, same float arithmetic), one step per node."""
        steps: list[tuple[Value, dict[Value, float], tuple[Contribution, ...]]] = []
        adjoints: dict[Value, float] = {self.root: 1.0}
        for node in reversed(order):
            upstream = adjoints[node]  # final: every consumer of ``node`` came earlier
            terms = []
            for parent, derivative in zip(node.parents, local_derivatives(node)):
                before = adjoints.get(parent, 0.0)
                adjoints[parent] = before + upstream * derivative
                terms.append(Contribution(parent, before, upstream, derivative, adjoints[parent]))
            if node.parents or node is self.root or not skip_leaves:
                steps.append((node, dict(adjoints), tuple(terms)))
        names = _names(order)
        total = len(steps)
        return [
            BackwardFrame(self, k, node, snapshot, terms, self._caption(k, total, node, snapshot[node], terms, names))
            for k, (node, snapshot, terms) in enumerate(steps)
        ]

    def _caption(
        self, k: int, total: int, node: Value, adjoint: float, terms: tuple[Contribution, ...], names: dict[Value, str]
    ) -> str:
        name, number = names[node], self._number
        head = f"Step {k + 1}/{total}: {_adjoint_name(name)} = {number(adjoint)}"
        if not terms:
            return head + f" is final; {name} is a leaf, so this is its gradient"
        lines = [head + f" is final; {node.op_symbol} passes it back to its inputs:"]
        for t in terms:
            arithmetic = f"{number(t.before)} + {number(t.upstream)} · {number(t.derivative)} = {number(t.after)}"
            lines.append(f"{_adjoint_name(names[t.parent])} = {arithmetic}")
        return "\n".join(lines)

    # -------------------------------------------------------------- pictures

    def _grad_text(self, adjoints: dict[Value, float], v: Value) -> str:
        adjoint = adjoints.get(v)
        return "grad " + (PENDING_GRAD if adjoint is None else self._number(adjoint))

    def template(self) -> SvgTemplate:
        """The one layout: every grad cell drawn with the widest text any frame shows, then slotted."""
        if self._template is None:
            layout = self._layout
            texts = {self._grad_text(f.adjoints, v) for f in self.frames for v in layout.value_id}
            texts.add(self._grad_text({}, self.root))
            widest = "grad " + "8" * (max(len(t) for t in texts) - len("grad "))
            graph = _build(self.root, self._options, set(), grad_text=widest, names=_names(layout.order))
            self._template = parse_svg(graph.svg(), set(layout.value_id.values()))
        return self._template

    def _drawn_node(self, v: Value) -> str:
        return self._layout.representative(v)

    def _marks(self, frame: BackwardFrame) -> tuple[list[str], list[str], list[str]]:
        """The ids to highlight: changed adjoints, the node processed, the edges it sends back along."""
        layout = self._layout
        changed = sorted({self._drawn_node(t.parent) for t in frame.contributions})
        focus = [self._drawn_node(frame.node)]
        op = layout.op_id.get(frame.node)
        edges: list[str] = []
        if op is not None:
            focus.append(op)
            edges = sorted(key for key, (tail, head) in self.template().edges.items() if op in (tail, head))
        return changed, focus, edges

    def _frame_svg(self, frame: BackwardFrame) -> str:
        template = self.template()
        changed, focus, edges = self._marks(frame)
        classes = {key: "changed" for key in changed}
        for key in focus:
            classes[key] = (classes.get(key, "") + " focus").strip()
        classes.update({key: "active" for key in edges})
        values = self._layout.value_id
        grads = {key: self._grad_text(frame.adjoints, v) for v, key in values.items()}
        info = _hover_lines(self.root, self._layout, self._options.precision, with_grad=False)
        titles = {key: "\n".join(lines + ([grads[key]] if key in grads else [])) for key, lines in info.items()}
        # The caption keeps >= CAPTION_MIN_PX when the frame is scaled into a 1000 px column, and
        # room is made for the longest caption of any frame, so every frame has the same size.
        captions = [f.caption.splitlines() for f in self.frames]
        font = max(14.0, CAPTION_MIN_PX * template.view_box[2] / 1000)
        height = font * 1.3
        top = height * max(len(lines) for lines in captions) + font / 2
        width = max(len(line) for lines in captions for line in lines) * font * 0.55 + 8
        x, y = template.view_box[0] + 4, template.view_box[1] - top
        caption = "".join(
            f'<text class="caption" style="font-size:{font:.1f}px" x="{x:.2f}" y="{y + height * (i + 1):.2f}">'
            f"{html.escape(line)}</text>"
            for i, line in enumerate(frame.caption.splitlines())
        )
        return template.document(template.body(classes, grads, titles), top=top, width=width, extra=caption)

    def html(self) -> str:
        """The self-contained player page (the same graph gives the same bytes)."""
        template = self.template()
        values = self._layout.value_id
        start = {self.root: 1.0}
        frames = []
        before = {key: self._grad_text(start, v) for v, key in values.items()}
        for frame in self.frames:
            after = {key: self._grad_text(frame.adjoints, v) for v, key in values.items()}
            changes = [[grad_text_id(key), text] for key, text in sorted(after.items()) if text != before[key]]
            changed, focus, edges = self._marks(frame)
            frames.append({"caption": frame.caption, "g": changes, "changed": changed, "focus": focus, "edges": edges})
            before = after
        initial = {key: self._grad_text(start, v) for v, key in values.items()}
        data = {
            "frames": frames,
            "start": [[grad_text_id(key), text] for key, text in sorted(initial.items())],
            "info": _hover_lines(self.root, self._layout, self._options.precision, with_grad=False),
            "interval": PLAY_INTERVAL_MS,
        }
        body = template.body({}, initial, {})
        return page("valuegrad: the backward pass", template.inline(body), data, template.natural_width)

    def save(self, path: str | os.PathLike[str]) -> Path | list[Path]:
        """``x.html``: the player page; a folder (no suffix): one SVG per frame. Atomic per file."""
        target = Path(path)
        if target.suffix.lower() == ".html":
            write_text_atomic(target, self.html())
            return target
        if target.suffix and not target.is_dir():
            raise ValueError(f"save({str(target)!r}): give a .html file for the player or a folder for SVG frames")
        return save_frames(self.frames, target)

    def _repr_html_(self) -> str:
        """In Jupyter: the player, in an iframe so its ids and keys stay its own."""
        template = self.template()
        scale = max(MIN_SCALE, min(1.0, 960 / template.natural_width))
        height = template.view_box[3] * 4 / 3 * scale + 170
        document = html.escape(self.html(), quote=True)
        return f'<iframe srcdoc="{document}" style="width:100%;height:{height:.0f}px;border:0"></iframe>'

    def __len__(self) -> int:
        return len(self.frames)

    def __iter__(self) -> Iterator[BackwardFrame]:
        return iter(self.frames)

    def __getitem__(self, index: int) -> BackwardFrame:
        return self.frames[index]

    def __repr__(self) -> str:
        return f"<Walkthrough: {len(self.frames)} frames; .save('walk.html'), .save(folder), iterate for frames>"


def draw_backward(
    root: Value,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    edge_labels: bool = True,
    precision: int = 4,
    collapse: int | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    skip_leaves: bool = False,
) -> Walkthrough:
    """Backpropagation step by step: one frame per node, in reverse topological order.

    Returns a :class:`Walkthrough` (iterable, ``len()``, ``.save(path)``). Frame k
    outlines the node processed (its adjoint is final), highlights the adjoints it
    changed and writes the arithmetic in its caption; adjoints not yet reached show ``?``.
    ``skip_leaves=True`` drops the frames of leaves, where nothing happens. The adjoints
    are computed as ``backward()`` computes them (same order, same float arithmetic), so
    the last frame's equal a fresh ``backward()``'s ``.grad`` (gradient hooks are not
    applied); ``.grad`` itself is not touched. Other options are as for ``draw``.
    """
    root = _check_root(root, "draw_backward")
    options = _check_options(rankdir, show_data, True, edge_labels, precision, collapse, max_nodes)
    skip_leaves = _checks.flag(skip_leaves, "skip_leaves", "draw_backward")
    order = topological_order(root)
    layout = _Layout(order, options.collapse)
    if options.max_nodes is not None and layout.node_count > options.max_nodes:
        raise GraphTooLargeError(_too_large_message(order, layout, options))
    return Walkthrough(root, order, layout, options, skip_leaves)
