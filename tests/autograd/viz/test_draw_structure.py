"""What a drawing shows: the player's ids, fixed cells, folded zero starts, scopes, parameters, bundles."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from valuegrad import autograd
from valuegrad.autograd import Value, draw, topological_order
from valuegrad.autograd.viz.dot_writer import dot_text
from valuegrad.autograd.viz.draw import DEFAULT_MAX_NODES, ROLE_FILL, _check_options, _structure

SVG = "{http://www.w3.org/2000/svg}"


def neuron() -> tuple[Value, list[Value]]:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.881373587019543, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.label = "o"
    o.backward()
    return o, [w1, w2, b]


# ---------------------------------------------------------------- the player contract


def test_every_value_op_edge_and_number_cell_has_its_id_in_the_svg() -> None:
    o, _ = neuron()
    graph = draw(o, edge_labels=True)
    order = topological_order(o)
    svg = ET.fromstring(graph.svg())
    groups = {g.get("id"): g for g in svg.iter(f"{SVG}g")}
    for n, v in enumerate(order):
        assert graph.drawing.values[n] is v and graph.drawing.node_of[v] == f"v{n}"
        assert f"v{n}" in groups
        for kind, number in (("data", v.data), ("grad", v.grad)):
            texts = [t.text for t in groups[f"v{n}-{kind}"].iter(f"{SVG}text")]
            assert len(texts) == 1 and float((texts[0] or "").replace("\xa0", " ")) == pytest.approx(number, abs=1e-4)
        assert (f"op{n}" in groups) == bool(v.parents)
    assert sorted(k for k in groups if k and re.fullmatch(r"e\d+", k)) == sorted(
        f"e{k}" for k in range(graph.edge_count)
    )


def _without_text(svg: str) -> str:
    return re.sub(r">[^<]*</text>", "></text>", svg)


def test_changing_the_grads_changes_only_the_grad_texts() -> None:
    o, _ = neuron()
    order = topological_order(o)
    options = _check_options("auto", True, True, False, 4, "auto", DEFAULT_MAX_NODES)
    structure, options, _ = _structure(o, frozenset(), options, "auto", DEFAULT_MAX_NODES)  # as the player draws
    width = dot_text(structure, options).number_width
    first = dot_text(structure, options, grads={v: 0.0 for v in order}, number_width=width + 2)
    second = dot_text(structure, options, grads={v: -12.345 * i for i, v in enumerate(order)}, number_width=width + 2)
    assert first.number_width == second.number_width == width + 2
    from valuegrad.autograd.viz.render import run_dot

    one, two = (run_dot(d.source, "svg").decode() for d in (first, second))
    assert one != two and _without_text(one) == _without_text(two)
    widths = set(re.findall(r'ID="v\d+-(?:data|grad)" TOOLTIP="\w+" WIDTH="([\d.]+)"', first.source))
    assert len(widths) == 1  # every number cell has one fixed width


def test_the_same_graph_renders_to_the_same_svg_bytes() -> None:
    assert draw(neuron()[0], edge_labels=True).svg() == draw(neuron()[0], edge_labels=True).svg()


# ---------------------------------------------------------------- plain-number artefacts


def rnn(steps: int, zero_start: bool) -> Value:
    w_xh, w_hh, w_hy, b = (Value(v, label=n) for n, v in (("w_xh", 0.9), ("w_hh", 0.7), ("w_hy", 1.3), ("b", 0.1)))
    xs, ys = [0.5, -1.0, 0.8], [0.2, -0.4, 0.5]
    h: Value | float = 0.0
    loss: Value | float = 0.0
    for t in range(steps):
        with autograd.scope(f"t = {t + 1}"):
            if t == 0 and not zero_start:  # the same computation written without the zero starts
                h = (w_xh * xs[t] + b).tanh()
                loss = 0.5 * (w_hy * h - ys[t]) ** 2
                continue
            h = (w_hh * h + w_xh * xs[t] + b).tanh()
            loss = loss + 0.5 * (w_hy * h - ys[t]) ** 2
    assert isinstance(loss, Value)
    return loss


def _op_labels(source: str) -> list[str]:
    return sorted(re.findall(r'^\t*op\d+ \[id="op\d+" label=<([^>]*)>', source, flags=re.MULTILINE))


def test_zero_starts_leave_no_artefact_nodes() -> None:
    started, plain = rnn(2, zero_start=True), rnn(2, zero_start=False)
    assert started.data == plain.data
    a, b = draw(started, collapse=None), draw(plain, collapse=None)
    assert _op_labels(a.source) == _op_labels(b.source)
    assert a.node_count == b.node_count
    assert "label=<* 0>" not in a.source and "label=<+ 0>" not in a.source
    symbols = {v.op_symbol for v in topological_order(started)}
    assert {"* 0", "+ 0"} <= symbols  # the engine did make them: the drawing left them out


def test_identities_are_drawn_as_their_input_unless_that_would_hide_something() -> None:
    x = Value(2.0, label="x")
    y = (x * 3.0) * 1.0
    y.label = "y"
    graph = draw(y, collapse=None)
    assert graph.node_count == 3 and "label=<* 1>" not in graph.source and "<B>y</B>" in graph.source
    shared = x * 3.0  # used twice: its "+ 0" copy is a separate node, kept
    z = (shared + 0.0) * shared
    assert "label=<+ 0>" in draw(z, collapse=None).source
    named = x * 3.0
    named.label = "a"
    both = named + 0.0
    both.label = "b"  # two names: keep both boxes
    assert "<B>a</B>" in draw(both).source and "<B>b</B>" in draw(both).source


# ---------------------------------------------------------------- scopes, parameters, legend


def test_time_steps_are_clusters_and_shared_weights_sit_outside_them() -> None:
    loss = rnn(2, zero_start=True)
    weights = [v for v in topological_order(loss) if v.label in ("w_xh", "w_hh", "w_hy", "b")]
    graph = draw(loss, params=weights, collapse=None)
    svg = ET.fromstring(graph.svg())
    clusters = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "cluster"]
    assert sorted(t.text or "" for c in clusters for t in c.iter(f"{SVG}text")) == ["t = 1", "t = 2"]
    inside = {t.text for c in clusters for node in c.iter(f"{SVG}g") for t in node.iter(f"{SVG}text")}
    assert not {"w_xh", "w_hh", "w_hy", "b"} & inside
    for w in weights:
        assert re.search(rf'BGCOLOR="{ROLE_FILL["parameter"]}"><TR><TD[^>]*><B>{w.label}<', graph.source)


def test_params_colour_hand_built_weights_and_must_be_in_the_graph() -> None:
    o, params = neuron()
    plain = draw(o).source
    assert ROLE_FILL["parameter"] not in plain
    coloured = draw(o, params=params).source
    assert coloured.count(f'BGCOLOR="{ROLE_FILL["parameter"]}"') == 3 + 1  # three leaves and the legend
    with pytest.raises(ValueError, match="not part of this graph"):
        draw(o, params=[Value(1.0)])


def test_the_legend_names_the_roles_drawn() -> None:
    o, params = neuron()
    legend = re.search(r"graph \[label=<(.*)> labelloc", draw(o, params=params).source)
    assert legend is not None
    assert re.findall(r">(input|parameter|intermediate|output)<", legend.group(1)) == [
        "input",
        "parameter",
        "intermediate",
        "output",
    ]
    assert "labelloc" not in draw(o, legend=False).source


def test_a_scoped_parameter_sits_in_the_innermost_scope_of_its_uses() -> None:
    x = Value(1.0, label="x")
    w = Value(0.5, label="w")
    with autograd.scope("model"), autograd.scope("unit"):
        y = (w * x).tanh()
    graph = draw(y, params=[w], collapse=None)
    # w is made outside any scope but only used in "unit": drawn there; x is the reader's input, outside
    unit = re.search(r"label=<unit>.*?\n(.*?)\n\t*\}", graph.source, flags=re.DOTALL)
    assert unit is not None and "<B>w</B>" in unit.group(1) and "<B>x</B>" not in unit.group(1)


# ---------------------------------------------------------------- collapsed layers


def test_layers_fold_into_boxes_in_natural_order_with_one_bundled_edge() -> None:
    layers = pytest.importorskip("valuegrad.nn.layers")
    model = layers.MLP(2, [16, 16, 1], rng=0)
    out = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])[0]
    out.backward()
    graph = draw(out, collapse=3)
    source = graph.source
    assert source.count("16×16 weights") == 1 and graph.edge_count == 4  # x0, x1, layer 0 → 1, layer 1 → 2
    chains = re.findall(r"\{rank=same; ([^\[]*) \[", source)
    assert len(chains) == 2
    box_label = dict(re.findall(r'^\t*(box\d+) \[id="box\d+" label=<<B>([^<]*)</B>', source, flags=re.MULTILINE))
    for chain in chains:
        names = [box_label[b] for b in chain.split(" -> ")][::-1]  # left to right lists the last box first
        assert names == [f"neuron {i}" for i in range(16)]
    svg = graph.svg()
    assert len(re.findall(r'class="edge"', svg)) == graph.edge_count


def test_neurons_and_their_weights_come_in_natural_order_top_down() -> None:
    layers = pytest.importorskip("valuegrad.nn.layers")
    model = layers.MLP(2, [4, 1], activation="tanh", rng=0)
    score = model([0.0, 1.0])[0]  # as notebook 9 draws it
    svg = draw(score, collapse=None, rankdir="LR").svg()
    heights: dict[str, list[float]] = {}
    for y, text in re.findall(r'<text[^>]*y="(-?[\d.]+)"[^>]*>([^<]+)</text>', svg):
        heights.setdefault(text, []).append(float(y))
    # SVG y grows downwards; the output layer has a "neuron 0" too
    assert min(heights["neuron 0"]) < heights["neuron 1"][0] < heights["neuron 2"][0] < heights["neuron 3"][0]
    assert heights["w0"][0] < heights["w1"][0] < heights["b"][0]  # in the first neuron


def test_named_inputs_stay_nodes_when_their_scope_is_folded() -> None:
    w = Value(0.7, label="w")
    h: Value | float = 0.0
    for t, x in enumerate([0.5, -1.0], start=1):
        with autograd.scope(f"t = {t}"):
            x_t = Value(x, label=f"x{t}")
            h = (w * h + x_t).tanh()
    assert isinstance(h, Value)
    source = draw(h, collapse=1, params=[w]).source
    assert source.count('shape="box3d"') == 2
    assert "<B>x1</B>" in source and "<B>x2</B>" in source


def test_a_long_chain_wraps_into_rows() -> None:
    z = Value(0.1, label="z")
    w = z
    for _ in range(60):
        w = w.sin()
    graph = draw(w, max_nodes=None)
    rows = int(re.search(r"wrapped into (\d+) rows", graph.source).group(1))  # type: ignore[union-attr]
    assert rows > 2
    assert graph.source.count('constraint="false"') == rows - 1  # one edge from each row to the next
    assert "wrapped" not in draw(w, max_nodes=None, rankdir="TB").source


@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_boxes_without_numbers_or_labels_still_render(rankdir: str) -> None:
    x = Value(1.0, label="x")
    y = (x * 2).tanh()
    graph = draw(y, rankdir=rankdir, show_data=False, show_grad=False)
    assert len(re.findall(r'class="node"', graph.svg())) == graph.node_count == 5


def test_an_explicit_collapse_none_over_the_limit_is_told_which_levels_fit() -> None:
    layers = pytest.importorskip("valuegrad.nn.layers")
    model = layers.MLP(2, [4, 4, 1], rng=0)
    out = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])[0]
    limit = draw(out, collapse=3).node_count
    with pytest.raises(ValueError) as caught:
        draw(out, collapse=None, max_nodes=limit)
    suggested = [int(level) for level in re.findall(r"collapse=(\d) draws", str(caught.value))]
    assert 3 in suggested and all(draw(out, collapse=level).node_count <= limit for level in suggested)
