"""Sphinx configuration: the valuegrad site, built offline (``make docs``; docs/README.md).

Before reading sources it writes what is generated and not committed: ``notebooks/`` (copies of
the repository's notebooks, which myst-nb executes through jupyter-cache, so an unchanged notebook
is not run again) and ``api/*.rst`` (one autosummary page per public name, taken from each
package's ``__all__``). After the build it copies the local assets: MathJax (``_static/mathjax``),
Pyodide and viz.js (``_static/pyodide``, ``_static/viz``) from ``docs/node_modules`` (``npm ci``),
and the playground's wheels from ``docs/_build/wheels`` (``make docs`` builds and downloads them).
Nothing is loaded from another host.
"""

from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NODE_MODULES = DOCS / "node_modules"
WHEELS = DOCS / "_build" / "wheels"
API_PACKAGES = ("valuegrad.autograd", "valuegrad.nn", "valuegrad.autograd.testing")

project = "valuegrad"
author = "valuegrad developers"
copyright = "valuegrad developers (MIT licence)"
extensions = ["myst_nb", "sphinx.ext.autodoc", "sphinx.ext.autosummary", "sphinx.ext.napoleon", "sphinx.ext.mathjax"]
exclude_patterns = ["_build", "node_modules", "README.md", "playground_root", "**.ipynb_checkpoints"]
html_theme = "alabaster"
html_title = "valuegrad"
html_static_path: list[str] = []
html_extra_path = ["playground_root"]

# MathJax from this site's own _static (copied from npm's mathjax after the build), never a CDN.
mathjax_path = "mathjax/tex-mml-chtml.js"
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "misc.highlighting_failure"]

# Notebooks: executed at build time, cached by jupyter-cache (unchanged notebooks are not run again).
nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_ipywidgets_js: dict[str, dict[str, str]] = {}  # no widget scripts from a CDN

autosummary_generate = True
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_typehints = "description"


def _copy_notebooks() -> list[str]:
    """notebooks/*.ipynb (and the course path, README.md) into docs/notebooks/; only what changed is copied."""
    target = DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    names = []
    for source in sorted((ROOT / "notebooks").glob("*.ipynb")):
        copy = target / source.name
        if not copy.exists() or copy.read_bytes() != source.read_bytes():
            shutil.copyfile(source, copy)
        names.append(source.stem)
    for stale in target.glob("*.ipynb"):
        if stale.stem not in names:
            stale.unlink()
    course_path = ROOT / "notebooks" / "README.md"  # the course path, which the README links to
    if course_path.exists():
        shutil.copyfile(course_path, target / "README.md")
    return names


def _write_api_pages() -> None:
    """api/<package>.rst: an autosummary of every name in the package's ``__all__``, a page each."""
    target = DOCS / "api"
    target.mkdir(exist_ok=True)
    for package in API_PACKAGES:
        module = importlib.import_module(package)
        title = f"``{package}``"
        lines = [title, "=" * len(title), "", f".. automodule:: {package}", "   :no-members:", ""]
        lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
        lines += [f"   {name}" for name in sorted(module.__all__, key=str.lower)]
        page = "\n".join(lines) + "\n"
        path = target / f"{package}.rst"
        if not path.exists() or path.read_text(encoding="utf-8") != page:
            path.write_text(page, encoding="utf-8")


NOTEBOOKS = _copy_notebooks()
_write_api_pages()


def _copy_assets(app: object, exception: Exception | None) -> None:
    if exception is not None:
        return
    out = Path(app.outdir)  # type: ignore[attr-defined]
    static = out / "_static"
    if not NODE_MODULES.is_dir():
        raise RuntimeError("docs/node_modules is missing: run `npm ci --prefix docs` (make docs does)")
    shutil.copytree(NODE_MODULES / "mathjax" / "es5", static / "mathjax", dirs_exist_ok=True)
    pyodide = NODE_MODULES / "pyodide"
    (static / "pyodide").mkdir(exist_ok=True)
    for name in (
        "pyodide.js",
        "pyodide.mjs",
        "pyodide.asm.js",
        "pyodide.asm.wasm",
        "python_stdlib.zip",
        "pyodide-lock.json",
    ):
        shutil.copyfile(pyodide / name, static / "pyodide" / name)
    (static / "viz").mkdir(exist_ok=True)
    shutil.copyfile(NODE_MODULES / "@viz-js" / "viz" / "dist" / "viz-global.js", static / "viz" / "viz-global.js")
    wheels = sorted(WHEELS.glob("*.whl"))
    if not any(w.name.startswith("valuegrad-") for w in wheels):
        raise RuntimeError("no valuegrad wheel in docs/_build/wheels: run `make docs` (it builds one)")
    (out / "playground" / "wheels").mkdir(parents=True, exist_ok=True)
    for wheel in wheels:
        shutil.copyfile(wheel, out / "playground" / "wheels" / wheel.name)
    manifest = json.dumps([w.name for w in wheels], indent=1)
    (out / "playground" / "wheels.json").write_text(manifest + "\n", encoding="utf-8")


def setup(app: object) -> None:
    app.connect("build-finished", _copy_assets)  # type: ignore[attr-defined]
