"""Rendering in a web page: Graphviz compiled to WebAssembly (``@viz-js/viz``), called from Pyodide.

Under Pyodide there are no programs to run, so no ``dot``. A page that loads viz.js makes its
instance first (``await Viz.instance()``) and hands it to Python before any drawing::

    pyodide.globals.get("valuegrad_use_viz")(viz)   # or, in Python: browser.use(js_viz_instance)

From then on ``render.default_renderer()`` is a ``BrowserRenderer`` around that instance, and every
drawing (``Graph.svg()``, the backward player) goes through it, synchronously: viz.js renders in
the calling thread. Without an instance (JupyterLite, or a page that did not register one) a
drawing is a ``RenderError`` saying how to get one, and a ``Graph`` in a notebook shows its DOT text.
"""

from __future__ import annotations

from typing import Any

from . import render
from .render import RenderError

__all__ = ["BrowserRenderer", "registered", "use"]

NAME = "viz.js (Graphviz in WebAssembly, in this browser)"


class BrowserRenderer:
    """A viz.js instance (``Viz.instance()`` of ``@viz-js/viz`` 3.x) as a renderer: SVG only."""

    name = NAME
    formats = frozenset({"svg"})

    def __init__(self, viz: Any) -> None:
        if not callable(getattr(viz, "render", None)):
            got = type(viz).__name__
            raise TypeError(f"expected a viz.js instance (what `await Viz.instance()` returns), got {got}")
        self.viz = viz

    def run(self, dot_text: str, output_format: str) -> bytes:
        """viz.js's output for ``output_format``; a failure (its errors, or a JavaScript exception) is a RenderError."""
        if output_format not in self.formats:
            raise RenderError(f"{self.name} writes only SVG here, not {output_format!r}")
        import js  # Pyodide's bridge to JavaScript: the page's global scope

        options = js.Object.new()  # a JavaScript object, as viz.render reads options.format
        options.format = output_format
        try:
            result = self.viz.render(dot_text, options)
        except Exception as error:  # a JsException: viz.js itself failed
            raise RenderError(f"{self.name} failed: {_first_line(str(error))}") from None
        if str(result.status) != "success":
            messages = [_first_line(str(getattr(e, "message", e))) for e in result.errors] or ["no error output"]
            raise RenderError(f"{self.name} could not draw the graph: {' | '.join(messages)}"[: render.MESSAGE_LIMIT])
        return str(result.output).encode("utf-8")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else "no message"


def use(viz: Any) -> BrowserRenderer:
    """Draw with ``viz`` (a viz.js instance) from now on, under Pyodide; returns the renderer."""
    chosen = BrowserRenderer(viz)
    render.browser_renderer = chosen
    return chosen


def registered() -> BrowserRenderer | None:
    """The renderer ``use`` registered, if any."""
    chosen = render.browser_renderer
    return chosen if isinstance(chosen, BrowserRenderer) else None
