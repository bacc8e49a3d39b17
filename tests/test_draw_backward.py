"""The backward walkthrough: one frame per step, adjoints equal to what backward() computes."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valuegrad import autograd
from valuegrad.autograd import Value, draw_backward, topological_order
from valuegrad.autograd.drawing import HIGHLIGHT, PENDING_GRAD, BackwardFrame, GraphTooLargeError, save_frames

SVG = "{http://www.w3.org/2000/svg}"

UNARY = ("tanh", "sigmoid", "exp", "sin", "relu", "softplus")
BINARY = ("+", "-", "*", "/")


@st.composite
def graphs(draw: st.DrawFn) -> Value:
    """A random graph: a few leaves, then ops that reuse earlier nodes (so there is fan-out)."""
    count = draw(st.integers(1, 4))
    nodes = [Value(draw(st.floats(-2, 2, allow_nan=False)), label=f"x{i}") for i in range(count)]
    for _ in range(draw(st.integers(1, 8))):
        a = nodes[draw(st.integers(0, len(nodes) - 1))]
        if draw(st.booleans()):
            nodes.append(getattr(a, draw(st.sampled_from(UNARY)))())
        else:
            b = nodes[draw(st.integers(0, len(nodes) - 1))]
            op = draw(st.sampled_from(BINARY))
            nodes.append({"+": a + b, "-": a - b, "*": a * b, "/": a / (b * b + 1.0)}[op])
    return autograd.sum(nodes[count - 1 :]) if len(nodes) > count else nodes[-1] * 1.0


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@given(root=graphs())
def test_frames_follow_reverse_topological_order_and_end_with_backwards_gradients(root: Value) -> None:
    frames = list(draw_backward(root))
    order = topological_order(root)
    assert [f.node for f in frames] == order[::-1]
    assert [f.step for f in frames] == list(range(len(order)))
    assert all(v.grad == 0.0 for v in order)  # the walkthrough never touches .grad
    root.backward()
    final = frames[-1].adjoints
    assert set(final) == set(order)
    for v in order:
        assert same_float(final[v], v.grad), (v, final[v], v.grad)
    previous: set[Value] = set()
    for frame in frames:
        assert previous <= set(frame.adjoints)  # adjoints are only ever filled in
        previous = set(frame.adjoints)
        assert same_float(frame.adjoints[frame.node], final[frame.node])  # complete when processed


def test_each_frame_outlines_the_node_being_processed_and_marks_pending_grads() -> None:
    x = Value(2.0, label="x")
    w = Value(-3.0, label="w")
    y = (x * w).tanh()
    y.label = "y"
    frames = list(draw_backward(y))
    assert len(frames) == 4
    first = frames[0].source
    assert first.count(f'BORDER="3" COLOR="{HIGHLIGHT}"') == 1  # the output's record
    assert re.search(r"<B>y</B>.*ID=\"v\d-grad\".*> *1\.0000<", first)
    assert len(re.findall(rf"-grad[^\n]*?> *\{PENDING_GRAD}<", first)) == 2  # x and w not reached yet
    assert "backward step 1/4" in first
    last = frames[-1].source
    assert not re.search(rf"> *\{PENDING_GRAD}<", last)
    assert "a leaf: its gradient" in last


def test_frames_are_graphs_that_render_and_save_as_numbered_svgs(tmp_path: Path) -> None:
    x = Value(0.5, label="x")
    y = x.exp() * 2
    frames = list(draw_backward(y))
    assert all(isinstance(f, BackwardFrame) for f in frames)
    bundle = frames[0]._repr_mimebundle_()
    assert "image/svg+xml" in bundle
    paths = save_frames(frames, tmp_path / "walk")
    assert [p.name for p in paths] == ["frame_000.svg", "frame_001.svg", "frame_002.svg"]
    for frame, path in zip(frames, paths):
        root = ET.fromstring(path.read_text(encoding="utf-8"))
        nodes = [g for g in root.iter(f"{SVG}g") if g.get("class") == "node"]
        assert len(nodes) == frame.node_count == 5


def test_save_frames_checks_its_arguments(tmp_path: Path) -> None:
    frames = list(draw_backward(Value(1.0) * 2))
    with pytest.raises(ValueError, match="unknown frame format"):
        save_frames(frames, tmp_path, output_format="gif")
    with pytest.raises(ValueError, match="prefix"):
        save_frames(frames, tmp_path, prefix="../escape")
    paths = save_frames(frames, tmp_path, output_format="dot", prefix="step")
    assert paths[0].read_text(encoding="utf-8") == frames[0].source


def test_walkthrough_respects_the_size_guard_before_the_first_frame() -> None:
    x = Value(1.0)
    y = x
    for _ in range(30):
        y = y + 1.0
    with pytest.raises(GraphTooLargeError, match="61 nodes"):
        draw_backward(y, max_nodes=50)
    with pytest.raises(TypeError):
        draw_backward("y")  # type: ignore[arg-type]
