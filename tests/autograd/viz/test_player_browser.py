"""The saved player and graph pages in a real browser: Playwright driving Debian's chromium.

Playwright's own browser download cannot be reached here, so the system ``chromium`` is
launched through ``executable_path``. Without chromium or playwright these tests skip and
say why (``.ci/run`` installs chromium with apt when it is missing).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from valuegrad.autograd import Value, draw, draw_backward, local_derivatives
from valuegrad.autograd.viz.draw import format_number
from valuegrad.autograd.viz.player import Walkthrough
from valuegrad.autograd.viz.player_text import signed
from valuegrad.autograd.viz.svg_slots import grad_text_id


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page that records every request and every JavaScript error or dialog."""
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    opened.requests = []
    opened.errors = []
    opened.on("request", lambda request: opened.requests.append(request.url))
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    opened.on("dialog", lambda dialog: (opened.errors.append("dialog: " + dialog.message), dialog.dismiss()))
    yield opened
    context.close()


def neuron() -> Value:
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    o = (x1 * w1 + x2 * w2 + b).tanh()
    o.label = "o"
    return o


def value_ids(walk: Walkthrough) -> dict[Value, str]:
    """The drawn node id of every value drawn in a box of its own."""
    return {v: f"v{n}" for n, v in enumerate(walk._structure.values)}


def grad_cells(page: Any) -> dict[str, str]:
    texts: dict[str, str] = page.eval_on_selector_all(
        "text.grad-text", "els => Object.fromEntries(els.map(e => [e.id, e.textContent]))"
    )
    return texts


def only_local_requests(page: Any) -> None:
    assert page.requests, "the page should at least have been loaded"
    assert all(url.startswith(("file:", "data:")) for url in page.requests), page.requests


def test_clicking_through_every_frame_shows_the_engines_adjoints(page: Any, tmp_path: Path) -> None:
    root = neuron()
    walk = draw_backward(root)
    ids = value_ids(walk)
    path = walk.save(tmp_path / "walk.html")
    assert isinstance(path, Path)
    page.goto(path.as_uri())
    root.backward()  # the engine's adjoints, computed independently of the player
    for k, frame in enumerate(walk):
        if k:
            page.click("#next")
        assert page.text_content("#caption") == frame.caption
        assert page.text_content("#counter") == f"{k + 1} / {len(walk)}"
        shown = grad_cells(page)
        assert len({len(text) for text in shown.values()}) == 1  # one fixed width: nothing moves
        for v, key in ids.items():
            expected = "?" if v not in frame.adjoints else format_number(frame.adjoints[v], 4)
            assert shown[grad_text_id(key)].strip() == expected, (k, v)
        # the node just processed holds the engine's final adjoint; each new adjoint ends a caption line
        assert shown[grad_text_id(ids[frame.node])].strip() == format_number(frame.node.grad, 4)
        for term, line in zip(frame.contributions, frame.caption.splitlines()[1:]):
            assert line.endswith("= " + signed(term.after, 4))
        changed = page.eval_on_selector_all("g.changed", "els => els.map(e => e.id).sort()")
        assert changed == sorted({ids[t.parent] for t in frame.contributions})
    assert all(shown[grad_text_id(key)].strip() == format_number(v.grad, 4) for v, key in ids.items())
    page.click("#next")  # past the end: stays on the last frame
    assert page.text_content("#counter") == f"{len(walk)} / {len(walk)}"
    page.keyboard.press("ArrowLeft")
    assert page.text_content("#caption") == walk[-2].caption
    page.click("#previous")
    page.keyboard.press("ArrowRight")
    assert page.text_content("#caption") == walk[-2].caption
    page.screenshot(path=str(tmp_path / "walk.png"), full_page=True)
    only_local_requests(page)
    assert page.errors == []


def test_play_steps_forward_on_its_own(page: Any, tmp_path: Path) -> None:
    walk = draw_backward(neuron(), skip_leaves=True)
    path = walk.save(tmp_path / "walk.html")
    assert isinstance(path, Path)
    page.goto(path.as_uri())
    page.click("#play")
    assert page.text_content("#play") == "Pause"
    page.wait_for_function("document.getElementById('counter').textContent.startsWith('2 /')")
    assert page.text_content("#caption") == walk[1].caption
    page.click("#play")
    assert page.text_content("#play") == "Play"
    assert page.errors == []


def test_hovering_a_node_shows_its_data_grad_and_local_derivatives(page: Any, tmp_path: Path) -> None:
    root = neuron()
    walk = draw_backward(root)
    path = walk.save(tmp_path / "walk.html")
    assert isinstance(path, Path)
    page.goto(path.as_uri())
    assert page.is_hidden("#tooltip")
    o_key = value_ids(walk)[root]
    page.hover(f"#{o_key}")
    tip = page.text_content("#tooltip")
    assert page.is_visible("#tooltip")
    (slope,) = local_derivatives(root)
    n = walk._names[root.parents[0]]  # the sum, unnamed: named by its operation, and drawn so
    assert n == "add_1" and f">{n}<" in walk[0].svg()
    lines = ["o", f"data {root.data:.4f}", "made by tanh", f"∂o/∂{n} = {slope:.4f}", "grad(o) = 1.0000"]
    assert tip.splitlines() == lines  # at the drawing's precision, in the captions' notation
    page.hover(f"#op{o_key[1:]}")
    assert page.text_content("#tooltip").splitlines() == ["tanh → o", f"∂o/∂{n} = {slope:.4f}"]
    only_local_requests(page)


def test_the_static_graph_page_hovers_zooms_and_pans(page: Any, tmp_path: Path) -> None:
    root = neuron()
    root.backward()
    path = tmp_path / "graph.html"
    draw(root, edge_labels=True).save(path)
    page.goto(path.as_uri())
    x1 = next(v for v in _values(root) if v.label == "x1")
    page.hover(f"#{draw(root).drawing.node_of[x1]}")
    assert page.text_content("#tooltip").splitlines()[:3] == ["x1", "data 2.0000", f"grad(x1) = {signed(x1.grad, 4)}"]
    view_box = "() => { const b = document.getElementById('drawing').viewBox.baseVal; return [b.x, b.y, b.width] }"
    before = page.evaluate(view_box)
    page.mouse.wheel(0, -300)
    zoomed = page.evaluate(view_box)
    assert zoomed[2] < before[2]  # zoomed in
    box = page.locator("#drawing").bounding_box()
    page.mouse.move(box["x"] + 200, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 300, box["y"] + 40)
    page.mouse.up()
    assert page.evaluate(view_box)[0] < zoomed[0]  # dragged right: the view moved left
    page.screenshot(path=str(tmp_path / "graph.png"))
    only_local_requests(page)
    assert page.errors == []


def _values(root: Value) -> list[Value]:
    from valuegrad.autograd import topological_order

    return topological_order(root)


def test_hostile_labels_stay_text_in_the_browser(page: Any, tmp_path: Path) -> None:
    a = Value(1.0, label='</script><script>alert("x")</script><!--')
    y = a * Value(2.0, label="<img src=x onerror=alert(1)>")
    y.label = "]]><svg onload=alert(2)>"
    walk = draw_backward(y)
    path = walk.save(tmp_path / "walk.html")
    assert isinstance(path, Path)
    page.goto(path.as_uri())
    page.click("#next")
    assert page.evaluate("document.scripts.length") == 2
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.querySelectorAll('svg').length") == 1
    assert page.text_content("#caption") == walk[1].caption
    assert page.errors == []
    only_local_requests(page)


def test_the_notebook_player_works_inside_its_iframe(page: Any) -> None:
    walk: Walkthrough = draw_backward(neuron(), skip_leaves=True)
    page.set_content(walk._repr_html_())
    player = page.frame_locator("iframe")
    assert player.locator("#caption").text_content() == walk[0].caption
    player.locator("#next").click()
    assert player.locator("#caption").text_content() == walk[1].caption
    assert page.errors == []


def mlp_walk(practice: bool = False) -> Walkthrough:
    import valuegrad.nn as nn

    model = nn.MLP(2, [4, 4, 1], rng=0)
    return draw_backward(model([Value(0.5, label="x0"), Value(-1.0, label="x1")])[0], practice=practice)


DRAWING_BOX = (
    "() => { const r = document.getElementById('drawing').getBoundingClientRect();"
    " return [r.x, r.y, r.width, r.height] }"
)


@pytest.mark.parametrize("make", [lambda: draw_backward(neuron()), mlp_walk], ids=["neuron", "mlp"])
def test_the_drawing_stays_still_in_every_frame(page: Any, tmp_path: Path, make: Any) -> None:
    walk = make()
    path = walk.save(tmp_path / "walk.html")
    page.goto(path.as_uri())
    boxes = []
    for k in range(len(walk)):
        if k:
            page.keyboard.press("ArrowRight")
        assert page.text_content("#caption") == walk[k].caption
        caption = page.locator("#caption")  # the whole caption fits its fixed area (12 lines here; longer ones scroll)
        assert caption.evaluate("e => e.scrollHeight <= e.clientHeight + 1")
        boxes.append(page.evaluate(DRAWING_BOX))
    assert len({tuple(b) for b in boxes}) == 1, boxes
    assert page.evaluate("window.scrollY") == 0
    assert page.errors == []


def test_the_folded_mlp_steps_box_by_box_and_ends_with_every_parameter_gradient(page: Any, tmp_path: Path) -> None:
    walk = mlp_walk()
    path = walk.save(tmp_path / "walk.html")
    page.goto(path.as_uri())
    assert "?" in " ".join(grad_cells(page).values())
    assert len(walk) == 12  # the start, 9 neurons, 2 inputs
    for _ in range(len(walk) - 1):
        page.keyboard.press("ArrowRight")
        focus = page.eval_on_selector_all("g.focus", "els => els.map(e => e.id)")
        assert len(focus) >= 1
    cells = grad_cells(page)
    assert not any(text.strip().endswith("?") for text in cells.values()), cells
    params = [key for key in cells if "-p" in key]
    assert len(params) == 4 * 3 + 4 * 5 + 5  # one line per parameter: the boxes are small
    assert page.errors == []


def _expected_asks(walk: Walkthrough, k: int) -> list[tuple[str, float]]:
    """The quantities frame ``k`` changes, as the page should ask for them (name as drawn, value)."""
    frame, s = walk[k], walk._structure
    asked: dict[Value, str] = {}
    terms = frame.contributions
    if frame.box is not None:  # the box's parameters first, as in the caption
        terms = tuple(sorted(terms, key=lambda t: s.box_of.get(t.parent) is not frame.box))
    for t in terms:
        inside = frame.box is not None and s.box_of.get(t.parent) is frame.box
        if t.parent in asked or (inside and t.parent not in s.parameters):
            continue
        asked[t.parent] = (s.label(t.parent) or "") if inside else walk._names[t.parent]
    return [(name, frame.adjoints[v]) for v, name in asked.items()]


def _answer(page: Any, answers: list[str]) -> None:
    """Type the answers with the keyboard only: the first box has the focus, Tab moves on, Enter checks."""
    for i, text in enumerate(answers):
        if i:
            page.keyboard.press("Tab")
        page.keyboard.type(text)
    page.keyboard.press("Enter")


@pytest.mark.parametrize(
    "make", [lambda: draw_backward(neuron(), practice=True), lambda: mlp_walk(True)], ids=["neuron", "mlp"]
)
def test_practice_mode_asks_marks_skips_and_keeps_the_score(page: Any, tmp_path: Path, make: Any) -> None:
    walk = make()
    path = walk.save(tmp_path / "practice.html")
    page.goto(path.as_uri())
    start = page.evaluate(DRAWING_BOX)
    assert page.locator("#practice input").count() == 0  # frame 0 asks nothing: the start is given
    page.keyboard.press("ArrowRight")
    # frame 1: one input per quantity it changes, named as drawn; the new numbers are not shown yet
    expected = _expected_asks(walk, 1)
    names = page.eval_on_selector_all("#practice input", "els => els.map(e => e.dataset.name)")
    assert names == [name for name, _ in expected] and names
    assert page.text_content("#caption") == walk[1].caption.splitlines()[0]
    # right answers, typed at the drawing's precision (a true minus sign is accepted too)
    _answer(page, [signed(value, 4) for _, value in expected])
    verdicts = page.eval_on_selector_all("#practice .verdict", "els => els.map(e => e.textContent)")
    assert len(verdicts) == len(expected) and all(v.startswith("right") for v in verdicts)
    assert page.text_content("#caption") == walk[1].caption  # revealed, with its arithmetic
    assert page.text_content("#score") == f"score: {len(expected)} right out of {len(expected)} asked"
    assert page.get_attribute("#practice", "aria-live") == "polite"
    # frame 2: wrong answers, a whole unit off in the last digit
    page.keyboard.press("Enter")  # the focus is on Next after checking: Enter moves on
    expected2 = _expected_asks(walk, 2)
    assert page.locator("#practice input").count() == len(expected2) > 0
    _answer(page, [format_number(value + 0.001, 4) for _, value in expected2])
    verdicts = page.eval_on_selector_all("#practice .verdict", "els => els.map(e => e.textContent)")
    assert len(verdicts) == len(expected2) and all(v.startswith("wrong") for v in verdicts)
    asked = len(expected) + len(expected2)
    assert page.text_content("#score") == f"score: {len(expected)} right out of {asked} asked"
    # frame 3: → without answering reveals it and counts it skipped
    page.keyboard.press("ArrowRight")
    k = 3
    while not _expected_asks(walk, k):  # leaves ask nothing
        page.keyboard.press("ArrowRight")
        k += 1
    assert page.text_content("#caption") == walk[k].caption.splitlines()[0]
    page.keyboard.press("ArrowRight")
    assert page.text_content("#caption") == walk[k].caption
    assert page.text_content("#score") == f"score: {len(expected)} right out of {asked} asked · 1 skipped"
    assert page.evaluate(DRAWING_BOX) == start  # nothing moved
    only_local_requests(page)
    assert page.errors == []


def test_practice_answers_are_right_within_half_a_unit_of_the_last_digit(page: Any, tmp_path: Path) -> None:
    x = Value(3.0, label="x")
    walk = draw_backward(x * Value(0.123456, label="w"), practice=True, precision=3)
    path = walk.save(tmp_path / "practice.html")
    page.goto(path.as_uri())
    page.click("#next")
    names = page.eval_on_selector_all("#practice input", "els => els.map(e => e.dataset.name)")
    assert names == ["x", "w"]  # grad(x) = w = 0.123456, grad(w) = x = 3
    page.fill("#practice input[data-name='x']", "0.1239")  # within 0.0005 of 0.123456
    page.fill("#practice input[data-name='w']", "3.0006")  # more than 0.0005 off
    page.click("#check")
    verdicts = page.eval_on_selector_all("#practice .verdict", "els => els.map(e => e.textContent)")
    assert verdicts[0].startswith("right") and verdicts[1].startswith("wrong")
    assert page.errors == []


def test_each_practice_player_in_a_notebook_has_its_own_iframe(page: Any) -> None:
    one, two = draw_backward(neuron(), practice=True), draw_backward(neuron(), practice=True)
    page.set_content(one._repr_html_() + two._repr_html_())
    assert page.locator("iframe").count() == 2
    player = page.frame_locator("iframe").nth(1)
    player.locator("#next").click()
    assert player.locator("#practice input").count() >= 1
    player.locator("#check").click()
    assert player.locator("#practice .verdict").first.text_content().startswith("wrong")  # empty: wrong
    assert page.errors == []


def test_a_frame_with_more_questions_than_fit_scrolls_them_and_the_drawing_stays(page: Any, tmp_path: Path) -> None:
    """A folded 16-input neuron asks 17+ gradients: the question area keeps its capped height and scrolls."""
    import valuegrad.nn as nn
    from valuegrad.autograd.viz.page import WORDS_MAX_HEIGHT

    model = nn.MLP(16, [1], rng=0)
    walk = draw_backward(model([Value(0.1 * i, label=f"x{i}") for i in range(16)])[0], practice=True)
    page.goto(walk.save(tmp_path / "walk.html").as_uri())
    start = page.evaluate(DRAWING_BOX)
    most = max(range(len(walk)), key=lambda k: len(walk[k].contributions))
    for _ in range(most):
        page.keyboard.press("ArrowRight")
    area = page.locator("#practice")
    assert area.evaluate("e => e.clientHeight") <= WORDS_MAX_HEIGHT
    assert area.evaluate("e => e.scrollHeight > e.clientHeight")  # more questions than fit: they scroll
    last = page.locator("#practice input").last
    last.focus()  # reached by keyboard: focusing scrolls it into the area's view
    inside = area.evaluate(
        "(e, i) => { const a = e.getBoundingClientRect(), b = i.getBoundingClientRect();"
        " return b.top >= a.top - 1 && b.bottom <= a.bottom + 1 }",
        last.element_handle(),
    )
    assert inside
    assert page.evaluate(DRAWING_BOX) == start and page.errors == []
