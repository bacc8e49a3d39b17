"""Pictures of computation graphs: ``draw(root)`` and the backward walkthrough ``draw_backward(root)``.

Value nodes are three-cell boxes (label | data | grad) and each op is a separate
oval, as in micrograd, which students know. Fill colours are fixed roles: inputs
and constants (leaves without an ``nn`` module) are blue, parameters (leaves
owned by a module) amber, the output green. Node ids are numbered in topological
order, so the same graph always gives the same DOT text, byte for byte.

Every piece of user text (labels, module paths) goes into DOT only through
``html_text``, which escapes it for an HTML-like label: a label can never add or
change a node, whatever it contains.
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from valuegrad.autograd._dot_binary import DotNotFoundError, RenderError, run_dot
from valuegrad.autograd._files import write_bytes_atomic
from valuegrad.autograd.engine import Value, local_derivatives, topological_order

if TYPE_CHECKING:  # imported lazily at draw time: `import autograd` stays fast
    import graphviz

__all__ = [
    "BackwardFrame",
    "DotNotFoundError",
    "Graph",
    "GraphTooLargeError",
    "RenderError",
    "draw",
    "draw_backward",
    "html_text",
    "save_frames",
]

DEFAULT_MAX_NODES = 500
RANKDIRS = ("LR", "RL", "TB", "BT")
MAX_PRECISION = 17
LABEL_DISPLAY_LIMIT = 120  # characters of a user label shown; the rest is elided
MAX_CLUSTER_DEPTH = 16  # module nesting drawn as clusters; deeper parts share the innermost one

# Colour roles (Tailwind 100/600 shades: readable on screen and projected).
ROLE_FILL = {"input": "#dbeafe", "parameter": "#fef3c7", "output": "#dcfce7", "interior": "#ffffff"}
OP_FILL = "#f3f4f6"
BOX_FILL = "#e5e7eb"
HIGHLIGHT = "#dc2626"
EDGE_LABEL_COLOUR = "#4b5563"
PENDING_GRAD = "?"

SAVE_FORMATS = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}


class GraphTooLargeError(ValueError):
    """The graph has more nodes than ``max_nodes``; the message says how to collapse it or raise the limit."""


# ------------------------------------------------------------------ escaping

# After a backslash, Graphviz may substitute these (\N is the node name, \G the graph's,
# \\ a single backslash) even inside HTML-like labels: a zero-width space breaks the pair.
_SUBSTITUTED_AFTER_BACKSLASH = frozenset("GNEHTLnlr\\")
_ZERO_WIDTH_SPACE = "&#8203;"
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


def _visible_escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def html_text(text: str, limit: int | None = LABEL_DISPLAY_LIMIT) -> str:
    """``text`` made safe as the content of a Graphviz HTML-like label.

    Markup characters become entities, a newline becomes ``<br/>``, control
    characters and code points XML cannot carry (surrogates, U+FFFE/U+FFFF) are
    shown as ``\\xNN``/``\\uNNNN``, and a backslash never starts a Graphviz escape.
    """
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in _HTML_ENTITIES:
            out.append(_HTML_ENTITIES[ch])
        elif ch == "\n":
            out.append("<br/>")
        elif ch == "\\":
            out.append("\\")
            if i + 1 < len(text) and text[i + 1] in _SUBSTITUTED_AFTER_BACKSLASH:
                out.append(_ZERO_WIDTH_SPACE)
        elif unicodedata.category(ch) in ("Cc", "Cs") or ch in "\ufffe\uffff":
            out.append(_visible_escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def format_number(x: float, precision: int) -> str:
    """``x`` with ``precision`` decimals, switching to exponent form when that would hide it."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    # Fixed point while it shows two significant digits (one when there are at most 1 decimals).
    smallest = 10.0 ** (1 - precision) if precision > 1 else 10.0**-precision
    if x == 0.0 or smallest <= abs(x) < 1e6:
        return f"{x:.{precision}f}"
    return f"{x:.{max(precision - 1, 1)}e}"


# ------------------------------------------------------------------ the Graph


class Graph:
    """A drawn computation graph: DOT text, rendered on demand by Graphviz's ``dot``.

    ``digraph`` is the underlying ``graphviz.Digraph`` for anyone who wants to add
    attributes; ``source`` is its DOT text. In Jupyter a cell ending with a Graph
    shows the SVG, or, if no ``dot`` is installed, a one-line hint and the DOT text.
    """

    def __init__(self, digraph: graphviz.Digraph, node_count: int, edge_count: int) -> None:
        self.digraph = digraph
        self.node_count = node_count
        self.edge_count = edge_count
        self._svg_cache: tuple[str, str] | None = None

    @property
    def source(self) -> str:
        """The DOT text."""
        return str(self.digraph.source)

    def pipe(self, output_format: str = "svg") -> bytes:
        """Render with ``dot`` to ``output_format`` ('svg', 'png', ...) and return the bytes."""
        return run_dot(self.source, output_format)

    def svg(self) -> str:
        """The picture as SVG text (rendered once per distinct source)."""
        source = self.source
        if self._svg_cache is None or self._svg_cache[0] != source:
            self._svg_cache = (source, run_dot(source, "svg").decode("utf-8"))
        return self._svg_cache[1]

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the graph to ``path``; the suffix picks the format (.svg, .png, .dot). Atomic."""
        target = Path(path)
        output_format = SAVE_FORMATS.get(target.suffix.lower())
        if output_format is None:
            known = ", ".join(sorted(SAVE_FORMATS))
            raise ValueError(f"cannot tell the format of {str(target)!r} from its suffix: use one of {known}")
        write_bytes_atomic(target, self.render(output_format))
        return target

    def render(self, output_format: str) -> bytes:
        """The graph as bytes in ``output_format``: 'dot' (the source itself), 'svg' or 'png'."""
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


class BackwardFrame(Graph):
    """One step of ``draw_backward``: the graph with the adjoints known after processing ``node``.

    ``step`` counts from 0, ``node`` is the Value processed in this step, and
    ``adjoints`` maps every Value reached so far to its adjoint at this point.
    """

    def __init__(
        self,
        digraph: graphviz.Digraph,
        node_count: int,
        edge_count: int,
        *,
        step: int,
        node: Value,
        adjoints: dict[Value, float],
    ) -> None:
        super().__init__(digraph, node_count, edge_count)
        self.step = step
        self.node = node
        self.adjoints = adjoints

    def __repr__(self) -> str:
        return f"<BackwardFrame {self.step}: {self.node_count} nodes; .svg(), .save(path), .adjoints>"


def save_frames(
    frames: Iterable[Graph], directory: str | os.PathLike[str], output_format: str = "svg", prefix: str = "frame"
) -> list[Path]:
    """Save frames as ``directory/frame_000.svg``, ``frame_001.svg``, ...; returns the paths written."""
    suffix = "." + output_format.lower().lstrip(".")
    if suffix not in SAVE_FORMATS:
        known = ", ".join(sorted(f.lstrip(".") for f in SAVE_FORMATS))
        raise ValueError(f"unknown frame format {output_format!r}: use one of {known}")
    if not prefix or any(sep in prefix for sep in ("/", "\\", os.sep)) or prefix.startswith("."):
        raise ValueError(f"prefix {prefix!r} must be a plain file-name prefix such as 'frame'")
    frame_list = list(frames)
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    width = max(3, len(str(len(frame_list) - 1)))
    return [frame.save(folder / f"{prefix}_{i:0{width}d}{suffix}") for i, frame in enumerate(frame_list)]


# ------------------------------------------------------------------ options


@dataclass(frozen=True)
class _Options:
    rankdir: str
    show_data: bool
    show_grad: bool
    edge_labels: bool
    precision: int
    collapse: int | None
    max_nodes: int | None


def _check_options(
    rankdir: object,
    show_data: object,
    show_grad: object,
    edge_labels: object,
    precision: object,
    collapse: object,
    max_nodes: object,
) -> _Options:
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir={rankdir!r}: use one of {', '.join(RANKDIRS)} (LR draws inputs on the left)")
    for name, flag in (("show_data", show_data), ("show_grad", show_grad), ("edge_labels", edge_labels)):
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")
    if isinstance(precision, bool) or not isinstance(precision, int) or not 0 <= precision <= MAX_PRECISION:
        raise ValueError(f"precision={precision!r}: use an int from 0 to {MAX_PRECISION} (decimals shown)")
    if collapse is not None and (isinstance(collapse, bool) or not isinstance(collapse, int) or collapse < 1):
        raise ValueError(f"collapse={collapse!r}: use None, or an int >= 1 (1 folds a whole model into one box)")
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1):
        raise ValueError(f"max_nodes={max_nodes!r}: use a positive int, or None for no limit")
    return _Options(rankdir, show_data, show_grad, edge_labels, precision, collapse, max_nodes)  # type: ignore[arg-type]


def _check_root(root: object, what: str) -> Value:
    if not isinstance(root, Value):
        raise TypeError(f"{what}() draws a Value's graph, got {type(root).__name__}; pass the output Value")
    return root


def _highlighted(highlight: Value | Iterable[Value], root: Value) -> set[Value]:
    """The Values to outline, checked to be Values of ``root``'s graph."""
    items = [highlight] if isinstance(highlight, Value) else list(highlight)
    if not items:
        return set()
    members = set(topological_order(root))
    for item in items:
        if not isinstance(item, Value):
            raise TypeError(f"highlight takes Values from the graph, got {type(item).__name__}")
        if item not in members:
            raise ValueError(f"highlight: {item!r} is not part of this graph")
    return set(items)


# ------------------------------------------------------------------ layout

Steps = tuple[str, ...]


def _module_steps(path: str | None) -> Steps:
    """'MLP.layers.0.neurons.3' -> ('MLP', 'layers.0', 'neurons.3'): one step per module.

    Nesting deeper than ``MAX_CLUSTER_DEPTH`` is kept in the last step, so a strange
    path cannot make thousands of nested clusters.
    """
    if not path:
        return ()
    steps: list[str] = []
    for part in path.split("."):
        if steps and part.isascii() and part.isdigit():
            steps[-1] += "." + part
        else:
            steps.append(part)
    if len(steps) > MAX_CLUSTER_DEPTH:
        steps[MAX_CLUSTER_DEPTH - 1 :] = [".".join(steps[MAX_CLUSTER_DEPTH - 1 :])]
    return tuple(steps)


class _Layout:
    """Which drawn node each Value becomes, with ids numbered in topological order."""

    def __init__(self, order: Sequence[Value], collapse: int | None) -> None:
        self.order = order
        self.steps: dict[Value, Steps] = {}
        self.box_of: dict[Value, Steps] = {}  # folded values -> their module box
        self.value_id: dict[Value, str] = {}
        self.op_id: dict[Value, str] = {}
        self.box_id: dict[Steps, str] = {}
        self.box_size: dict[Steps, int] = {}
        path_steps: dict[str | None, Steps] = {}
        counter = 0
        for v in order:
            # nn parameters carry module_path; other nodes a scope whose key is their module.
            # Transitional until drawing clusters by scope: ``path`` is duck-typed on the key.
            path = v.module_path or (getattr(v.scope.key, "path", None) if v.scope is not None else None)
            steps = path_steps.get(path)
            if steps is None:
                steps = path_steps[path] = _module_steps(path)
            self.steps[v] = steps
            if collapse is not None and len(steps) >= collapse:
                box = steps[:collapse]
                self.box_of[v] = box
                self.box_size[box] = self.box_size.get(box, 0) + 1
                if box not in self.box_id:
                    self.box_id[box] = f"n{counter}"
                    counter += 1
                continue
            if v.parents:
                self.op_id[v] = f"n{counter}"
                counter += 1
            self.value_id[v] = f"n{counter}"
            counter += 1
        self.node_count = counter

    def representative(self, v: Value) -> str:
        """The drawn node standing for ``v``'s value: its record, or its module's box."""
        box = self.box_of.get(v)
        return self.value_id[v] if box is None else self.box_id[box]


def _too_large_message(order: Sequence[Value], layout: _Layout, options: _Options) -> str:
    values = sum(1 for v in order if v not in layout.box_of)
    what = f"{layout.node_count} nodes to draw ({values} values and {len(layout.op_id)} ops"
    what += f", {len(layout.box_id)} module boxes)" if layout.box_id else ")"
    message = f"this graph has {what}, more than max_nodes={options.max_nodes}."
    depth = max((len(s) for s in layout.steps.values()), default=0)
    smaller = []
    for k in range(1, depth + 1):
        if options.collapse is None or k < options.collapse:
            smaller.append(f"collapse={k} draws {_Layout(order, k).node_count}")
    if smaller:
        message += f" Fold nn modules into boxes ({', '.join(smaller)} nodes),"
    else:
        message += " Draw a smaller part of the computation,"
    return message + f" or raise the limit with max_nodes={layout.node_count}."


def _attributes(**attributes: str) -> str:
    """DOT attribute list; values are our own constants or already-escaped HTML labels (``<...>``)."""
    parts = []
    for key, value in attributes.items():
        parts.append(f"{key}={value}" if value.startswith("<") else f'{key}="{value}"')
    return "[" + " ".join(parts) + "]"


def _role(v: Value, root: Value) -> str:
    if v is root:
        return "output"
    if not v.parents:
        return "parameter" if v.module_path else "input"
    return "interior"


@dataclass
class _Frame:
    """What a backward-walkthrough frame adds to a drawing."""

    step: int
    adjoints: Mapping[Value, float]
    focus: Value
    caption: str


def _box_outputs(root: Value, order: Sequence[Value], layout: _Layout) -> dict[Steps, list[Value]]:
    """For each module box, the folded values that something outside the box (or the caller) uses."""
    outputs: dict[Steps, list[Value]] = {}
    seen: set[Value] = set()
    for v in order:
        consumer_box = layout.box_of.get(v)
        for p in v.parents:
            box = layout.box_of.get(p)
            if box is not None and box != consumer_box and p not in seen:
                seen.add(p)
                outputs.setdefault(box, []).append(p)
    root_box = layout.box_of.get(root)
    if root_box is not None and root not in seen:
        outputs.setdefault(root_box, []).append(root)
    return outputs


def _grad_shown(v: Value, frame: _Frame | None) -> float | None:
    return v.grad if frame is None else frame.adjoints.get(v)


def _numbers_line(v: Value, options: _Options, frame: _Frame | None) -> str:
    parts = []
    if options.show_data:
        parts.append("data " + format_number(v.data, options.precision))
    if options.show_grad:
        grad = _grad_shown(v, frame)
        parts.append("grad " + (PENDING_GRAD if grad is None else format_number(grad, options.precision)))
    return " ".join(parts)


def _value_label(v: Value, role: str, options: _Options, grad: float | None, highlighted: bool) -> str:
    # An unlabelled value gets no empty label cell (unless it would have no cells at all).
    cells = [html_text(v.label or "")] if v.label or not (options.show_data or options.show_grad) else []
    if options.show_data:
        cells.append("data " + format_number(v.data, options.precision))
    if options.show_grad:
        cells.append("grad " + (PENDING_GRAD if grad is None else format_number(grad, options.precision)))
    border = f' border="3" color="{HIGHLIGHT}"' if highlighted else ' border="0"'
    row = "".join(f"<td>{cell}</td>" for cell in cells)
    table = f'<table{border} cellborder="1" cellspacing="0" cellpadding="4" bgcolor="{ROLE_FILL[role]}">'
    return f"<{table}<tr>{row}</tr></table>>"


def _build(root: Value, options: _Options, highlight: set[Value], frame: _Frame | None) -> Graph:
    order = topological_order(root)
    layout = _Layout(order, options.collapse)
    if options.max_nodes is not None and layout.node_count > options.max_nodes:
        raise GraphTooLargeError(_too_large_message(order, layout, options))

    # Node statements, grouped by the cluster (module path prefix) they belong in.
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

    focus = {frame.focus} if frame is not None else set()
    highlighted_boxes = {layout.box_of[v] for v in highlight | focus if v in layout.box_of}
    box_outputs = _box_outputs(root, order, layout)
    declared_boxes: set[Steps] = set()
    for v in order:
        box = layout.box_of.get(v)
        if box is not None:
            if box in declared_boxes:
                continue
            declared_boxes.add(box)
            role = "output" if root in layout.box_of and layout.box_of[root] == box else "interior"
            size = layout.box_size[box]
            text = f"<b>{html_text(box[-1])}</b><br/>{size} value{'s' if size != 1 else ''}"
            outputs = box_outputs.get(box, [])
            if len(outputs) == 1:  # one output (a neuron's activation, say): show its numbers
                numbers = _numbers_line(outputs[0], options, frame)
                text += f"<br/>out: {numbers}" if numbers else ""
            fill = ROLE_FILL["output"] if role == "output" else BOX_FILL
            box_attrs = {"label": f"<{text}>", "shape": "box3d", "style": "filled", "fillcolor": fill}
            if box in highlighted_boxes:
                box_attrs.update(color=HIGHLIGHT, penwidth="3")
            cluster(box[:-1]).append(f"{layout.box_id[box]} {_attributes(**box_attrs)}")
            continue
        statements = cluster(layout.steps[v])
        if v in layout.op_id:
            op_attrs = {"label": f"<{html_text(v.op_symbol or '')}>", "shape": "ellipse", "style": "filled"}
            op_attrs["fillcolor"] = OP_FILL
            if frame is not None and v is frame.focus:
                op_attrs.update(color=HIGHLIGHT, penwidth="3")
            statements.append(f"{layout.op_id[v]} {_attributes(**op_attrs)}")
        grad = _grad_shown(v, frame)
        is_highlighted = v in highlight or (frame is not None and v is frame.focus)
        label = _value_label(v, _role(v, root), options, grad, is_highlighted)
        statements.append(f"{layout.value_id[v]} {_attributes(label=label, shape='plaintext')}")

    lines: list[str] = [f'graph [rankdir={options.rankdir} fontname="Helvetica"]']
    lines.append('node [fontname="Helvetica" fontsize="12" margin="0.05"]')
    lines.append('edge [fontname="Helvetica" fontsize="10"]')
    if frame is not None:
        lines.append(f'graph [label=<{html_text(frame.caption, None)}> labelloc="t" labeljust="l"]')
    # Clusters, nested by module path, emitted without recursion (paths can be long).
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
            cluster_number += 1
            depth += 1
            label = f"<{html_text(steps[-1])}>"
            lines.append("\t" * depth + f"graph {_attributes(label=label, style='rounded,dashed', color='#9ca3af')}")
            stack.append((False, steps))
        lines.extend("\t" * depth + statement for statement in cluster_nodes[steps])
        stack.extend((True, child) for child in reversed(cluster_children[steps]))

    edge_count = 0
    box_edges: set[tuple[str, str]] = set()
    active = frame.focus if frame is not None else None
    for v in order:
        parents = v.parents
        if not parents:
            continue
        target_box = layout.box_of.get(v)
        if target_box is not None:
            target = layout.box_id[target_box]
            for p in parents:
                source = layout.representative(p)
                if source != target and (source, target) not in box_edges:
                    box_edges.add((source, target))
                    lines.append(f"{source} -> {target}")
                    edge_count += 1
            continue
        derivatives = local_derivatives(v) if options.edge_labels else (None,) * len(parents)
        for p, derivative in zip(parents, derivatives):
            attrs: dict[str, str] = {}
            if derivative is not None:
                attrs["label"] = f"<{html_text(format_number(derivative, options.precision))}>"
                attrs["fontcolor"] = EDGE_LABEL_COLOUR
            if v is active:
                attrs.update(color=HIGHLIGHT, penwidth="2")
            suffix = f" {_attributes(**attrs)}" if attrs else ""
            lines.append(f"{layout.representative(p)} -> {layout.op_id[v]}{suffix}")
            edge_count += 1
        lines.append(f"{layout.op_id[v]} -> {layout.value_id[v]}")
        edge_count += 1

    import graphviz

    digraph = graphviz.Digraph(name="valuegrad", body=[f"\t{line}\n" for line in lines])
    if frame is None:
        return Graph(digraph, layout.node_count, edge_count)
    return BackwardFrame(
        digraph, layout.node_count, edge_count, step=frame.step, node=frame.focus, adjoints=dict(frame.adjoints)
    )


# ------------------------------------------------------------------ public API


def draw(
    root: Value,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    edge_labels: bool = False,
    precision: int = 4,
    collapse: int | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    highlight: Value | Iterable[Value] = (),
) -> Graph:
    """Draw the graph that computes ``root``.

    ``rankdir`` sets the direction ('LR', 'TB', ...); ``show_data``/``show_grad``
    choose the cells of each value's box; ``edge_labels=True`` writes the local
    derivative ∂b/∂a on each edge a → b, so the picture shows ā = Σ_b b̄·∂b/∂a;
    ``precision`` is the number of decimals; ``collapse=k`` folds values made by
    ``nn`` modules at depth ≥ k (1: model, 2: layer, 3: neuron) into one box per
    module; a graph with more than ``max_nodes`` drawn nodes is refused with
    ``GraphTooLargeError`` (``None`` lifts the limit); ``highlight`` outlines the
    given Values in red.
    """
    root = _check_root(root, "draw")
    options = _check_options(rankdir, show_data, show_grad, edge_labels, precision, collapse, max_nodes)
    return _build(root, options, _highlighted(highlight, root), None)


def _node_name(v: Value) -> str:
    if v.label:
        return v.label
    return f"the output of {v.op_symbol}" if v.op_symbol else "an unnamed leaf"


def draw_backward(
    root: Value,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    edge_labels: bool = True,
    precision: int = 4,
    collapse: int | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
) -> Iterator[BackwardFrame]:
    """Backpropagation step by step: one frame per node, in reverse topological order.

    Frame k outlines the node being processed (its adjoint is final) and its
    incoming edges, and shows every adjoint filled in so far; adjoints not yet
    reached show ``?``. Each frame's ``adjoints`` maps Values to those numbers.
    They are computed from ``local_derivatives`` exactly as ``backward()`` does
    (same order, same float arithmetic), so the last frame's adjoints equal the
    ``.grad`` a fresh ``backward()`` gives (gradient hooks are not applied).
    ``.grad`` itself is not touched. Save the frames with ``save_frames``.
    """
    root = _check_root(root, "draw_backward")
    options = _check_options(rankdir, show_data, True, edge_labels, precision, collapse, max_nodes)
    order = topological_order(root)
    layout = _Layout(order, options.collapse)
    if options.max_nodes is not None and layout.node_count > options.max_nodes:
        raise GraphTooLargeError(_too_large_message(order, layout, options))
    return _backward_frames(root, order, options)


def _backward_frames(root: Value, order: list[Value], options: _Options) -> Iterator[BackwardFrame]:
    adjoints: dict[Value, float] = {root: 1.0}
    total = len(order)
    for step, node in enumerate(reversed(order)):
        node_adjoint = adjoints[node]  # final: every consumer of ``node`` came earlier
        parents = node.parents
        adjoint_text = format_number(node_adjoint, options.precision)
        if parents:
            for parent, derivative in zip(parents, local_derivatives(node)):
                adjoints[parent] = adjoints.get(parent, 0.0) + node_adjoint * derivative
            what = f"its adjoint {adjoint_text} is final; each input a gets ā += {adjoint_text} · ∂/∂a (edge label)"
        else:
            what = f"a leaf: its gradient {adjoint_text} is complete"
        caption = f"backward step {step + 1}/{total}: {_node_name(node)} — {what}"
        built = _build(root, options, set(), _Frame(step, adjoints, node, caption))
        assert isinstance(built, BackwardFrame)
        yield built
