"""The DOT text of drawings with nested clusters, bundled edges, wrapped rows, a focus and edge labels.

The text is read back into its clusters, node statements and edges, and checked against the
``Structure`` it was written from: every node once, in the cluster of its place; clusters nested
and numbered in the order they open; edges numbered after them, bundles naming clusters that hold
their ends; row-crossing edges unconstrained; the declaration order a renderer needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

import valuegrad.autograd.viz.dot_writer as dot_writer
import valuegrad.nn as nn
from valuegrad import autograd
from valuegrad.autograd import Value, local_derivatives
from valuegrad.autograd.viz.dot_writer import HIGHLIGHT, DotDrawing, DrawOptions, dot_text
from valuegrad.autograd.viz.structure import Structure
from valuegrad.autograd.viz.text import format_number

NODE = re.compile(r"^((?:v|op|box)\d+) \[")
EDGE = re.compile(r"^(\S+) -> (\S+) \[id=\"e(\d+)\"(.*)\]$")


@dataclass
class Cluster:
    name: str | None  # cluster_k; None for the graph itself
    path: tuple[str, ...]  # the labels from the outermost cluster in
    lines: list[str] = field(default_factory=list)  # its own statements, in order
    children: list[Cluster] = field(default_factory=list)


@dataclass
class Parsed:
    header: list[str]
    root: Cluster
    clusters: dict[str, Cluster]  # by name, in the order they open
    edges: list[tuple[str, str, int, str]]  # source, target, k, attributes


def parse(source: str) -> Parsed:
    """Read DOT text written by dot_text: tabs give the nesting, every line is one statement."""
    lines = source.split("\n")
    assert lines[0] == "digraph valuegrad {" and lines[-2:] == ["}", ""]
    root = Cluster(None, ())
    stack = [root]
    clusters: dict[str, Cluster] = {}
    header: list[str] = []
    edges: list[tuple[str, str, int, str]] = []
    for line in lines[1:-2]:
        depth = len(line) - len(line.lstrip("\t"))
        text = line.lstrip("\t")
        opening = re.fullmatch(r"subgraph (cluster_\d+) \{", text)
        if opening:
            assert depth == len(stack) and not edges
            cluster = Cluster(opening.group(1), ())
            stack[-1].children.append(cluster)
            clusters[cluster.name or ""] = cluster
            stack.append(cluster)
            continue
        if text == "}":
            assert depth == len(stack) - 1 and len(stack) > 1
            stack.pop()
            continue
        assert depth == len(stack), line
        edge = EDGE.match(text)
        if edge:
            assert len(stack) == 1, "edges are written at the top, after every cluster"
            edges.append((edge.group(1), edge.group(2), int(edge.group(3)), edge.group(4)))
        elif (
            len(stack) == 1
            and not root.lines
            and not root.children
            and text.startswith(("graph [", "node [", "edge ["))
        ):
            header.append(text)
        else:
            assert not edges
            stack[-1].lines.append(text)
    assert len(stack) == 1
    for cluster in clusters.values():
        label = re.match(r'graph \[id="cluster(\d+)" label=<([^>]*)>', cluster.lines[0])
        assert label is not None and f"cluster_{label.group(1)}" == cluster.name, cluster.lines[0]
    _set_paths(root)
    return Parsed(header, root, clusters, edges)


def _set_paths(cluster: Cluster) -> None:
    for child in cluster.children:
        label = re.match(r'graph \[id="cluster\d+" label=<([^>]*)>', child.lines[0])
        assert label is not None
        child.path = (*cluster.path, label.group(1))
        _set_paths(child)


def nodes_by_cluster(parsed: Parsed) -> dict[str, Cluster]:
    found: dict[str, Cluster] = {}
    for cluster in [parsed.root, *parsed.clusters.values()]:
        for line in cluster.lines:
            match = NODE.match(line)
            if match:
                assert match.group(1) not in found, f"{match.group(1)} declared twice"
                found[match.group(1)] = cluster
    return found


def by_path(edges: list[tuple[str, str, int, str]], parsed: Parsed) -> list[tuple[str, str, int, str]]:
    """The edges with each cluster name (``cluster_3``) replaced by that cluster's path of labels."""

    def path(match: re.Match[str]) -> str:
        return "/".join(parsed.clusters[match.group(0)].path)

    return [(a, b, k, re.sub(r"cluster_\d+", path, attributes)) for a, b, k, attributes in edges]


def labels(steps: Any) -> tuple[str, ...]:
    return tuple(label for _, label in steps)


# ------------------------------------------------------------------ the drawings


def scoped_mlp(sizes: list[int]) -> Value:
    model = nn.MLP(2, sizes, activation="tanh", rng=0)
    out = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])[0]
    out.backward()
    return out


def rnn(steps: int) -> Value:
    w, u, b = Value(0.7, label="w"), Value(-0.4, label="u"), Value(0.1, label="b")
    h: Value | float = 0.0
    for t in range(1, steps + 1):
        with autograd.scope(f"t = {t}"):
            h = (w * h + u * Value(0.3 * t, label=f"x{t}") + b).tanh()
    assert isinstance(h, Value)
    h.backward()
    return h


CASES = {
    # name: (root, collapse, options)
    "mlp, every node, wrapped": (lambda: scoped_mlp([3, 2, 1]), None, DrawOptions(rankdir="LR", wrap=3)),
    "mlp, every node, top down, edge labels": (
        lambda: scoped_mlp([3, 2, 1]),
        None,
        DrawOptions(rankdir="TB", edge_labels=True),
    ),
    "mlp, neurons folded, bundled": (lambda: scoped_mlp([16, 16, 1]), 3, DrawOptions(rankdir="LR")),
    "mlp, neurons folded, bundled, wrapped": (
        lambda: scoped_mlp([6, 6, 1]),
        3,
        DrawOptions(rankdir="LR", wrap=2, edge_labels=True),
    ),
    "mlp, layers folded, right to left": (lambda: scoped_mlp([4, 4, 1]), 2, DrawOptions(rankdir="RL")),
    "rnn, every node, wrapped, edge labels": (lambda: rnn(4), None, DrawOptions(wrap=4, edge_labels=True)),
    "rnn, steps folded": (lambda: rnn(3), 1, DrawOptions(rankdir="BT", show_data=False)),
}


def write(structure: Structure, options: DrawOptions, follow: bool, **kwargs: Any) -> DotDrawing:
    """dot_text as under a renderer that lists a left-to-right rank in declaration order (``follow``) or not."""
    original = dot_writer.lr_ranks_follow_declaration
    dot_writer.lr_ranks_follow_declaration = lambda *a: follow  # type: ignore[assignment]
    try:
        return dot_text(structure, options, **kwargs)
    finally:
        dot_writer.lr_ranks_follow_declaration = original


def drawing(name: str, follow: bool) -> tuple[Structure, DrawOptions, DotDrawing]:
    make, collapse, options = CASES[name]
    structure = Structure(make(), collapse)
    return structure, options, write(structure, options, follow)


@pytest.fixture(params=[True, False], ids=["declared order", "reversed order"])
def follow(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


# ------------------------------------------------------------------ the checks


@pytest.mark.parametrize("name", CASES)
def test_every_node_is_declared_once_in_the_cluster_of_its_place(name: str, follow: bool) -> None:
    s, _, d = drawing(name, follow)
    parsed = parse(d.source)
    where = nodes_by_cluster(parsed)
    expected = {f"v{n}" for n in range(len(s.values))} | {f"op{n}" for n, v in enumerate(s.values) if v.parents}
    expected |= {box.id for box in s.boxes.values()}
    assert set(where) == expected
    assert d.node_count == len(expected) == s.node_count
    for n, v in enumerate(s.values):
        assert where[f"v{n}"].path == labels(s.place[v])
        if v.parents:
            assert where[f"op{n}"] is where[f"v{n}"]
    for box in s.boxes.values():
        assert where[box.id].path == labels(box.steps[:-1])
    assert sorted(parsed.clusters) == sorted(f"cluster_{k}" for k in range(len(parsed.clusters)))
    assert list(parsed.clusters) == [f"cluster_{k}" for k in range(len(parsed.clusters))]  # numbered as opened


@pytest.mark.parametrize("name", CASES)
def test_clusters_come_in_the_order_the_drawn_values_first_reach_them(name: str) -> None:
    """Layer 0 before layer 1, neuron 0 before neuron 1: in declaration order for a renderer
    that keeps it (and top down), in reverse at every level for one that reverses LR ranks."""
    s, options, declared = drawing(name, True)
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {(): []}
    for v in s.drawn:
        box = s.box_of.get(v)
        steps = labels(box.steps[:-1] if box is not None else s.place[v])
        for depth in range(1, len(steps) + 1):
            if steps[:depth] not in children:
                children[steps[:depth]] = []
                children[steps[: depth - 1]].append(steps[:depth])

    def check(cluster: Cluster, backwards: bool) -> None:
        expected = children[cluster.path][::-1] if backwards else children[cluster.path]
        assert [c.path for c in cluster.children] == expected
        for child in cluster.children:
            check(child, backwards)

    check(parse(declared.source).root, False)
    reversed_ = write(s, options, False)
    check(parse(reversed_.source).root, options.rankdir in ("LR", "RL"))


@pytest.mark.parametrize("name", CASES)
def test_an_op_sits_next_to_its_value_in_the_declared_order(name: str, follow: bool) -> None:
    s, options, d = drawing(name, follow)
    parsed = parse(d.source)
    where = nodes_by_cluster(parsed)
    stacked = options.rankdir in ("LR", "RL")
    reversed_here = stacked and len(parsed.clusters) > 0 and not follow
    for n, v in enumerate(s.values):
        if not v.parents:
            continue
        cluster = where[f"v{n}"]
        names = [m.group(1) for m in map(NODE.match, cluster.lines) if m]
        step = -1 if reversed_here and cluster.name is not None else 1
        assert names.index(f"v{n}") - names.index(f"op{n}") == step


@pytest.mark.parametrize("name", CASES)
def test_edges_are_numbered_in_order_and_join_declared_nodes(name: str, follow: bool) -> None:
    _, _, d = drawing(name, follow)
    parsed = parse(d.source)
    where = nodes_by_cluster(parsed)
    assert [k for _, _, k, _ in parsed.edges] == list(range(d.edge_count))
    for source, target, _, attributes in parsed.edges:
        assert source in where and target in where
        for key, end in (("ltail", source), ("lhead", target)):
            named = re.search(rf'{key}="(cluster_\d+)"', attributes)
            if named:  # a bundle: the cluster it names holds that end
                cluster = parsed.clusters[named.group(1)]
                assert where[end].path[: len(cluster.path)] == cluster.path
                assert 'penwidth="2"' in attributes and re.search(r"label=<\d+(×\d+)? (weights|edges)>", attributes)


def test_a_folded_dense_layer_pair_is_one_bundle_between_clusters() -> None:
    _, _, d = drawing("mlp, neurons folded, bundled", True)
    parsed = parse(d.source)
    bundles = [e for e in parsed.edges if "ltail" in e[3] and "lhead" in e[3]]
    assert len(bundles) == 1 and "label=<16×16 weights>" in bundles[0][3]
    chains = [line for c in parsed.clusters.values() for line in c.lines if line.startswith("{rank=same;")]
    assert len(chains) == 2
    for cluster in parsed.clusters.values():
        if any(line.startswith("{rank=same;") for line in cluster.lines):
            assert cluster.lines[-1].startswith("{rank=same;")  # after the boxes it orders


@pytest.mark.parametrize("name", [n for n, (_, _, o) in CASES.items() if o.wrap])
def test_exactly_the_edges_between_rows_are_unconstrained(name: str, follow: bool) -> None:
    s, options, d = drawing(name, follow)
    row = {node: r // options.wrap for node, r in s.ranks().items()}
    parsed = parse(d.source)
    crossing = [row.get(a, 0) != row.get(b, 0) for a, b, _, _ in parsed.edges]
    assert any(crossing)
    assert ['constraint="false"' in attributes for _, _, _, attributes in parsed.edges] == crossing


@pytest.mark.parametrize("name", [n for n, (_, _, o) in CASES.items() if o.edge_labels])
def test_edge_labels_are_the_local_derivatives_in_argument_order(name: str) -> None:
    s, options, d = drawing(name, True)
    parsed = parse(d.source)
    for n, v in enumerate(s.values):
        if not v.parents:
            continue
        heads = [re.search(r"headlabel=<([^>]*)>", a) for _, target, _, a in parsed.edges if target == f"op{n}"]
        derivatives = local_derivatives(v)
        assert [h.group(1) if h else None for h in heads] == [
            format_number(derivatives[i], options.precision) for i in s.arguments[v]
        ]


@pytest.mark.parametrize("name", CASES)
def test_the_focus_is_outlined_with_its_op_and_the_edges_into_it(name: str) -> None:
    s, options, _ = drawing(name, True)
    computed = [(n, v) for n, v in enumerate(s.values) if v.parents]
    if computed:
        n, focus = computed[-1]
        outlined = {"v0", f"v{n}", f"op{n}"}
    else:  # everything computed is folded: the box holding the focus is outlined
        box = next(iter(s.boxes.values()))
        focus, outlined = box.members[-1], {"v0", box.id}
    d = write(s, options, True, focus=focus, highlight=[s.values[0]], caption="a <caption>", note="a & note")
    parsed = parse(d.source)
    highlighted = [target for _, target, _, a in parsed.edges if f'color="{HIGHLIGHT}" penwidth="2"' in a]
    assert highlighted == ([f"op{n}"] * len(s.arguments[focus]) if computed else [])
    statements = {
        m.group(1): line
        for c in [parsed.root, *parsed.clusters.values()]
        for line in c.lines
        if (m := NODE.match(line))
    }
    assert {k for k, line in statements.items() if HIGHLIGHT in line} == outlined
    assert f'BORDER="3" COLOR="{HIGHLIGHT}"' in statements["v0"]
    if computed:
        assert f'BORDER="3" COLOR="{HIGHLIGHT}"' in statements[f"v{n}"] and 'penwidth="3"' in statements[f"op{n}"]
    assert "a &lt;caption&gt;" in parsed.header[-1] and "a &amp; note" in parsed.header[-1]


@pytest.mark.parametrize("name", CASES)
def test_the_header_sets_the_direction_and_the_legend_comes_last(name: str) -> None:
    s, options, d = drawing(name, True)
    header = parse(d.source).header
    assert header[0].startswith(f'graph [id="graph" rankdir={options.rankdir} ')
    assert f'ranksep="{0.55 if options.edge_labels else 0.22}"' in header[0]
    assert header[1].startswith("node [") and header[2].startswith("edge [")
    assert len(header) == 4 and header[3].startswith("graph [label=<") and 'labelloc="t"' in header[3]
    assert ("folded part" in header[3]) == bool(s.boxes)
    quiet = dot_text(s, DrawOptions(rankdir=options.rankdir, legend=False, wrap=options.wrap))
    assert len(parse(quiet.source).header) == 3


@pytest.mark.parametrize("name", [n for n, (_, _, o) in CASES.items() if o.rankdir in ("LR", "RL")])
def test_left_to_right_a_renderer_that_reverses_ranks_gets_every_cluster_reversed(name: str) -> None:
    """The two declaration orders hold the same statements; inside clusters (not at the top) the
    nodes, and at every level the child clusters, come in the opposite order."""
    _, _, declared = drawing(name, True)
    _, _, reversed_ = drawing(name, False)
    a, b = parse(declared.source), parse(reversed_.source)
    assert a.header == b.header and a.root.lines == b.root.lines
    assert by_path(a.edges, a) == by_path(b.edges, b)  # clusters are numbered as written, so compare paths

    def walk(x: Cluster, y: Cluster) -> None:
        assert x.path == y.path
        if x.name is not None:
            nodes_x = [line for line in x.lines[1:] if not line.startswith("{rank=same;")]
            nodes_y = [line for line in y.lines[1:] if not line.startswith("{rank=same;")]
            assert nodes_x == nodes_y[::-1]
            assert [line for line in x.lines if line.startswith("{rank=same;")] == [
                line for line in y.lines if line.startswith("{rank=same;")
            ]
        assert [c.path for c in x.children] == [c.path for c in y.children][::-1]
        for cx, cy in zip(x.children, y.children[::-1]):
            walk(cx, cy)

    assert a.clusters  # these drawings have clusters to reverse
    walk(a.root, b.root)


def test_top_down_the_declaration_order_does_not_depend_on_the_renderer() -> None:
    for name in (n for n, (_, _, o) in CASES.items() if o.rankdir in ("TB", "BT")):
        assert drawing(name, True)[2].source == drawing(name, False)[2].source
