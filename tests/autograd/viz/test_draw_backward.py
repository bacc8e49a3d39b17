"""The backward walkthrough: frames, captions, one layout, the saved player (no browser here)."""

from __future__ import annotations

import html
import json
import math
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from valuegrad.autograd import Value, draw, draw_backward, topological_order
from valuegrad.autograd.testing import strategies as vst
from valuegrad.autograd.viz.draw import GraphTooLargeError, format_number
from valuegrad.autograd.viz.player import PICTURE_MAX_NODES, BackwardFrame, Walkthrough, save_frames

HOSTILE = '</script><script>alert("x")</script><!-- & "q" \'s\' ]]> <b>'


def neuron() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    y = (w * x + b).tanh()
    y.label = "y"
    return y


def same_float(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@settings(max_examples=25, deadline=None)
@given(expr=vst.expressions(max_ops=6), skip_leaves=vst.st.booleans())
def test_final_adjoints_equal_backward_on_random_graphs(expr: vst.Expression, skip_leaves: bool) -> None:
    xs = [Value(x, label=f"x{i}") for i, x in enumerate(expr.inputs)]
    root = expr(*xs)
    walk = draw_backward(root, skip_leaves=skip_leaves, max_nodes=None)
    order = topological_order(root)
    shown = [f.node for f in walk][1:]  # frame 0: the state before the sweep
    expected = [v for v in reversed(order) if v.parents or v is root or not skip_leaves]
    assert shown == expected and [f.step for f in walk] == list(range(len(walk))) and len(walk) == len(expected) + 1
    assert walk[0].adjoints == {root: 1.0} and walk[0].contributions == ()
    assert all(v.grad == 0.0 for v in order)  # the walkthrough never touches .grad
    root.backward()
    final = walk[-1].adjoints
    assert set(final) == set(order)
    for v in order:
        assert same_float(final[v], v.grad), (v, final[v], v.grad)
    previous: set[Value] = set()
    for frame in walk:
        assert previous <= set(frame.adjoints)  # adjoints are only ever filled in
        previous = set(frame.adjoints)
        assert same_float(frame.adjoints[frame.node], final[frame.node])  # complete when processed
        for term in frame.contributions:  # each caption line is one honest chain-rule term
            assert same_float(term.after, term.before + term.upstream * term.derivative)


def test_captions_write_out_the_arithmetic() -> None:
    y = neuron()
    walk = draw_backward(y, skip_leaves=True)
    assert len(walk) == 1 + 3  # the start, then tanh, +, *: the three leaves are skipped
    assert walk[0].caption.startswith("Start, before the backward pass: grad(y) = 1,")
    first, last = walk[1].caption.splitlines(), walk[-1].caption.splitlines()
    assert first[0] == "Step 1/3: grad(y) = 1.0000 is final; tanh passes it back to its inputs:"
    slope = 1 - y.data**2
    assert first[1] == f"grad((w*x)+b) = 0.0000 + 1.0000 · {slope:.4f} = {slope:.4f}"
    assert last[1] == f"grad(w) = 0.0000 + {slope:.4f} · 2.0000 = {slope * 2:.4f}"
    assert last[2] == f"grad(x) = 0.0000 \u2212 {slope:.4f} · 3.0000 = \u2212{-slope * -3:.4f}"
    leaves = draw_backward(y)
    assert len(leaves) == 1 + 6 and "is a leaf, so this is its gradient" in leaves[-1].caption


def test_a_shared_input_shows_each_term_added_in_turn() -> None:
    x = Value(3.0, label="x")
    walk = draw_backward(x * x)
    lines = walk[1].caption.splitlines()
    assert lines[1:] == ["grad(x) = 0.0000 + 1.0000 · 3.0000 = 3.0000", "grad(x) = 3.0000 + 1.0000 · 3.0000 = 6.0000"]


def _layout_only(svg: str) -> str:
    """The SVG without what a frame may change: grad texts, classes, titles and the caption."""
    svg = re.sub(r'(<text id="[^"]*-grad-text"[^>]*>)[^<]*', r"\1", svg)
    svg = re.sub(r'class="(node|edge)[^"]*"', r'class="\1"', svg)
    svg = re.sub(r"<title>[^<]*</title>", "", svg)
    return re.sub(r'<text class="caption"[^>]*>[^<]*</text>', "", svg)


def test_every_frame_shares_one_layout_and_highlights_what_changed() -> None:
    y = neuron()
    walk = draw_backward(y)
    svgs = [frame.svg() for frame in walk]
    assert len({_layout_only(svg) for svg in svgs}) == 1  # nothing moves between frames
    assert len({svg for svg in svgs}) == len(svgs)
    # step 2 processes the sum: the product's and b's adjoints change, the sum is outlined
    assert svgs[2].count('class="node changed"') == 2
    assert svgs[2].count('class="node focus"') == 2  # the sum's op oval and its value box
    assert svgs[2].count('class="edge active"') == 3  # two inputs in, one result out
    pending = r'<text id="v\d+-grad-text"[^>]*>\u00a0*\?</text>'
    assert len(re.findall(pending, svgs[2])) == 2  # x and w not reached yet
    assert len(re.findall(pending, svgs[0])) == len(walk._structure.values) - 1  # the start: all but y
    assert not re.search(pending, svgs[-1])
    borders = re.findall(r'<polygon class="grad-cell"[^>]*points="([-\d.]+),[^ ]* [^ ]* ([-\d.]+),', svgs[0])
    cell_widths = {round(float(b) - float(a), 1) for a, b in borders}
    assert len(cell_widths) == 1  # every grad cell has one fixed width


def test_frames_save_as_numbered_svgs_and_the_player_as_one_html_file(tmp_path: Path) -> None:
    walk = draw_backward(Value(0.5, label="x").exp() * 2)
    assert isinstance(walk, Walkthrough) and all(isinstance(f, BackwardFrame) for f in walk)
    assert "image/svg+xml" in walk[0]._repr_mimebundle_()
    paths = walk.save(tmp_path / "walk")
    names = [p.name for p in paths]  # type: ignore[union-attr]
    assert isinstance(paths, list) and names == ["frame_000.svg", "frame_001.svg", "frame_002.svg", "frame_003.svg"]
    assert paths[1].read_text(encoding="utf-8") == walk[1].svg()
    page = walk.save(tmp_path / "walk.html")
    assert page == tmp_path / "walk.html" and page.read_text(encoding="utf-8") == walk.html()
    assert walk._repr_html_().startswith("<iframe srcdoc=")
    with pytest.raises(ValueError, match=r"\.html file for the player or a folder"):
        walk.save(tmp_path / "walk.png")
    with pytest.raises(ValueError, match=r"ending in \.svg"):
        walk[0].save(tmp_path / "one.png")


def test_save_frames_checks_its_arguments(tmp_path: Path) -> None:
    walk = draw_backward(Value(1.0) * 2)
    with pytest.raises(ValueError, match="unknown frame format"):
        save_frames(walk, tmp_path, output_format="gif")
    with pytest.raises(ValueError, match="prefix"):
        save_frames(walk, tmp_path, prefix="../escape")
    paths = save_frames(walk, tmp_path, prefix="step")
    assert [p.name for p in paths] == ["step_000.svg", "step_001.svg", "step_002.svg"]


def test_the_same_graph_gives_byte_identical_pages() -> None:
    assert draw_backward(neuron()).html() == draw_backward(neuron()).html()
    y1, y2 = neuron(), neuron()
    y1.backward()
    y2.backward()
    assert draw(y1).render("html") == draw(y2).render("html")


def page_data(page: str) -> dict[str, Any]:
    """The JSON the page's script reads."""
    text = page.split('<script type="application/json" id="data">', 1)[1].split("</script>", 1)[0]
    data: dict[str, Any] = json.loads(text)
    return data


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)


def test_hostile_labels_cannot_add_markup_to_the_page() -> None:
    a = Value(1.0, label=HOSTILE)
    y = a * Value(2.0, label="</b><img src=x onerror=alert(1)>")
    y.label = "<!--"
    page = draw_backward(y).html()
    parser = _Elements()
    parser.feed(page)
    assert parser.tags.count("script") == 2 and "img" not in parser.tags and "b" not in parser.tags
    data = page.split('<script type="application/json" id="data">', 1)[1].split("</script>", 1)[0]
    assert f"grad({HOSTILE[:31]}…)" in page_data(page)["frames"][1]["caption"]  # shown, as text
    assert "<" not in data and ">" not in data and "&" not in data
    y.backward()
    static = draw(y).render("html").decode("utf-8")
    parser = _Elements()
    parser.feed(static)
    assert parser.tags.count("script") == 2 and "img" not in parser.tags
    assert html.escape(HOSTILE, quote=False)[:20] in static  # shown, as text


def test_the_static_page_has_hover_text_for_every_node() -> None:
    y = neuron()
    y.backward()
    graph = draw(y, edge_labels=True)
    page = graph.render("html").decode("utf-8")
    assert '<svg id="drawing"' in page and 'id="controls"' not in page
    info = page_data(page)["info"]
    assert len(info) == graph.node_count  # every value box and op oval
    x_lines = next(lines for lines in info.values() if lines[0] == "x")
    grad = -3.0 * (1 - y.data**2)  # at the drawing's precision, with a true minus sign
    assert x_lines[:3] == ["x", "data 2.0000", f"grad(x) = \u2212{-grad:.4f}"]
    y_lines = next(lines for lines in info.values() if lines[0] == "y")
    assert y_lines[-1] == f"∂y/∂(w*x)+b = {1 - y.data**2:.4f}"


def test_walkthrough_checks_its_arguments_before_the_first_frame() -> None:
    x = Value(1.0)
    y = x
    for _ in range(30):
        y = y + 1.0
    with pytest.raises(GraphTooLargeError, match="61 nodes"):
        draw_backward(y, max_nodes=50)
    with pytest.raises(TypeError):
        draw_backward("y")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="skip_leaves must be True or False"):
        draw_backward(y, skip_leaves=1)  # type: ignore[arg-type]


def test_unlabelled_values_are_named_by_short_formulas_in_captions_and_drawing() -> None:
    x = Value(3.0, label="x")
    cases = {x * 2: "x*2", 2 - x: "2-x", -x: "-x", (x * 2).tanh(): "tanh(x*2)", -(x * x): "-(x*x)"}
    for y, name in cases.items():
        walk = draw_backward(y)
        assert walk[1].caption.startswith(f"Step 1/{len(walk) - 1}: grad({name}) = 1.0000 is final")
        assert f">{name}</text>" in html.unescape(walk[0].svg())  # the drawing shows the name the caption uses
    long = x * 2 * 2 * 2 * 2 * 2 * 2  # a formula longer than a name should be: its operation instead
    walk = draw_backward(long)
    assert walk[1].caption.startswith("Step 1/7: grad(mul_2) = 1.0000")
    assert ">mul_2</text>" in walk[0].svg()
    assert not any(re.search(r"#\d", frame.caption) for frame in walk)


def test_folded_boxes_show_their_outputs_adjoint_frame_by_frame() -> None:
    import valuegrad.nn as nn

    model = nn.MLP(2, [16, 16, 1], rng=0)
    y = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])[0]
    walk = draw_backward(y, skip_leaves=True, collapse=3)
    assert walk._structure.boxes  # drawn as one box per neuron
    first, last = walk[0].svg(), walk[-1].svg()
    outs = r"<text id=\"box\d+-grad-text\"[^>]*>out: data [-\d.]+[ \u00a0]+grad ([^<]*)</text>"
    assert len(re.findall(outs, first)) == len(walk._structure.boxes)
    assert "?" in re.findall(outs, first) and "?" not in re.findall(outs, last)
    lines = walk[1].caption.splitlines()  # the output neuron: 16 weights and a bias, 16 inputs, all listed
    assert lines[0].startswith("Step 1/") and "layer 2 · neuron 0: out grad = 1.0000 is final" in lines[0]
    assert sum(line.startswith("  grad(w") for line in lines) == 16 and "  grad(b) = " in "\n".join(lines)
    assert sum("layer 1 · neuron" in line for line in lines) == 16 and "more" not in walk[1].caption


def test_an_mlp_walk_has_one_frame_per_drawn_box_and_input_and_ends_with_every_gradient() -> None:
    import valuegrad.nn as nn

    model = nn.MLP(2, [4, 4, 1], rng=0)
    y = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])[0]
    walk = draw_backward(y)
    s = walk._structure
    assert len(s.boxes) == 9 and len(walk) <= 1 + len(s.boxes) + 2  # the start, each box and input once
    boxes = [f.box.id for f in walk if f.box is not None]
    assert len(boxes) == len(set(boxes)) == 9
    y.backward()
    last = walk[-1].svg()
    params = [p for box in s.boxes.values() for p in box.members if p in s.parameters]
    assert len(params) == 4 * 3 + 4 * 5 + 5
    texts = re.findall(r'<text id="box\d+-p\d+-grad-text"[^>]*>([^<]*)</text>', last)
    shown = re.findall(r"grad\((?:w\d|b)\) +([-\d.]+)", " ".join(html.unescape(t) for t in texts))
    assert sorted(shown) == sorted(format_number(p.grad, 4) for p in params)  # every parameter's gradient, as drawn
    for frame in walk:
        assert not re.search(r"#\d", frame.caption) and "+ -" not in frame.caption and "more" not in frame.caption


def _chain(inputs: int) -> Value:
    """``y = y * 0.5 + x`` over ``inputs`` inputs: about five drawn nodes per input."""
    xs = [Value(float(i % 7) / 7) for i in range(inputs)]
    y = xs[0]
    for x in xs[1:]:
        y = y * 0.5 + x
    return y


def test_a_10000_node_walk_is_refused_with_advice_before_any_layout(tmp_path: Path) -> None:
    """Where "dot's SVG has no grad cell" appeared (after 130 s): now a quick, clear refusal."""
    started = time.monotonic()
    walk = draw_backward(_chain(2000), max_nodes=None)
    assert len(walk) == 1 + 3 * 2000 - 2  # the numbers need no picture
    with pytest.raises(GraphTooLargeError, match=r"through \d+ drawn nodes .* \(collapse=1\)"):
        walk.save(tmp_path / "walk.html")
    assert time.monotonic() - started < 20
    assert not (tmp_path / "walk.html").exists()


def test_a_walk_of_some_hundred_nodes_renders_every_frame(tmp_path: Path) -> None:
    walk = draw_backward(_chain(150), max_nodes=None)
    assert 500 < walk._structure.node_count <= PICTURE_MAX_NODES
    page = walk.save(tmp_path / "walk.html")
    text = Path(page).read_text(encoding="utf-8")  # type: ignore[arg-type]
    assert text.count("grad-text") >= len(walk._structure.values)


def test_a_dot_product_is_labelled_by_what_it_computes() -> None:
    import valuegrad.nn as nn
    from valuegrad.autograd.core import nary
    from valuegrad.autograd.viz.dot_nodes import op_text

    y = nn.MLP(2, [1], rng=0)([Value(0.5), Value(1.0)])[0]
    dot = next(v for v in topological_order(y) if v.op == "dot")
    assert op_text(dot) == "Σ w·x"  # one side is weights
    a, b = [Value(1.0), Value(2.0)], [Value(3.0), Value(1.0)]
    d = [a[0] - b[0], a[1] - b[1]]
    assert op_text(nary.dot(d, d)) == "Σ d·d"  # a squared distance
    assert op_text(nary.dot(a, b)) == "Σ a·b"
    assert op_text(nary.dot(a, [1.0, 2.0])) == "Σ c·x"


def test_captions_never_show_internal_ids_or_a_plus_before_a_minus() -> None:
    x, w = Value(0.2, label="x"), Value(-0.3, label="w")
    y = ((x * w) * (x * w) * 2 * 2 * 2 * 2 - x).tanh()  # long formulas, negative terms
    for frame in draw_backward(y):
        assert not re.search(r"#\d", frame.caption) and "+ -" not in frame.caption and "-" not in frame.caption


def test_practice_pages_carry_each_frames_questions_and_no_play_button() -> None:
    walk = draw_backward(neuron(), practice=True)
    data = page_data(walk.html())
    assert data["practice"] is True and data["precision"] == 4
    assert data["frames"][0]["ask"] == []  # the start asks nothing
    names = [q[0] for q in data["frames"][1]["ask"]]  # tanh passes back to its input
    assert names == [walk._names[walk[1].node.parents[0]]]
    assert data["frames"][1]["head"] == walk[1].caption.splitlines()[0]
    assert 'id="play"' not in walk.html() and 'id="practice" aria-live="polite"' in walk.html()
    assert '"practice":false' in draw_backward(neuron()).html()
    with pytest.raises(TypeError, match="practice must be True or False"):
        draw_backward(neuron(), practice=1)  # type: ignore[arg-type]


def test_svg_outputs_keep_their_width_and_shrink_to_a_notebook_column() -> None:
    y = neuron()
    y.backward()
    for svg in (draw(y).svg(), draw_backward(y)[0].svg()):
        opening = re.match(r"\s*(?:<\?xml[^>]*>\s*)?(?:<!DOCTYPE[^>]*>\s*)?<svg\b[^>]*>", svg)
        assert opening is not None
        assert re.search(r'\swidth="[\d.]+pt"', opening.group(0)) and "max-width:100%" in opening.group(0)
    page = draw_backward(y).html()
    inline = page[page.index('<svg id="drawing"') :].split(">", 1)[0]
    assert "style=" not in inline  # in the page, its CSS sizes the drawing


def test_nodes_built_by_a_backward_pass_have_their_own_colour_and_legend_entry() -> None:
    x, w = Value(2.0, label="x"), Value(3.0, label="w")
    h = (x * w).tanh()
    y = h * h
    y.backward(create_graph=True)
    assert x.grad_value is not None
    graph = draw(x.grad_value, collapse=None)
    s = graph.drawing.structure
    built = [v for v in s.values if s.role(v) == "backward"]
    forward = {x, w, x * w} | {v for v in s.values if v.grad_value is not None}
    assert built and not any(v in forward for v in built)
    assert all(s.role(v) != "backward" for v in s.values if v.grad_value is not None)  # x*w, tanh: the forward pass
    assert "built by backward" in graph.source and graph.source.count("#ede9fe") == len(built) + 1  # and the legend
    plain = draw(neuron())
    assert "built by backward" not in plain.source


def test_the_root_reused_by_its_own_gradient_is_not_marked_as_built_by_backward() -> None:
    """tanh's derivative reuses its output: the root y is in the gradient's graph, and y is the forward pass."""
    x = Value(0.5, label="x")
    y = x.tanh()
    y.backward(create_graph=True)
    assert y.grad_value is not None and y.grad_value.data == 1.0  # the seed, a Value as every other adjoint
    assert x.grad_value is not None
    s = draw(x.grad_value, collapse=None).drawing.structure
    assert y in s.values and s.role(y) != "backward"
    assert any(s.role(v) == "backward" for v in s.values)  # 1 - y², times the seed: backward's own nodes


def test_the_static_page_hovers_at_the_drawings_precision() -> None:
    y = neuron()
    y.backward()
    info = page_data(draw(y, precision=2).render("html").decode("utf-8"))["info"]
    x_lines = next(lines for lines in info.values() if lines[0] == "x")
    assert x_lines[:3] == ["x", "data 2.00", f"grad(x) = \u2212{3.0 * (1 - y.data**2):.2f}"]


def test_the_first_frame_is_the_state_before_the_backward_pass() -> None:
    y = neuron()
    walk = draw_backward(y)
    start = walk[0]
    assert start.step == 0 and start.node is y and start.adjoints == {y: 1.0} and start.contributions == ()
    svg = start.svg()
    assert svg.count('class="node focus"') == 1 and ' changed"' not in svg and "edge active" not in svg  # only y
    cells = re.findall(r'<text id="v\d+-grad-text"[^>]*>([^<]*)</text>', svg)
    assert sorted(c.replace("\u00a0", "") for c in cells) == ["1.0000"] + ["?"] * (len(cells) - 1)


def test_repeated_labels_are_qualified_by_their_place_when_nothing_is_folded() -> None:
    import valuegrad.nn as nn

    y = nn.MLP(2, [2, 1], rng=0)([Value(0.5, label="x0"), Value(-1.0, label="x1")])[0]
    walk = draw_backward(y, collapse=None)
    assert not walk._structure.boxes
    names = set(walk._names.values())
    assert "MLP · layer 0 · neuron 1 · w0" in names and "w0" not in names and "x0" in names
    text = html.unescape(walk[0].svg())  # drawn as w0 in the clusters MLP, layer 0, neuron 1
    assert ">w0<" in text and ">neuron 1<" in text and ">layer 0<" in text
    assert any("grad(MLP · layer 0 · neuron 1 · w0)" in f.caption for f in walk)
