"""Drawing: DOT text (golden, deterministic), rendered SVG parsed as XML, escaping, clusters, size guard."""

# ruff: noqa: E501  (the golden DOT text is kept verbatim, long lines and all)

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valuegrad import autograd
from valuegrad.autograd import Value, draw, local_derivatives, topological_order
from valuegrad.autograd.viz.draw import (
    ROLE_FILL,
    DotNotFoundError,
    Graph,
    GraphTooLargeError,
    RenderError,
    format_number,
    html_text,
)
from valuegrad.autograd.viz.render import default_renderer

SVG = "{http://www.w3.org/2000/svg}"


def svg_groups(svg: str, kind: str) -> list[ET.Element]:
    """The <g class="node|edge|cluster"> elements of a Graphviz SVG."""
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == kind]


def node_texts(svg: str) -> dict[str, list[str]]:
    """Each node's DOT id (its <title>) -> the text lines drawn in it."""
    texts = {}
    for g in svg_groups(svg, "node"):
        title = g.find(f"{SVG}title")
        assert title is not None
        texts[title.text or ""] = [(t.text or "").replace("\xa0", " ").strip() for t in g.iter(f"{SVG}text")]
    return texts


def small_graph() -> Value:
    a = Value(2.0, label="a")
    b = Value(-3.0, label="b")
    c = Value(10.0, label="c")
    d = a * b + c
    d.label = "d"
    d.backward()
    return d


GOLDEN_DOT = """\
digraph valuegrad {
	graph [id="graph" rankdir=LR fontname="Helvetica" fontsize="11" nodesep="0.12" ranksep="0.55" newrank="true" ordering="out" compound="true"]
	node [fontname="Helvetica" fontsize="11" margin="0"]
	edge [fontname="Helvetica" fontsize="10" arrowsize="0.6" color="#4b5563"]
	graph [label=<<TABLE BORDER="0" CELLSPACING="3" CELLPADDING="2"><TR><TD BORDER="1" BGCOLOR="#dbeafe" WIDTH="37"><FONT POINT-SIZE="10">input</FONT></TD><TD BORDER="1" BGCOLOR="#ffffff" WIDTH="80"><FONT POINT-SIZE="10">intermediate</FONT></TD><TD BORDER="1" BGCOLOR="#dcfce7" WIDTH="43"><FONT POINT-SIZE="10">output</FONT></TD></TR></TABLE>> labelloc="t" labeljust="l"]
	v0 [id="v0" shape="plain" label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="1" BGCOLOR="#dbeafe"><TR><TD COLSPAN="2" WIDTH="78" HEIGHT="15"><B>a</B></TD></TR><TR><TD WIDTH="30" HEIGHT="15" FIXEDSIZE="TRUE"><FONT POINT-SIZE="10">data</FONT></TD><TD ID="v0-data" TOOLTIP="data" WIDTH="48" HEIGHT="15" FIXEDSIZE="TRUE" ALIGN="RIGHT"><FONT FACE="Courier" POINT-SIZE="10"> 2.0000</FONT></TD></TR><TR><TD WIDTH="30" HEIGHT="15" FIXEDSIZE="TRUE"><FONT POINT-SIZE="10">grad</FONT></TD><TD ID="v0-grad" TOOLTIP="grad" WIDTH="48" HEIGHT="15" FIXEDSIZE="TRUE" ALIGN="RIGHT"><FONT FACE="Courier" POINT-SIZE="10">-3.0000</FONT></TD></TR></TABLE>>]
	v1 [id="v1" shape="plain" label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="1" BGCOLOR="#dbeafe"><TR><TD COLSPAN="2" WIDTH="78" HEIGHT="15"><B>b</B></TD></TR><TR><TD WIDTH="30" HEIGHT="15" FIXEDSIZE="TRUE"><FONT POINT-SIZE="10">data</FONT></TD><TD ID="v1-data" TOOLTIP="data" WIDTH="48" HEIGHT="15" FIXEDSIZE="TRUE" ALIGN="RIGHT"><FONT FACE="Courier" POINT-SIZE="10">-3.0000</FONT></TD></TR><TR><TD WIDTH="30" HEIGHT="15" FIXEDSIZE="TRUE"><FONT POINT-SIZE="10">grad</FONT></TD><TD ID="v1-grad" TOOLTIP="grad" WIDTH="48" HEIGHT="15" FIXEDSIZE="TRUE" ALIGN="RIGHT"><FONT FACE="Courier" POINT-SIZE="10"> 2.0000</FONT></TD></TR></TABLE>>]
	op2 [id="op2" label=<×> shape="ellipse" style="filled" fillcolor="#f3f4f6" width="0.417" height="0.306" fixedsize="true" fontsize="12"]
	v2 [id="v2" shape="plain" label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="1" BGCOLOR="#ffffff"><TR><TD WIDTH="30" HEIGHT="15" FIXEDSIZE="TRUE"><FONT POINT-SIZE="10">data</FONT></TD><TD ID="v2-data" TOOLTIP="data" WIDTH="48" HEIGHT="15" FIXEDSIZE="TRUE" ALIGN="RIGHT"><FONT FACE="Courier" POINT-SIZE="10">-6.0000</FONT></TD></TR><TR><TD WIDTH="30" HEIGHT="15" FIXEDSIZE="TRUE"><FONT POINT-SIZE="10">grad</FONT></TD><TD ID="v2-grad" TOOLTIP="grad" WIDTH="48" HEIGHT="15" FIXEDSIZE="TRUE" ALIGN="RIGHT"><FONT FACE="Courier" POINT-SIZE="10"> 1.0000</FONT></TD></TR></TABLE>>]
	v3 [id="v3" shape="plain" label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="1" BGCOLOR="#dbeafe"><TR><TD COLSPAN="2" WIDTH="78" HEIGHT="15"><B>c</B></TD></TR><TR><TD WIDTH="30" HEIGHT="15" FIXEDSIZE="TRUE"><FONT POINT-SIZE="10">data</FONT></TD><TD ID="v3-data" TOOLTIP="data" WIDTH="48" HEIGHT="15" FIXEDSIZE="TRUE" ALIGN="RIGHT"><FONT FACE="Courier" POINT-SIZE="10">10.0000</FONT></TD></TR><TR><TD WIDTH="30" HEIGHT="15" FIXEDSIZE="TRUE"><FONT POINT-SIZE="10">grad</FONT></TD><TD ID="v3-grad" TOOLTIP="grad" WIDTH="48" HEIGHT="15" FIXEDSIZE="TRUE" ALIGN="RIGHT"><FONT FACE="Courier" POINT-SIZE="10"> 1.0000</FONT></TD></TR></TABLE>>]
	op4 [id="op4" label=<+> shape="ellipse" style="filled" fillcolor="#f3f4f6" width="0.417" height="0.306" fixedsize="true" fontsize="12"]
	v4 [id="v4" shape="plain" label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="1" BGCOLOR="#dcfce7"><TR><TD COLSPAN="2" WIDTH="78" HEIGHT="15"><B>d</B></TD></TR><TR><TD WIDTH="30" HEIGHT="15" FIXEDSIZE="TRUE"><FONT POINT-SIZE="10">data</FONT></TD><TD ID="v4-data" TOOLTIP="data" WIDTH="48" HEIGHT="15" FIXEDSIZE="TRUE" ALIGN="RIGHT"><FONT FACE="Courier" POINT-SIZE="10"> 4.0000</FONT></TD></TR><TR><TD WIDTH="30" HEIGHT="15" FIXEDSIZE="TRUE"><FONT POINT-SIZE="10">grad</FONT></TD><TD ID="v4-grad" TOOLTIP="grad" WIDTH="48" HEIGHT="15" FIXEDSIZE="TRUE" ALIGN="RIGHT"><FONT FACE="Courier" POINT-SIZE="10"> 1.0000</FONT></TD></TR></TABLE>>]
	v0 -> op2 [id="e0" headlabel=<-3.0000> fontcolor="#374151" labeldistance="2.2" labelangle="-40"]
	v1 -> op2 [id="e1" headlabel=<2.0000> fontcolor="#374151" labeldistance="2.2" labelangle="-40"]
	op2 -> v2 [id="e2"]
	v2 -> op4 [id="e3" headlabel=<1.0000> fontcolor="#374151" labeldistance="2.2" labelangle="-40"]
	v3 -> op4 [id="e4" headlabel=<1.0000> fontcolor="#374151" labeldistance="2.2" labelangle="-40"]
	op4 -> v4 [id="e5"]
}
"""


# ---------------------------------------------------------------- DOT text


def test_golden_dot_for_a_small_graph() -> None:
    assert draw(small_graph(), edge_labels=True).source == GOLDEN_DOT


def test_same_graph_gives_identical_dot_byte_for_byte() -> None:
    first = draw(small_graph(), edge_labels=True).source
    second = draw(small_graph(), edge_labels=True).source
    assert first.encode() == second.encode()


def test_node_ids_are_sequential_in_topological_order() -> None:
    x = Value(0.5, label="x")
    y = ((x * x).exp() + x).tanh() * 2
    source = draw(y).source
    values = re.findall(r"^\t(v\d+) \[", source, flags=re.MULTILINE)
    ops = re.findall(r"^\t(op\d+) \[", source, flags=re.MULTILINE)
    order = topological_order(y)
    assert values == [f"v{i}" for i in range(len(order))]
    # one op per computed value, named after the value it makes
    assert ops == [f"op{i}" for i, v in enumerate(order) if v.parents]
    edges = re.findall(r'-> \w+ \[id="(e\d+)"', source)
    assert edges == [f"e{k}" for k in range(len(edges))]


def test_draw_is_the_one_way_to_draw_and_the_package_exports_it() -> None:
    assert not hasattr(small_graph(), "draw")  # the engine knows nothing of drawing (0.3.0)
    assert autograd.draw is draw and autograd.Graph is Graph


def test_edge_labels_are_the_local_derivatives() -> None:
    x, w = Value(1.5, label="x"), Value(-0.25, label="w")
    y = (x * w).sigmoid()
    source = draw(y, edge_labels=True, precision=6).source
    labels = re.findall(r"-> op\d+ \[id=\"e\d+\" headlabel=<([^>]*)>", source)
    expected = [format_number(d, 6) for v in topological_order(y) for d in local_derivatives(v)]
    assert labels == expected


def test_a_repeated_parent_gets_one_edge_per_use() -> None:
    a = Value(3.0, label="a")
    graph = draw(a + a)
    assert graph.source.count("v0 -> op1") == 2
    assert len(svg_groups(graph.svg(), "edge")) == graph.edge_count == 3


def test_options_change_the_cells() -> None:
    y = small_graph()
    assert 'ID="v0-grad"' not in draw(y, show_grad=False).source
    assert 'ID="v0-data"' not in draw(y, show_data=False).source
    assert "rankdir=TB" in draw(y, rankdir="TB").source
    assert re.search(r"> *4\.00<", draw(y, precision=2).source) and "4.0000" not in draw(y, precision=2).source


@pytest.mark.parametrize(
    ("x", "precision", "shown"),
    [
        (0.0, 4, "0.0000"),
        (1.5, 2, "1.50"),
        (-2.25, 4, "-2.2500"),
        (0.001, 4, "0.0010"),
        (0.0001, 4, "1.000e-04"),
        (1e-9, 4, "1.000e-09"),
        (3e12, 3, "3.00e+12"),
        (7.0, 0, "7"),
        (0.25, 0, "2.5e-01"),
    ],
)
def test_number_format(x: float, precision: int, shown: str) -> None:
    assert format_number(x, precision) == shown


def test_non_finite_numbers_are_drawn() -> None:
    y = Value(0.0, label="z").log()  # -inf
    z = y * 0.0  # nan
    source = draw(z).source
    assert ">-inf<" in source.replace(" ", "") and ">nan<" in source.replace(" ", "")


def test_colour_roles() -> None:
    x = Value(1.0, label="x")
    w = Value(2.0, label="w0")
    w.module_path = "Neuron"
    y = w * x
    y.module_path = "Neuron"
    out = y + 1
    out.module_path = "Neuron"
    source = draw(out).source
    fill_of = {
        label: re.search(rf'BGCOLOR="(#[0-9a-f]+)"><TR><TD[^>]*><B>{label}<', source).group(1)  # type: ignore[union-attr]
        for label in ("x", "w0")
    }
    assert fill_of == {"x": ROLE_FILL["input"], "w0": ROLE_FILL["parameter"]}
    assert len({ROLE_FILL[r] for r in ("input", "parameter", "output", "intermediate")}) == 4


def test_highlight_outlines_the_chosen_value_and_rejects_strangers() -> None:
    x = Value(1.0, label="x")
    y = x.exp()
    source = draw(y, highlight=[x]).source
    assert re.search(r'v0 \[id="v0" shape="plain" label=<<TABLE BORDER="3" COLOR="#dc2626"', source)
    assert draw(y, highlight=x).source == source
    with pytest.raises(ValueError, match="not part of this graph"):
        draw(y, highlight=[Value(2.0)])
    with pytest.raises(TypeError, match="highlight takes Values"):
        draw(y, highlight=["x"])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("options", "fragment"),
    [
        ({"rankdir": "XY"}, "rankdir"),
        ({"precision": -1}, "precision"),
        ({"precision": 2.5}, "precision"),
        ({"collapse": 0}, "collapse"),
        ({"max_nodes": 0}, "max_nodes"),
        ({"show_grad": "yes"}, "show_grad"),
    ],
)
def test_bad_options_say_what_to_do(options: dict[str, object], fragment: str) -> None:
    with pytest.raises((ValueError, TypeError), match=fragment):
        draw(Value(1.0), **options)  # type: ignore[arg-type]


def test_drawing_something_that_is_not_a_value() -> None:
    with pytest.raises(TypeError, match="pass the output Value"):
        draw(3.0)  # type: ignore[arg-type]


# ---------------------------------------------------------------- rendered SVG


def test_svg_has_one_node_per_value_and_op_and_the_right_edges() -> None:
    graph = draw(small_graph(), edge_labels=True)
    svg = graph.svg()
    assert len(svg_groups(svg, "node")) == graph.node_count == 7
    assert len(svg_groups(svg, "edge")) == graph.edge_count == 6
    texts = node_texts(svg)
    assert texts["v4"] == ["d", "data", "4.0000", "grad", "1.0000"]
    assert texts["op2"] == ["×"]


def test_hypot_is_drawn_with_its_name_and_local_derivatives() -> None:
    x, y = Value(3.0, label="x"), Value(4.0, label="y")
    out = x.hypot(y) + autograd.hypot(2.0, y)
    source = draw(out, edge_labels=True).source
    ops = re.findall(r"^\t(op\d+) \[id=\"op\d+\" label=<([^>]*)>", source, flags=re.MULTILINE)
    assert [label for _, label in ops] == ["hypot", "hypot(·, 2)", "+"]
    labels = re.findall(r"-> op\d+ \[id=\"e\d+\" headlabel=<([^>]*)>", source)
    assert labels[:2] == ["0.6000", "0.8000"]  # ∂/∂x = x/h, ∂/∂y = y/h
    texts = node_texts(draw(out).svg())
    assert sorted(t[0] for name, t in texts.items() if name.startswith("op")) == ["+", "hypot", "hypot(·, 2)"]


HOSTILE_LABELS = [
    '<x>]; injected [label="PWNED"]',
    '"]; n99 [label="x"]; n0 -> n99 [',
    "}\ndigraph evil {",
    "back\\slash \\N \\G \\E \\T \\H \\L \\n \\l \\r \\\\ end\\",
    "{braces} | pipes | <ports>",
    "&amp; &lt;tag&gt; &#60; &#x3C; <![CDATA[x]]> <!-- c -->",
    "</td></tr></table>><b>bold</b>",
    "'single' \"double\" `back`",
    "newline\nsecond line\r\nthird",
    "tab\tbell\x07null\x00",
    "unicode é ß 日本語 🙂 \u202e reversed \u200b",
    "\ud800 lone surrogate",
    "x" * 500,
    "",
]


def _hostile_graph(labels: list[str]) -> tuple[Value, list[Value]]:
    leaves = [Value(float(i), label=text) for i, text in enumerate(labels)]
    root = autograd.sum(leaves)
    root.label = labels[0]
    root.module_path = labels[1]  # user text in a cluster label too
    return root, leaves


def test_hostile_labels_cannot_add_or_change_nodes() -> None:
    root, leaves = _hostile_graph(HOSTILE_LABELS)
    graph = draw(root, collapse=None)
    svg = graph.svg()
    nodes = svg_groups(svg, "node")
    assert len(nodes) == len(leaves) + 2 == graph.node_count
    assert len(svg_groups(svg, "edge")) == len(leaves) + 1
    assert len(svg_groups(svg, "cluster")) == 1
    assert "PWNED" not in "".join(t for ts in node_texts(svg).values() for t in ts if not t.startswith("<x>"))
    titles = sorted(node_texts(svg))
    assert titles == sorted([f"v{i}" for i in range(len(leaves) + 1)] + [f"op{len(leaves)}"])


def _shown(text: str) -> str:
    """How SVG text reads back: Graphviz writes runs of spaces as no-break spaces; we add zero-width spaces."""
    return text.replace("\xa0", " ").replace("\u200b", "")


@pytest.mark.parametrize("label", [t for t in HOSTILE_LABELS if t.isprintable() and t and len(t) < 100])
def test_printable_hostile_labels_are_shown_verbatim(label: str) -> None:
    svg = draw(Value(1.0, label=label)).svg()
    assert len(svg_groups(svg, "node")) == 1
    assert _shown(node_texts(svg)["v0"][0]) == _shown(label).strip()


PRINTABLE = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("<>[]{}|\"'\\;=&#-/ NGETHLnlr!")),
        st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), max_codepoint=0x2FFFF),
    ),
    min_size=1,
    max_size=40,
)


@given(label=PRINTABLE)
def test_any_printable_label_is_one_node_shown_verbatim(label: str) -> None:
    svg = draw(Value(1.0, label=label)).svg()
    assert len(svg_groups(svg, "node")) == 1
    shown = node_texts(svg)["v0"]
    assert shown[-4:] == ["data", "1.0000", "grad", "0.0000"]
    if label.strip():
        assert _shown(shown[0]).strip() == _shown(label).strip()


@given(labels=st.lists(st.text(max_size=30), min_size=1, max_size=4), path=st.text(max_size=30))
def test_any_text_anywhere_keeps_the_structure(labels: list[str], path: str) -> None:
    root, leaves = _hostile_graph([*labels, "pad"] if len(labels) == 1 else labels)
    root.module_path = path or None
    graph = draw(root, edge_labels=True, collapse=None)
    svg = graph.svg()  # also proves the SVG is well-formed XML
    assert len(svg_groups(svg, "node")) == graph.node_count == len(leaves) + 2
    assert len(svg_groups(svg, "edge")) == graph.edge_count == len(leaves) + 1


def test_html_text_escapes_markup_and_breaks_backslash_escapes() -> None:
    assert html_text('<a href="x">&') == "&lt;a href=&quot;x&quot;&gt;&amp;"
    assert html_text("\\N") == "\\&#8203;N"
    assert html_text("\\x") == "\\x"
    assert html_text("a\nb") == "a<br/>b"
    assert html_text("\x00") == "\\x00"
    assert html_text("y" * 200).endswith("…") and len(html_text("y" * 200)) == 120


# ---------------------------------------------------------------- modules: clusters and collapse


def hand_made_mlp() -> tuple[Value, list[Value]]:
    """A 2-2-1 'MLP' built by hand, with module paths as nn sets them."""
    inputs = [Value(0.5, label="x0"), Value(-1.0, label="x1")]

    def neuron(path: str, xs: list[Value], relu: bool) -> Value:
        ws = [Value(0.1 * (i + 1), label=f"w{i}") for i in range(len(xs))]
        b = Value(0.0, label="b")
        for p in (*ws, b):
            p.module_path = path
        pre = autograd.dot(ws, xs, b)
        pre.module_path = path
        if not relu:
            return pre
        out = pre.relu()
        out.module_path = path
        return out

    hidden = [neuron(f"MLP.layers.0.neurons.{j}", inputs, True) for j in range(2)]
    (out,) = [neuron("MLP.layers.1.neurons.0", hidden, False)]
    loss = (out - 1.0) ** 2
    loss.label = "loss"
    return loss, inputs


def test_modules_are_nested_clusters() -> None:
    loss, _ = hand_made_mlp()
    graph = draw(loss, collapse=None)
    svg = graph.svg()
    clusters = svg_groups(svg, "cluster")
    # MLP, layers.0, layers.1, and three neurons
    assert len(clusters) == 6
    assert len(svg_groups(svg, "node")) == graph.node_count
    order = topological_order(loss)
    assert graph.node_count == len(order) + sum(1 for v in order if v.parents)
    cluster_titles = [t.text for c in clusters for t in c.iter(f"{SVG}text")]
    assert {"MLP", "layer 0", "layer 1", "neuron 0", "neuron 1"} <= set(cluster_titles)


@pytest.mark.parametrize(("depth", "boxes", "clusters"), [(1, 1, 0), (2, 2, 1), (3, 3, 3)])
def test_collapse_folds_modules_into_boxes(depth: int, boxes: int, clusters: int) -> None:
    loss, inputs = hand_made_mlp()
    graph = draw(loss, collapse=depth)
    source = graph.source
    assert source.count('shape="box3d"') == boxes
    assert source.count("subgraph cluster_") == clusters
    # outside the model: two inputs, then (out - 1) ** 2 as two ops and two values
    assert graph.node_count == boxes + len(inputs) + 4
    svg = graph.svg()
    assert len(svg_groups(svg, "node")) == graph.node_count
    assert len(svg_groups(svg, "edge")) == graph.edge_count


def test_collapse_one_draws_inputs_into_the_box_and_the_box_into_the_loss() -> None:
    loss, _ = hand_made_mlp()
    source = draw(loss, collapse=1).source
    box = re.search(r'^\t(box\d+) \[id="box\d+" label=<<B>MLP</B>', source, flags=re.MULTILINE)
    assert box is not None
    box_id = box.group(1)
    inputs = re.findall(r"^\t(v\d+) \[[^\n]*<B>x[01]<", source, flags=re.MULTILINE)
    minus_one = re.search(r'^\t(op\d+) \[id="op\d+" label=<- 1>', source, flags=re.MULTILINE)
    assert len(inputs) == 2 and minus_one is not None
    edges = re.findall(r"^\t(\w+) -> (\w+)", source, flags=re.MULTILINE)
    assert sorted(s for s, t in edges if t == box_id) == sorted(inputs)
    assert [t for s, t in edges if s == box_id] == [minus_one.group(1)]


def test_collapsed_output_box_takes_the_output_colour() -> None:
    x = Value(1.0, label="x")
    y = x * 2
    y.module_path = "Model"
    assert ROLE_FILL["output"] in draw(y, collapse=1).source


# ---------------------------------------------------------------- size guard


def test_graphs_over_max_nodes_are_refused_with_advice() -> None:
    x = Value(1.0, label="x")
    total = x
    for _ in range(300):
        total = total * 1.01
    with pytest.raises(GraphTooLargeError) as caught:
        draw(total)
    message = str(caught.value)
    assert "601 nodes" in message and "max_nodes=500" in message and "max_nodes=601" in message
    assert draw(total, max_nodes=601).node_count == 601
    assert draw(total, max_nodes=None).node_count == 601


def test_size_guard_suggests_collapse_levels_that_fit() -> None:
    loss, _ = hand_made_mlp()
    full = draw(loss, collapse=None).node_count
    limit = draw(loss, collapse=2).node_count
    with pytest.raises(GraphTooLargeError) as caught:
        draw(loss, max_nodes=limit, collapse=3)
    message = str(caught.value)
    suggested = [int(level) for level in re.findall(r"collapse=(\d) draws", message)]
    assert suggested and all(draw(loss, collapse=level).node_count <= limit for level in suggested)
    assert draw(loss, collapse=3).node_count > limit and full > limit


def test_auto_collapse_folds_only_what_it_must_and_says_so() -> None:
    loss, _ = hand_made_mlp()
    limit = draw(loss, collapse=2).node_count
    graph = draw(loss, max_nodes=limit)  # too many nodes at every finer level: folds to layers
    assert graph.node_count == limit
    assert "folded 2 layers into boxes to fit (collapse=2)" in graph.source
    assert "folded" not in draw(loss).source  # small enough to draw whole
    with pytest.raises(GraphTooLargeError, match="even folded into boxes"):
        draw(loss, max_nodes=3)


def test_a_very_deep_graph_is_drawn_without_recursion() -> None:
    x = Value(0.1)
    y = x
    for _ in range(5000):
        y = y.sin()
    graph = draw(y, max_nodes=None)
    assert graph.node_count == 10001
    assert graph.source.count(" -> ") == 10000


# ---------------------------------------------------------------- saving and notebooks


@pytest.mark.parametrize("suffix", [".svg", ".png", ".dot"])
def test_save_writes_the_format_of_the_suffix_atomically(tmp_path: Path, suffix: str) -> None:
    graph = draw(small_graph())
    renderer = default_renderer()
    if suffix == ".png" and "png" not in renderer.formats:  # viz.js: a clear refusal, nothing written
        with pytest.raises(RenderError, match="cannot write 'png'"):
            graph.save(tmp_path / "g.png")
        assert list(tmp_path.iterdir()) == []
        return
    path = graph.save(tmp_path / f"g{suffix}")
    data = path.read_bytes()
    if suffix == ".svg":
        assert len(svg_groups(data.decode(), "node")) == 7
    elif suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
    else:
        assert data.decode() == graph.source
    assert [p.name for p in tmp_path.iterdir()] == [f"g{suffix}"]  # no temp file left behind


def test_save_refuses_unknown_suffixes_and_missing_directories(tmp_path: Path) -> None:
    graph = draw(small_graph())
    with pytest.raises(ValueError, match=r"\.svg"):
        graph.save(tmp_path / "g.pdf")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        graph.save(tmp_path / "missing" / "g.svg")


def test_notebook_shows_svg() -> None:
    bundle = draw(small_graph())._repr_mimebundle_()
    assert set(bundle) == {"image/svg+xml"}
    assert len(svg_groups(bundle["image/svg+xml"], "node")) == 7


def test_notebook_without_dot_shows_a_hint_and_the_dot_text(monkeypatch: pytest.MonkeyPatch) -> None:
    from valuegrad.autograd.viz import render as _dot_binary

    monkeypatch.setenv("PATH", "")
    monkeypatch.delenv(_dot_binary.ENV_VARIABLE, raising=False)
    monkeypatch.setattr(_dot_binary, "bundled_dot", lambda: None)
    graph = draw(small_graph())
    bundle = graph._repr_mimebundle_()
    assert set(bundle) == {"text/plain"}
    hint, _, rest = bundle["text/plain"].partition("\n")
    assert "no Graphviz 'dot' executable found" in hint and "pip install graphviz-pure" in hint
    assert rest == graph.source
    with pytest.raises(DotNotFoundError):
        graph.svg()
    assert "PWNED" not in repr(graph) and "nodes" in repr(graph)


def test_a_box_with_one_output_shows_its_numbers() -> None:
    loss, _ = hand_made_mlp()
    loss.backward()
    source = draw(loss, collapse=3).source
    # the output neuron's box: its single output is the pre-activation that feeds (out - 1) ** 2
    assert re.search(r"<B>neuron 0</B><BR/>3 parameters · Σ w·x<BR/>out: data -?\d\.\d{4}  grad -?\d\.\d{4}>", source)


def test_real_nn_modules_nest_and_collapse() -> None:
    # nn.layers rather than nn: works even where an old editable install left nn a namespace package
    layers = pytest.importorskip("valuegrad.nn.layers")
    model = layers.MLP(2, [3, 3, 1], rng=0)
    out = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])
    out = out[0] if isinstance(out, list) else out
    graph = draw(out, collapse=None)
    assert len(svg_groups(graph.svg(), "cluster")) == 1 + 3 + 7  # MLP, its layers, their neurons
    assert draw(out, collapse=1).node_count == 1 + 2  # the model and the two inputs
    assert draw(out, collapse=2).node_count == 3 + 2
    assert draw(out, collapse=3).node_count == 7 + 2


def test_absurd_module_paths_are_capped_in_depth() -> None:
    from valuegrad.autograd.viz.draw import MAX_CLUSTER_DEPTH

    x = Value(1.0, label="x")
    x.module_path = ".".join(f"m{i}" for i in range(5000))
    y = x * 2
    y.module_path = x.module_path
    graph = draw(y, collapse=None)
    assert graph.source.count("subgraph cluster_") == MAX_CLUSTER_DEPTH
    assert len(svg_groups(graph.svg(), "cluster")) == MAX_CLUSTER_DEPTH


@pytest.mark.parametrize("label", ["]", "]]", "a]", "[]"])
def test_brackets_alone_in_a_label_draw_under_every_graphviz(label: str) -> None:
    """Graphviz 2.43 (Debian, Ubuntu, Colab) failed on a label that is only "]" (found by Hypothesis)."""
    svg = draw(Value(1.0, label=label)).svg()
    assert label in svg.replace("&#93;", "]")
