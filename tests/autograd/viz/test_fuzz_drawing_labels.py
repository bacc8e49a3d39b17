"""Fuzzing drawings with hostile labels: a label can change what a box says, never the graph.

Each example builds one random graph twice: once with hostile labels (quotes, markup, DOT
keywords, braces, newlines, NUL, surrogates, very long text) and once with plain labels.
Graphviz's own reading of the DOT text (``-Tjson``) must find the same nodes, edges and
attributes in both (only label text may differ), as many as the graph has; the SVG must
parse and hold no script. The checks are on structure, never on the exact DOT text, so
they hold whatever the drawing's layout becomes.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from valuegrad.autograd import Value, draw
from valuegrad.autograd.viz.render import run_dot

HOSTILE_FRAGMENTS = [
    *['"', "'", "<", ">", "&", "{", "}", "|", "\n", "\r", "\r\n", "\t", "\\", "\\N", "\\G", "\\l", "\\\\", ";", "="],
    *["];", '"];', "> ]", "[color=red]", 'x [label="pwned"]', "n0 -> n1", "}", "}}}}", "digraph", "node", "edge"],
    *["subgraph cluster_x {", "strict", "graph [bgcolor=red]", "label=<", "<<b>", "</td></tr></table>", "<br/>"],
    *["<!--", "-->", "<![CDATA[", "]]>", "&amp;", "&#0;", "&#x41;", "&lt;", "&bogus;", "<script>alert(1)</script>"],
    *["<svg onload=alert(1)>", "<img src=x onerror=alert(1)>", "<TABLE>", "<FONT COLOR='red'>", "%s", "\x00"],
    *["\x1b[31m", "\x7f", "\ud800", "\udfff", "\ufffe", "\uffff", "\u2028", "\u202e", "\u200b", "𝑥", "😀", "ﬁ"],
]
ANY_CHARACTERS = st.text(st.characters(exclude_categories=()), max_size=6)  # surrogates included
LABELS = st.one_of(
    st.none(),
    st.lists(st.one_of(st.sampled_from(HOSTILE_FRAGMENTS), ANY_CHARACTERS), max_size=10).map("".join),
    st.text(st.characters(exclude_categories=()), min_size=150, max_size=2000),  # long: elided
    st.sampled_from(HOSTILE_FRAGMENTS),
)


@dataclass(frozen=True)
class Plan:
    """A graph to build: ``leaves`` inputs, then ``steps`` of (op, first input, second input)."""

    leaves: int
    steps: tuple[tuple[str, int, int], ...]

    @property
    def size(self) -> int:
        return self.leaves + len(self.steps)


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    leaves = draw(st.integers(1, 4))
    steps = []
    for made in range(leaves, leaves + draw(st.integers(0, 5))):
        op = draw(st.sampled_from(["+", "*", "tanh"]))
        steps.append((op, draw(st.integers(0, made - 1)), draw(st.integers(0, made - 1))))
    return Plan(leaves, tuple(steps))


def build(plan: Plan, labels: list[str | None]) -> Value:
    values = [Value(0.5 + i, label=labels[i]) for i in range(plan.leaves)]
    for op, first, second in plan.steps:
        a, b = values[first], values[second]
        made = a + b if op == "+" else a * b if op == "*" else a.tanh()
        made.label = labels[len(values)]
        values.append(made)
    values[-1].backward()
    return values[-1]


def expected_counts(root: Value) -> tuple[int, int]:
    """Drawn nodes and edges, counted independently: a box per value, an oval per op, an edge per input."""
    seen: set[int] = set()
    stack, nodes, edges = [root], 0, 0
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        nodes += 1
        if v.parents:
            nodes += 1  # its op
            edges += len(v.parents) + 1  # inputs into the op, the op into the value
            stack.extend(v.parents)
    return nodes, edges


LAYOUT_KEYS = frozenset(
    {"pos", "width", "height", "bb", "lp", "xlp", "head_lp", "tail_lp", "lwidth", "lheight", "label"}
    | {"_draw_", "_ldraw_", "_hdraw_", "_tdraw_", "_hldraw_", "_tldraw_"}
)


def graphviz_reading(source: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The nodes and edges Graphviz itself finds in ``source``, without layout or label text."""
    document = json.loads(run_dot(source, "json").decode("utf-8"))
    strip = lambda item: {k: v for k, v in item.items() if k not in LAYOUT_KEYS}
    return [strip(o) for o in document.get("objects", [])], [strip(e) for e in document.get("edges", [])]


SVG = "{http://www.w3.org/2000/svg}"


def check_svg(svg: str, nodes: int, edges: int) -> None:
    root = ElementTree.fromstring(svg)
    groups = [g.get("class") for g in root.iter(f"{SVG}g")]
    assert (groups.count("node"), groups.count("edge")) == (nodes, edges)
    for element in root.iter():
        tag = element.tag.rpartition("}")[2]
        assert tag not in ("script", "foreignObject", "iframe", "img"), tag
        assert not any(name.lower().startswith("on") for name in element.attrib), element.attrib


@given(plan=plans(), data=st.data())
def test_hostile_labels_never_change_the_graph(plan: Plan, data: st.DataObject) -> None:
    labels = data.draw(st.lists(LABELS, min_size=plan.size, max_size=plan.size))
    plain = [None if label is None else f"v{i}" for i, label in enumerate(labels)]
    hostile, reference = build(plan, labels), build(plan, plain)
    nodes, edges = expected_counts(hostile)

    for edge_labels in (False, True):
        picture = draw(hostile, edge_labels=edge_labels)
        assert (picture.node_count, picture.edge_count) == (nodes, edges)
        found_nodes, found_edges = graphviz_reading(picture.source)
        assert (len(found_nodes), len(found_edges)) == (nodes, edges)
        # Same names, shapes, colours and endpoints as with plain labels: nothing was injected.
        assert (found_nodes, found_edges) == graphviz_reading(draw(reference, edge_labels=edge_labels).source)
    check_svg(draw(hostile).svg(), nodes, edges)


def test_the_structural_check_sees_an_injected_attribute() -> None:
    """The comparison is not blind: DOT text with one extra attribute or node reads differently."""
    picture = draw(Value(1.0, label="x") * 2)
    source = picture.source
    nodes, _ = graphviz_reading(source)
    body = source.rstrip().removesuffix("}")
    injected = body + f"\t{nodes[0]['name']} [color=red]\n}}\n"
    assert graphviz_reading(injected) != (nodes, graphviz_reading(source)[1])
    assert len(graphviz_reading(body + "\tevil\n}\n")[0]) == len(nodes) + 1
