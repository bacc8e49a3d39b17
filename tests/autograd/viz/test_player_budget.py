"""The player's budgets, checked before the work they guard: drawn nodes before any Structure is
built (a cheap walk, an honest lower bound), and the page's bytes before it is written."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuegrad import autograd
from valuegrad.autograd import Value, draw, draw_backward
from valuegrad.autograd.viz import draw as draw_module
from valuegrad.autograd.viz import structure as structure_module
from valuegrad.autograd.viz.draw import GraphTooLargeError
from valuegrad.autograd.viz.player import PLAYER_MAX_BYTES, PageTooLargeError, Walkthrough
from valuegrad.autograd.viz.structure import Structure, count_nodes


def _chain(steps: int) -> Value:
    """``tanh(0.999 · v)`` repeated: 2 drawn nodes a step, none in a scope."""
    v = Value(0.5, label="x")
    for _ in range(steps):
        v = (v * 0.999).tanh()
    return v


@pytest.fixture
def structures_built(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """A spy on Structure: every one built is recorded (and built as usual)."""
    built: list[object] = []
    real_init = Structure.__init__

    def spy(self: Structure, *args: object, **kwargs: object) -> None:
        built.append(self)
        real_init(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(structure_module.Structure, "__init__", spy)
    return built


def test_a_walk_over_max_nodes_is_refused_before_any_structure_is_built(structures_built: list[object]) -> None:
    root = _chain(2000)  # 4,001 values, 2 * 4,000 + 1 drawn nodes
    with pytest.raises(GraphTooLargeError) as caught:
        draw_backward(root, max_nodes=500)
    message = str(caught.value)
    assert "4001 values" in message and "at least 8001 nodes" in message and "max_nodes=500" in message
    assert "collapse" in message and "autograd.scope" in message and "max_nodes=8001" in message
    assert structures_built == []
    with pytest.raises(GraphTooLargeError):
        draw(root)  # draw shares the check
    assert structures_built == []


def test_the_same_walk_under_the_limit_builds_and_draws(structures_built: list[object]) -> None:
    root = _chain(20)
    walk = draw_backward(root, max_nodes=81)  # exactly what is drawn: 2 * 40 + 1
    assert structures_built and walk._structure.node_count == 81
    with pytest.raises(GraphTooLargeError, match="at least 81 nodes"):
        draw_backward(root, max_nodes=80)


def test_a_graph_that_only_fits_folded_is_not_refused_by_the_count(structures_built: list[object]) -> None:
    """Inside scopes every node may fold into a box: the count does not refuse, the exact one decides."""
    xs = [Value(float(i), label=f"x{i}") for i in range(3)]
    total = xs[0]
    for step in range(60):
        with autograd.scope(f"step {step}"):
            total = (total * xs[step % 3]).tanh()
    assert count_nodes(total, 1).at_least == 3 + 60  # the inputs, and a node (a box) per scope
    graph = draw(total, max_nodes=80)
    assert structures_built and graph.node_count <= 80 and "folded" in graph.source


def test_identities_and_zero_starts_are_not_counted_as_drawn() -> None:
    x = Value(1.0, label="x")
    y = x
    for _ in range(100):
        y = y + 0.0  # drawn as x itself
    total = 0.0 * x  # a zero start, folded away
    total = total + y * 2.0
    exact = Structure(total, None).node_count
    assert count_nodes(total, 1).at_least <= exact == draw(total, max_nodes=exact).node_count


# Random graphs over the ops the folding rules look at; the count is never more than what is drawn.
OPS = ("add", "mul", "add0", "mul1", "div1", "mul0", "zero_start", "tanh", "sum1", "sum", "pow")


def _make(op: str, a: Value, b: Value) -> Value:
    if op in ("add", "mul", "pow", "tanh"):
        return a + b if op == "add" else a * b if op == "mul" else a**2 if op == "pow" else a.tanh()
    if op in ("add0", "mul1", "div1", "mul0"):
        return a + 0.0 if op == "add0" else a * 1.0 if op == "mul1" else a / 1.0 if op == "div1" else a * 0.0
    if op == "zero_start":
        return (0.0 * a) + b
    return autograd.sum([a]) if op == "sum1" else autograd.sum([a, b, a * 0.0])


@st.composite
def graphs(draw_: st.DrawFn) -> tuple[Value, frozenset[Value]]:
    """Blocks of ops, each outside any scope or inside one (shared by the block), each op maybe in a scope of its own
    inside that."""
    pool = [Value(float(i) - 1.0, label=draw_(st.sampled_from([None, f"x{i}"]))) for i in range(3)]
    params = frozenset(draw_(st.sets(st.sampled_from(pool))))
    for _ in range(draw_(st.integers(1, 6))):
        ops = draw_(st.lists(st.sampled_from(OPS), min_size=1, max_size=6))
        where = draw_(st.sampled_from([None, "a", "b"]))
        with contextlib.ExitStack() as block:
            if where is not None:
                block.enter_context(autograd.scope(where))
            for op in ops:
                a = pool[-1] if draw_(st.booleans()) else draw_(st.sampled_from(pool))  # chains: one use each
                with autograd.scope("inner") if draw_(st.booleans()) else contextlib.nullcontext():
                    pool.append(_make(op, a, draw_(st.sampled_from(pool))))
    return pool[-1], params


@settings(max_examples=300)  # a few milliseconds each
@given(graphs())
def test_the_count_is_a_lower_bound_at_every_collapse_level(graph: tuple[Value, frozenset[Value]]) -> None:
    root, params = graph
    bound = count_nodes(root, 1, params)
    depth = Structure(root, None, params).depth
    for level in [None, *range(1, depth + 1)]:
        assert bound.at_least <= Structure(root, level, params).node_count
    everything = count_nodes(root, None, params).at_least
    assert bound.at_least <= everything <= Structure(root, None, params).node_count


def test_a_parameter_used_only_inside_a_scope_is_not_counted() -> None:
    """It is drawn inside the box of its uses; an identity chain is drawn as its input."""
    w, x = Value(2.0, label="w"), Value(3.0, label="x")
    with autograd.scope("layer"):
        y = (w * x).tanh()
    z = ((y * 1.0) / 1.0).exp()
    bound = count_nodes(z, 1, frozenset({w}))
    assert bound.values == 7 and bound.at_least == 4  # x, exp and its op, and the scope's one box
    assert Structure(z, 1, frozenset({w})).node_count == 4  # x, the box, exp and its op


def test_the_pre_check_sits_in_prepare_before_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    """No fitting (and so no layout) when the count refuses."""
    monkeypatch.setattr(draw_module, "choose", lambda *args: pytest.fail("fitting ran"))
    with pytest.raises(GraphTooLargeError):
        draw_backward(_chain(400))


# ---------------------------------------------------------------- the page's bytes


def _small_walk(**options: object) -> Walkthrough:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    y = (w * x + b).tanh()
    y.label = "y"
    return draw_backward(y, **options)  # type: ignore[arg-type]


def test_a_page_of_exactly_max_bytes_is_written_and_one_byte_less_is_refused(tmp_path: Path) -> None:
    size = len(_small_walk(max_bytes=None).html().encode("utf-8"))
    assert _small_walk().max_bytes == PLAYER_MAX_BYTES and size < PLAYER_MAX_BYTES
    page = _small_walk(max_bytes=size).save(tmp_path / "fits.html")
    assert Path(page).stat().st_size == size  # type: ignore[arg-type]
    with pytest.raises(PageTooLargeError) as caught:
        _small_walk(max_bytes=size - 1).save(tmp_path / "over.html")
    message = str(caught.value)
    assert f"is {size} bytes" in message and f"max_bytes={size - 1}" in message
    for advice in ("collapse=1", "skip_leaves=True", "max_nodes", "max_bytes=None"):
        assert advice in message
    assert not (tmp_path / "over.html").exists()


def test_a_page_over_budget_stops_at_the_frame_that_crosses_it(monkeypatch: pytest.MonkeyPatch) -> None:
    full = _small_walk(max_bytes=None)
    size = len(full.html().encode("utf-8"))
    built: list[int] = []
    real_cells = Walkthrough._cells
    monkeypatch.setattr(Walkthrough, "_cells", lambda self, adjoints: built.append(1) or real_cells(self, adjoints))
    walk = _small_walk(max_bytes=size // 2)  # the drawing alone is most of the page
    walk.template()
    with pytest.raises(PageTooLargeError, match=r"at least \d+ bytes \(the drawing and frames 0 to \d+ of"):
        walk.html()
    assert 0 < len(built) < len(walk.frames)  # stopped before every frame was built


def test_captions_over_budget_are_refused_before_the_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Walkthrough, "template", lambda self: pytest.fail("laid out"))
    walk = _small_walk(max_bytes=200)
    with pytest.raises(PageTooLargeError, match=r"captions and hover texts alone"):
        walk.html()


@pytest.mark.parametrize("bad", [0, -5, 2.5, True, "4MB"])
def test_max_bytes_must_be_a_positive_int_or_none(bad: object) -> None:
    with pytest.raises((TypeError, ValueError), match="max_bytes"):
        _small_walk(max_bytes=bad)


# ---------------------------------------------------------------- the reproducers of issue 22


def test_a_walk_of_about_2500_nodes_is_refused_before_building_or_before_the_layout(
    structures_built: list[object], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Issue 22: "A walk of about 2,500 nodes takes 34 s and writes 4.5 MB"."""
    xs = [Value(float(i % 7) / 7) for i in range(500)]
    y = xs[0]
    for x in xs[1:]:
        y = y * 0.5 + x  # 2,496 drawn nodes
    with pytest.raises(GraphTooLargeError, match="at least 2496 nodes"):
        draw_backward(y)
    assert structures_built == []
    monkeypatch.setattr(draw_module.Graph, "svg", lambda self: pytest.fail("laid out"))
    walk = draw_backward(y, max_nodes=None)  # the numbers need no picture
    with pytest.raises(GraphTooLargeError, match="through 2496 drawn nodes"):
        walk.save(tmp_path / "walk.html")
    assert list(tmp_path.iterdir()) == []


def test_a_250000_node_drawing_is_refused_before_any_structure_is_built(structures_built: list[object]) -> None:
    """Issue 22: "Refusing a 250,000-node drawing takes 17-26 s" (benchmarks/player_budget.py times it)."""
    root = _chain(125_000)
    for drawing in (draw, draw_backward):
        with pytest.raises(GraphTooLargeError, match=r"250001 values.* at least 500001 nodes"):
            drawing(root)
    assert structures_built == []
