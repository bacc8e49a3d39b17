"""The built documentation site in a real browser: Playwright driving Debian's chromium.

The site (``make docs`` -> docs/_build/html) is served on 127.0.0.1; every request to another
host is refused and fails the test, so the site must be whole offline (MathJax, Pyodide, viz.js
and the wheels are its own files). Without the built site, chromium or playwright these tests
skip and say why. The playground tests start Pyodide, which takes several seconds: their time
limits are generous (60 s and more).
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import urldefrag, urljoin, urlparse

import pytest

import valuegrad.autograd
import valuegrad.autograd.testing
import valuegrad.nn
from valuegrad.autograd import draw_backward

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "docs" / "_build" / "html"
PYODIDE_TIMEOUT_MS = 120_000
PUBLIC = {
    package.__name__: package.__all__ for package in (valuegrad.autograd, valuegrad.nn, valuegrad.autograd.testing)
}

pytestmark = pytest.mark.skipif(
    not (SITE / "index.html").is_file() or not (SITE / "playground" / "index.html").is_file(),
    reason="the documentation site is not built: run `make docs` (needs the docs extra, node and npm)",
)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **http.server.SimpleHTTPRequestHandler.extensions_map,
        ".wasm": "application/wasm",
    }

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def page(browser: Any, server: str) -> Iterator[Any]:
    """A page that records console errors and page errors, and refuses (and records) other hosts."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    opened.set_default_timeout(20_000)
    opened.errors = []
    opened.elsewhere = []
    home = urlparse(server).netloc

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if urlparse(url).scheme in ("http", "https", "ws", "wss") and urlparse(url).netloc != home:
            opened.elsewhere.append(url)
            request_route.abort()
        else:
            request_route.continue_()

    context.route("**/*", route)
    opened.on("console", lambda m: m.type == "error" and opened.errors.append(f"console: {m.text}"))
    opened.on("pageerror", lambda error: opened.errors.append(str(error)))
    # A request cut short by the next navigation (net::ERR_ABORTED) is no error; a missing file is a console error.
    opened.on(
        "requestfailed",
        lambda r: "ERR_ABORTED" not in str(r.failure) and opened.errors.append(f"request failed: {r.url} {r.failure}"),
    )
    yield opened
    context.close()
    assert not opened.elsewhere, f"requests to another host: {opened.elsewhere[:5]}"


# ------------------------------------------------------------------ the playground


def start_playground(page: Any, server: str) -> None:
    page.goto(server + "playground/index.html")
    page.wait_for_selector("#run:not([disabled])", timeout=PYODIDE_TIMEOUT_MS)


def run_and_wait(page: Any) -> None:
    page.click("#run")
    page.wait_for_function(
        "() => document.querySelector('#output svg') || !document.querySelector('#error').hidden",
        timeout=PYODIDE_TIMEOUT_MS,
    )
    error = page.locator("#error")
    assert error.is_hidden(), f"the playground showed an error: {error.text_content()}"


def engine_walk(code: str) -> Any:
    """The same code run here: the engine's walkthrough of its y."""
    space: dict[str, Any] = {}
    exec(compile(code, "<example>", "exec"), space)
    return draw_backward(space["y"]), space["y"]


def test_the_default_example_draws_and_steps_with_the_engines_adjoints(page: Any, server: str) -> None:
    start_playground(page, server)
    code = page.input_value("#code")
    run_and_wait(page)
    assert page.locator("#output svg g.node").count() > 0
    walk, _ = engine_walk(code)
    player = page.frame_locator("#player")
    player.locator("#caption").wait_for(timeout=PYODIDE_TIMEOUT_MS)
    player.locator("body").click()
    assert player.locator("#caption").text_content() == walk[0].caption
    for frame in walk[1:]:
        player.locator("body").press("ArrowRight")
        assert player.locator("#caption").text_content() == frame.caption
    assert player.locator("#counter").text_content() == f"{len(walk)} / {len(walk)}"
    assert not page.errors, page.errors


def test_another_example_and_an_error(page: Any, server: str) -> None:
    start_playground(page, server)
    page.select_option("#example", "fan-out")
    code = page.input_value("#code")
    assert "fan-out" not in code or "a + b" in code
    run_and_wait(page)
    walk, _ = engine_walk(code)
    player = page.frame_locator("#player")
    player.locator("body").click()
    for _ in walk[1:]:
        player.locator("body").press("ArrowRight")
    assert player.locator("#caption").text_content() == walk[-1].caption
    page.select_option("#example", "an MLP on one input")
    run_and_wait(page)
    assert page.locator("#output svg g.node").count() > 10

    page.fill("#code", WITHOUT_A_RENDERER)  # real Pyodide, no viz.js registered: browser advice, DOT text
    run_and_wait(page)

    page.fill("#code", "from valuegrad.autograd import Value\ny = Value(1.0) / undefined_name\n")
    page.click("#run")
    error = page.locator("#error")
    error.wait_for(state="visible", timeout=PYODIDE_TIMEOUT_MS)
    text = error.text_content() or ""
    assert "NameError" in text and "undefined_name" in text
    assert page.locator("#error").count() == 1  # one block
    page.fill("#code", "y = 3")
    page.click("#run")
    page.wait_for_function("() => document.querySelector('#error').textContent.includes('define y as a Value')")
    assert not page.errors, page.errors


WITHOUT_A_RENDERER = """
from valuegrad.autograd import Value, draw
from valuegrad.autograd.viz import render

saved = render.browser_renderer
render.browser_renderer = None  # as in JupyterLite: Pyodide, and no page registered viz.js
try:
    y = Value(2.0, label="x") * 3
    bundle = draw(y)._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "no Graphviz in this browser" in bundle["text/plain"], bundle
    try:
        draw(y).svg()
    except render.RenderError as error:
        assert isinstance(error, render.NoBrowserRendererError), repr(error)
        assert "browser.use" in str(error) and "apt" not in str(error), str(error)
    else:
        raise AssertionError("drew without a renderer")
finally:
    render.browser_renderer = saved
"""


# ------------------------------------------------------------------ the documentation pages


def internal_pages() -> list[Path]:
    return sorted(p for p in SITE.rglob("*.html") if "_static" not in p.parts and p.parent.name != "_sources")


def test_every_internal_link_resolves() -> None:
    broken = []
    for html in internal_pages():
        text = html.read_text(encoding="utf-8", errors="replace")
        for href in re.findall(r'(?:href|src)="([^"]+)"', text):
            target = urlparse(urldefrag(href)[0])
            if target.scheme or target.netloc or not target.path:
                continue
            resolved = (html.parent / target.path).resolve()
            if not resolved.exists():
                broken.append(f"{html.relative_to(SITE)} -> {href}")
    assert not broken, f"{len(broken)} broken links: {broken[:10]}"


def test_a_page_for_every_notebook_and_public_name() -> None:
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        built = SITE / "notebooks" / f"{notebook.stem}.html"
        assert built.is_file(), f"no page for {notebook.name}"
        assert 'class="cell_output' in built.read_text(encoding="utf-8"), f"{notebook.name} shows no outputs"
    missing = [
        f"{package}.{name}"
        for package, names in PUBLIC.items()
        for name in names
        if not (SITE / "api" / "generated" / f"{package}.{name}.html").is_file()
    ]
    assert not missing, f"no API page for: {missing}"


@pytest.mark.parametrize(
    "path",
    ["index.html", "guide.html", "course.html", "api/index.html", "api/generated/valuegrad.autograd.Value.html",
     "notebooks/03_fan_out_chain_rule.html", "notebooks/02_node_rules.html", "search.html?q=backward"],
)  # fmt: skip
def test_pages_load_with_no_errors_and_nothing_from_another_host(page: Any, server: str, path: str) -> None:
    page.goto(server + path, wait_until="networkidle")
    assert not page.errors, page.errors
    if path.startswith("search"):
        page.wait_for_selector("#search-results li", timeout=20_000)
        assert page.locator("#search-results li").count() > 0


def test_every_page_loads_with_no_console_errors(page: Any, server: str) -> None:
    for html in internal_pages():
        page.goto(server + html.relative_to(SITE).as_posix(), wait_until="load")
    assert not page.errors, page.errors


def test_mathjax_typesets_from_the_site(page: Any, server: str) -> None:
    page.goto(server + "notebooks/01_derivative_as_limit.html", wait_until="networkidle")
    page.wait_for_selector("mjx-container", timeout=20_000)
    scripts = page.eval_on_selector_all("script[src]", "els => els.map(e => e.src)")
    assert any(urljoin(server, "_static/mathjax/") in src for src in scripts), scripts
