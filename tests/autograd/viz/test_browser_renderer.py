"""The browser renderer (viz.browser) and how ``default_renderer`` picks it, with a fake ``js``.

No Pyodide here: ``sys.platform`` is set to "emscripten" for a test, and a stand-in for Pyodide's
``js`` module and a viz.js instance answer the calls the renderer makes. The instance renders with
the ``dot`` this machine has, so what comes back is real SVG and passes ``render``'s checks.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from typing import Any

import pytest

from valuegrad.autograd import Value, draw
from valuegrad.autograd.viz import browser, render
from valuegrad.autograd.viz.render import DotNotFoundError, DotProgram, NoBrowserRendererError, RenderError


class FakeViz:
    """What ``await Viz.instance()`` gives a page: ``render(src, {format})`` -> {status, output, errors}."""

    def __init__(self, fail: str | None = None, throw: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail, self.throw = fail, throw

    def render(self, source: str, options: Any) -> Any:
        self.calls.append((source, options.format))
        if self.throw:
            raise RuntimeError("Error: memory access out of bounds\n    at wasm-function[123]")
        if self.fail is not None:
            error = types.SimpleNamespace(level="error", message=self.fail)
            return types.SimpleNamespace(status="failure", output=None, errors=[error])
        svg = DotProgram(render.find_dot()).run(source, options.format).decode("utf-8")
        return types.SimpleNamespace(status="success", output=svg, errors=[])


@pytest.fixture
def in_pyodide(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """sys.platform "emscripten", a fake ``js`` (``js.Object.new()`` is a blank object), nothing registered."""
    fake_js = types.ModuleType("js")
    fake_js.Object = types.SimpleNamespace(new=types.SimpleNamespace)  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "js", fake_js)
    monkeypatch.setattr(sys, "platform", "emscripten")
    monkeypatch.setattr(render, "browser_renderer", None)
    monkeypatch.setattr(render, "_declaration_order", {})
    yield


def has_dot() -> bool:
    try:
        render.find_dot()
    except DotNotFoundError:
        return False
    return True


needs_dot = pytest.mark.skipif(not has_dot(), reason="the fake viz.js renders with a real dot; none found")


def neuron() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    y = (w * x + b).tanh()
    y.label = "y"
    return y


def test_outside_pyodide_the_default_is_a_dot_program(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "browser_renderer", browser.BrowserRenderer(FakeViz()))
    if has_dot():
        assert isinstance(render.default_renderer(), DotProgram)  # a registration changes nothing here


def test_under_pyodide_without_an_instance_the_error_gives_browser_advice(in_pyodide: None) -> None:
    with pytest.raises(NoBrowserRendererError) as raised:
        render.default_renderer()
    message = str(raised.value)
    assert isinstance(raised.value, RenderError) and isinstance(raised.value, DotNotFoundError)
    assert "viz.js" in message and "browser.use" in message
    assert "apt" not in message and "graphviz-pure" not in message and "VALUEGRAD_DOT" not in message


def test_under_pyodide_without_an_instance_a_graph_shows_its_dot_text(in_pyodide: None) -> None:
    graph = draw(neuron())  # drawing needs no renderer; only rendering does
    bundle = graph._repr_mimebundle_()
    assert list(bundle) == ["text/plain"]
    assert "no Graphviz in this browser" in bundle["text/plain"] and graph.source in bundle["text/plain"]
    with pytest.raises(RenderError, match=r"browser\.use"):
        graph.svg()


@needs_dot
def test_under_pyodide_a_registered_instance_is_the_default(in_pyodide: None) -> None:
    viz = FakeViz()
    chosen = browser.use(viz)
    assert render.default_renderer() is chosen and browser.registered() is chosen
    assert chosen.formats == frozenset({"svg"}) and "viz.js" in chosen.name
    svg = draw(neuron()).svg()
    assert svg.lstrip().startswith("<svg") or "<svg" in svg
    assert viz.calls and all(fmt == "svg" for _, fmt in viz.calls)


def test_a_failure_in_viz_js_is_one_render_error(in_pyodide: None) -> None:
    chosen = browser.use(FakeViz(fail="syntax error in line 1 near '{'"))
    with pytest.raises(RenderError, match="could not draw the graph: syntax error in line 1") as raised:
        render.render("digraph { a -> }", "svg")
    assert "\n" not in str(raised.value)
    thrown = browser.BrowserRenderer(FakeViz(throw=True))
    with pytest.raises(RenderError, match=r"failed: Error: memory access out of bounds$"):
        thrown.run("digraph { a }", "svg")
    with pytest.raises(RenderError, match="cannot write 'png'"):
        render.render("digraph { a }", "png", chosen)
    with pytest.raises(RenderError, match="only SVG"):
        chosen.run("digraph { a }", "png")


def test_use_refuses_what_is_not_a_viz_instance() -> None:
    with pytest.raises(TypeError, match=r"Viz\.instance"):
        browser.use(object())
