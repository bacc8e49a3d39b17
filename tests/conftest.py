"""Hypothesis profiles for the whole suite, chosen by ``HYPOTHESIS_PROFILE``.

* ``ci``      -- what ``.ci/run`` uses: few examples, no deadline (shared machines are noisy);
* ``dev``     -- the default on a workstation: hypothesis's usual 100 examples;
* ``intense`` -- thousands of examples, for a hunt before a release.

Without ``HYPOTHESIS_PROFILE`` the profile is ``ci`` when the ``CI`` environment variable is set
and ``dev`` otherwise. Each name loads the shipped ``valuegrad-<name>`` profile
(``valuegrad.autograd._hypothesis_plugin``), so Hypothesis's own ``ci`` profile is left alone.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import settings

from valuegrad.autograd._hypothesis_plugin import PROFILES, register_profiles

# `python -m pytest` puts the repository root on sys.path, where the top-level folders autograd/
# and nn/ would import as `autograd` and `nn` -- names valuegrad never installs. Drop it, so the
# suite sees exactly what users get: `valuegrad.autograd` and `valuegrad.nn`.
_ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or os.curdir).resolve() != _ROOT]

register_profiles()  # also done by Hypothesis's entry point, unless plugins are disabled

_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
if f"valuegrad-{_PROFILE}" not in PROFILES:
    raise RuntimeError(f"HYPOTHESIS_PROFILE={_PROFILE!r} is not one of: ci, dev, intense")
settings.load_profile(f"valuegrad-{_PROFILE}")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium driven by Playwright (its own browser download is out of reach here); skips, saying why."""
    if CHROMIUM is None:
        pytest.skip("browser tests need Debian's chromium on PATH (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need playwright for Python (pip install -e '.[test]')")
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def png_renderer() -> None:
    """Skip unless the renderer in use writes PNG (viz.js, in the renderer matrix, writes SVG only)."""
    from valuegrad.autograd.viz.render import default_renderer

    renderer = default_renderer()
    if "png" not in renderer.formats:
        pytest.skip(f"{renderer.name} does not write PNG")
