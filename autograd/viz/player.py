"""The backward pass step by step: ``draw_backward(root)``, a player you can click through.

Frame 0 is the state before the pass (the output's grad is 1, every other grad ``?``). Each
later frame is one step of the engine's reverse sweep (``backward_steps``) through one drawn
node: a node whose adjoint is final passes it back, and each input's adjoint grows by one
chain-rule term, which the caption writes out (``grad(b) = 0.5000 + 0.5000 · 1.0000 = 1.0000``:
old + upstream · local derivative = new). In a folded drawing one frame is one box: the steps
inside it, what its parameters and its inputs receive. Graphviz lays the graph out once; every
frame is that one SVG with only the grad texts and highlight classes changed (``svg_slots``),
and the caption has a fixed area, so nothing moves. ``practice=True`` asks first (``practice``).
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..core import Value, backward_steps
from ..core import checks as _checks
from ..core.files import write_text_atomic
from .dot_nodes import box_parameter_rows, parameter_line
from .dot_writer import PENDING_GRAD, dot_text
from .draw import (
    DEFAULT_MAX_NODES,
    Graph,
    GraphTooLargeError,
    Prepared,
    prepare,
)
from .page import MIN_SCALE, PLAY_INTERVAL_MS, page, script_json
from .player_text import Contribution, box_caption, caption, hover_lines, start_caption, value_names
from .practice import asks, practice_rows
from .structure import Box
from .svg_slots import SvgTemplate, grad_text_id, parse_svg
from .text import format_number, number_cell_text

__all__ = [
    "PICTURE_MAX_NODES",
    "PLAYER_MAX_BYTES",
    "BackwardFrame",
    "Contribution",
    "PageTooLargeError",
    "Walkthrough",
    "draw_backward",
    "save_frames",
]

CAPTION_MIN_PX = 11  # a saved frame's caption, at least, is readable in a 1000 px column
NBSP = "\u00a0"  # pads the monospace number cells; a plain space would collapse in SVG text


@dataclass(frozen=True, eq=False)
class BackwardFrame:
    """One step of the walkthrough: ``node`` was processed (its adjoint is final).

    ``adjoints`` maps every Value reached so far to its adjoint after this step,
    ``contributions`` are the terms this step added, ``caption`` says it in words and numbers.
    """

    step: int  # 0: the state before the backward pass
    node: Value
    adjoints: dict[Value, float]
    contributions: tuple[Contribution, ...]
    caption: str
    box: Box | None  # the folded box this step walks through, if any
    _walk: Walkthrough = field(repr=False, compare=False)  # draws the frame, with the shared layout

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


# ------------------------------------------------------------------ the walkthrough


# Beyond this many drawn nodes a walk has no picture: ~1,600 nodes lay out in 5 s with Graphviz 2.43,
# and 10,000 took graphviz-pure 130 s and 840 MB before failing.
PICTURE_MAX_NODES = 2000

# The player page's budget, in bytes of HTML. The drawing is most of it (about 1.4 kB a drawn node:
# a 1,500-node chain makes a 2.5 MB page, 2.1 MB of it SVG), then the frames' captions and changes.
# 4 MB holds a plain walk at PICTURE_MAX_NODES with room for long captions; above it a page is slow
# to open and heavy in a notebook. ``draw_backward(max_bytes=...)`` moves it, None lifts it.
PLAYER_MAX_BYTES = 4_000_000


class PageTooLargeError(ValueError):
    """The player page would be more than ``max_bytes`` of HTML; the message says how to make it smaller."""


class Walkthrough:
    """The frames of one backward pass: iterate them, ``len()``, index, ``.save(path)``.

    ``.save("walk.html")`` writes a self-contained player; ``.save("folder")`` writes
    ``folder/frame_000.svg``, ...  In Jupyter the object shows as the player.
    Graphviz runs once, on first use of a picture, and every frame reuses its layout.
    """

    def __init__(
        self, prepared: Prepared, skip_leaves: bool, practice: bool = False, max_bytes: int | None = PLAYER_MAX_BYTES
    ) -> None:
        self.practice = practice
        self.max_bytes = max_bytes
        self.root = prepared.root
        self._structure = prepared.structure
        self._options = replace(prepared.options, parameter_grads=True)
        self._note = prepared.note
        self._names = value_names(prepared.structure)
        self._template: SvgTemplate | None = None
        self._number_width = 1
        self.frames: list[BackwardFrame] = self._sweep(skip_leaves)

    def _sweep(self, skip_leaves: bool) -> list[BackwardFrame]:
        """Watch the engine's sweep; each term's old and new adjoint are re-added in the sweep's order.

        One frame per drawn node: the steps through one folded box make one frame, and its
        parameters' steps (where nothing happens) none; frame 0 is the state before the sweep."""
        s = self._structure
        boxes = {box.id: box for box in s.boxes.values()}
        groups: list[tuple[Value, float, dict[Value, float], list[Contribution], Box | None]] = []
        previous: dict[Value, float] = {}
        for step in backward_steps(self.root):
            running: dict[Value, float] = {}
            terms = []
            for term in step.terms:
                before = running.get(term.parent, previous.get(term.parent, 0.0))
                running[term.parent] = before + term.contribution
                terms.append(Contribution(term.parent, before, step.adjoint, term.derivative, running[term.parent]))
            previous = dict(step.adjoints)
            box = boxes.get(s.node_of.get(step.node, ""))
            if box is not None and groups and groups[-1][4] is box:
                groups[-1] = (*groups[-1][:2], previous, groups[-1][3] + terms, box)
            elif box is not None and not step.node.parents and step.node is not self.root:
                if groups:  # a parameter in a box: its grad is final and drawn there already
                    groups[-1] = (*groups[-1][:2], previous, groups[-1][3], groups[-1][4])
            elif step.node.parents or step.node is self.root or not skip_leaves:
                groups.append((step.node, step.adjoint, previous, terms, box))
        total, precision = len(groups), self._options.precision
        frames = [BackwardFrame(0, self.root, {self.root: 1.0}, (), start_caption(self.root, self._names), None, self)]
        for k, (node, g, snapshot, terms, box) in enumerate(groups, start=1):
            if box is None:
                words = caption(k, total, node, g, terms, self._names, precision)
            else:
                words = box_caption(k, total, box, s, g, terms, self._names, precision)
            frames.append(BackwardFrame(k, node, snapshot, tuple(terms), words, box, self))
        return frames

    # -------------------------------------------------------------- pictures

    def _cell(self, adjoints: dict[Value, float], v: Value) -> str:
        adjoint = adjoints.get(v)
        text = PENDING_GRAD if adjoint is None else format_number(adjoint, self._options.precision)
        return number_cell_text(text, self._number_width).replace(" ", NBSP)

    def _grad(self, adjoints: dict[Value, float], v: Value) -> str:
        adjoint = adjoints.get(v)
        return PENDING_GRAD if adjoint is None else format_number(adjoint, self._options.precision)

    def _cells(self, adjoints: dict[Value, float]) -> dict[str, str]:
        """Every drawn grad text for these adjoints, by slot: value cells, folded boxes' outputs
        and their parameters' gradients."""
        s, template = self._structure, self.template()
        cells = {f"v{n}": self._cell(adjoints, v) for n, v in enumerate(s.values)}
        for box in s.boxes.values():
            drawn = template.box_outputs.get(box.id)
            if drawn is None:
                continue
            (output,) = s.box_outputs(box)  # the box shows its one output's numbers: keep the data, renew the grad
            cells[box.id] = drawn[: drawn.rindex("grad ") + len("grad ")] + self._grad(adjoints, output)
            for i, row in enumerate(box_parameter_rows(s, box)):
                texts = [self._grad(adjoints, p) for p in row]
                cells[f"{box.id}-p{i}"] = parameter_line(s, row, texts, self._number_width)
        return cells

    def template(self) -> SvgTemplate:
        """The one layout: number cells wide enough for any frame's adjoint, then slotted.

        Checked against ``PICTURE_MAX_NODES`` before anything is laid out (the frames' numbers
        need no picture and stay available)."""
        if self._template is None:
            s = self._structure
            if s.node_count > PICTURE_MAX_NODES:
                raise GraphTooLargeError(
                    f"a backward walk through {s.node_count} drawn nodes is more than a player can show "
                    f"(at most {PICTURE_MAX_NODES}: the layout alone would take minutes and the page grows with "
                    "nodes times frames). Walk a smaller part (draw_backward of an intermediate value), fold "
                    "scopes (collapse=1), or read the numbers without a picture: iterate the walk's frames."
                )
            precision = self._options.precision
            widest = max(len(format_number(a, precision)) for f in self.frames for a in f.adjoints.values())
            for v in s.values:  # the boxes show the names the captions use
                if s.shown_label.get(v) is None:
                    s.shown_label[v] = self._names[v]
            drawing = dot_text(s, self._options, grads={}, number_width=widest, note=self._note)
            self._number_width = drawing.number_width
            values, boxes = {f"v{n}" for n in range(len(s.values))}, {box.id for box in s.boxes.values()}
            self._template = parse_svg(Graph(drawing).svg(), values, boxes)
        return self._template

    def _marks(self, frame: BackwardFrame) -> tuple[list[str], list[str], list[str]]:
        """The ids to highlight: changed adjoints, the node processed, the edges it sends back along."""
        node_of = self._structure.node_of
        changed = sorted({node_of[t.parent] for t in frame.contributions if t.parent in node_of})
        key = node_of.get(frame.node)
        focus = [key] if key is not None else []
        if frame.step == 0:  # the start: the output's grad is set, nothing is passed back yet
            return [], focus, []
        edges: list[str] = []
        values = self._structure.values
        if key is not None and key.startswith("v") and values[int(key[1:])] is frame.node and frame.node.parents:
            op = "op" + key[1:]
            focus.append(op)
            edges = sorted(k for k, (tail, head) in self.template().edges.items() if op in (tail, head))
        if frame.box is not None:  # the edges into the box carry what its inputs receive
            edges = sorted(k for k, (_, head) in self.template().edges.items() if head == frame.box.id)
        return changed, focus, edges

    def _frame_svg(self, frame: BackwardFrame) -> str:
        template = self.template()
        changed, focus, edges = self._marks(frame)
        classes = {key: "changed" for key in changed}
        for key in focus:
            classes[key] = (classes.get(key, "") + " focus").strip()
        classes.update({key: "active" for key in edges})
        grads = self._cells(frame.adjoints)
        info = hover_lines(self._structure, self._names, frame.adjoints, self._options.precision)
        titles = {key: "\n".join(lines) for key, lines in info.items()}
        # The caption keeps >= CAPTION_MIN_PX when the frame is scaled into a 1000 px column, and
        # room is made for the longest caption of any frame, so every frame has the same size.
        captions = [f.caption.splitlines() for f in self.frames]
        font = max(14.0, CAPTION_MIN_PX * template.view_box[2] / 1000)
        height = font * 1.3
        top = height * max(len(lines) for lines in captions) + font / 2
        width = max(len(line) for lines in captions for line in lines) * font * 0.55 + 8
        x, y = template.view_box[0] + 4, template.view_box[1] - top
        text = "".join(
            f'<text class="caption" style="font-size:{font:.1f}px" x="{x:.2f}" y="{y + height * (i + 1):.2f}">'
            f"{html.escape(NBSP * 2 * (len(line) - len(line.lstrip(' '))) + line.lstrip(' '))}</text>"
            for i, line in enumerate(frame.caption.splitlines())
        )
        return template.document(template.body(classes, grads, titles), top=top, width=width, extra=text)

    def html(self) -> str:
        """The self-contained player page (the same graph gives the same bytes).

        Held to ``max_bytes`` at three points, each before the work it would waste: the captions
        and hover texts alone, before the layout; the drawing and every frame so far, as each
        frame is built; the whole page, before it is returned. The first two are lower bounds
        (parts of the page's text), so only the last decides a page near the limit."""
        info = hover_lines(self._structure, self._names, None, self._options.precision)
        least = len(script_json(info)) + sum(len(script_json(f.caption)) for f in self.frames)
        self._within_budget(least, "its captions and hover texts alone")
        template = self.template()
        initial = self._cells(self.frames[0].adjoints)
        least = len(script_json(info)) + len(template.inline(template.body({}, initial, {})))
        before = initial
        frames = []
        for frame in self.frames:
            after = self._cells(frame.adjoints)
            changes = [[grad_text_id(key), text] for key, text in sorted(after.items()) if text != before[key]]
            changed, focus, edges = self._marks(frame)
            shown: dict[str, Any] = {"caption": frame.caption, "g": changes, "changed": changed, "focus": focus}
            shown["edges"] = edges
            if self.practice:
                shown["head"] = frame.caption.splitlines()[0]
                shown["ask"] = self._asks(frame)
            frames.append(shown)
            before = after
            least += len(script_json(shown))
            self._within_budget(least, f"the drawing and frames 0 to {frame.step} of {len(self.frames) - 1}")
        data: dict[str, Any] = {
            "practice": self.practice,
            "precision": self._options.precision,
            "frames": frames,
            "start": [[grad_text_id(key), text] for key, text in sorted(initial.items())],
            "info": info,
            "interval": PLAY_INTERVAL_MS,
        }
        body = template.body({}, initial, {})
        title, lines = "valuegrad: the backward pass", self._caption_lines(55 if self.practice else 90)
        rows = practice_rows([f["ask"] for f in frames]) if self.practice else 0
        text = page(title, template.inline(body), data, template.natural_width, lines, rows)
        self._within_budget(len(text.encode("utf-8")), "", exact=True)
        return text

    def _within_budget(self, size: int, counted: str, exact: bool = False) -> None:
        """Raise PageTooLargeError if ``size`` bytes (the whole page if ``exact``, else a part
        of it: ``counted``) are over ``max_bytes``."""
        if self.max_bytes is None or size <= self.max_bytes:
            return
        what = f"is {size} bytes" if exact else f"would be at least {size} bytes ({counted})"
        drawn, frames = self._structure.node_count, len(self.frames) - 1
        raise PageTooLargeError(
            f"the player page {what}, more than max_bytes={self.max_bytes} ({drawn} drawn nodes, "
            f"{frames} frames). Make it smaller: fold scopes into boxes (collapse=1), lower max_nodes so "
            "collapse='auto' folds more, drop the leaves' frames (skip_leaves=True), or walk a smaller part "
            "(draw_backward of an intermediate value); or raise the budget (max_bytes=None lifts it), or "
            "save(folder) for one SVG per frame."
        )

    def _asks(self, frame: BackwardFrame) -> list[list[str]]:
        """Practice mode: what the frame asks for before it is revealed."""
        s, precision = self._structure, self._options.precision
        return asks(frame.contributions, frame.adjoints, frame.box, s, self._names, precision)

    def _caption_lines(self, wrap: int = 90) -> int:
        """The page's caption area, in lines: the longest caption, wrapped at ``wrap`` characters
        (~90 across the page, ~55 beside practice mode's questions)."""
        return max(sum(-(-len(line) // wrap) or 1 for line in f.caption.splitlines()) for f in self.frames)

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
        words = 24 * self._caption_lines(55 if self.practice else 90)
        if self.practice:
            words = max(words, 30 * practice_rows([self._asks(frame) for frame in self.frames]) + 8)
        height = template.view_box[3] * 4 / 3 * scale + words + 110
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
    rankdir: str = "auto",
    show_data: bool = True,
    edge_labels: bool = True,
    precision: int = 4,
    collapse: int | str | None = "auto",
    max_nodes: int | None = DEFAULT_MAX_NODES,
    skip_leaves: bool = False,
    practice: bool = False,
    max_bytes: int | None = PLAYER_MAX_BYTES,
) -> Walkthrough:
    """Backpropagation step by step: one frame per node, in reverse topological order.

    Returns a :class:`Walkthrough` (iterable, ``len()``, ``.save(path)``). Frame k
    outlines the node processed (its adjoint is final), highlights the adjoints it
    changed and writes the arithmetic in its caption; adjoints not yet reached show ``?``.
    ``skip_leaves=True`` drops the frames of leaves, where nothing happens. The frames
    are the engine's own sweep (``backward_steps``), so the last frame's adjoints equal
    what a fresh ``backward()`` puts in ``.grad``; ``.grad`` itself is not touched.
    ``practice=True``: the saved page (and the notebook player) asks for each frame's new
    gradients before showing them, marks the answers and keeps a score.
    ``max_bytes`` is the player page's budget in bytes of HTML (``PLAYER_MAX_BYTES``, 4 MB; None:
    no limit): a page over it is refused with ``PageTooLargeError`` and advice, checked as the
    page is built, before the layout where the captions alone are too long.
    Other options are as for ``draw``; ``max_nodes`` is checked before anything is built.
    """
    prepared = prepare(
        root,
        "draw_backward",
        rankdir=rankdir,
        show_data=show_data,
        show_grad=True,
        edge_labels=edge_labels,
        precision=precision,
        collapse=collapse,
        max_nodes=max_nodes,
    )
    skip_leaves = _checks.flag(skip_leaves, "skip_leaves", "draw_backward")
    practice = _checks.flag(practice, "practice", "draw_backward")
    if max_bytes is not None:
        max_bytes = _checks.integer(max_bytes, "max_bytes", "draw_backward", low=1)
    return Walkthrough(prepared, skip_leaves, practice, max_bytes)
