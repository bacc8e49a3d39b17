"""Every notebook graph and README drawing fits a notebook column with text of at least 9 px.

JupyterLab shows an SVG at its own size, scaled down (never up) to the column, about 1,000 px.
Graphviz writes sizes in points (4/3 px each). These tests read the SVG's width and its
font sizes, scale as a notebook would, and check the smallest text shown.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from valuegrad import autograd
from valuegrad.autograd import Value, draw

COLUMN_PX = 1000.0
SMALLEST_TEXT_PX = 9.0
ROOT = Path(__file__).resolve().parents[3]


def shown(svg: str) -> tuple[float, float]:
    """(width in px, smallest font in px) of ``svg`` as a notebook column shows it."""
    root = ET.fromstring(svg)
    match = re.fullmatch(r"([\d.]+)(pt|px)?", root.get("width", ""))
    assert match is not None, "the SVG has no width"
    width = float(match.group(1)) * (4 / 3 if match.group(2) == "pt" else 1.0)
    view_box = [float(x) for x in root.get("viewBox", "").split()]
    unit = width / view_box[2]  # px per user unit (font sizes are in user units)
    scale = min(1.0, COLUMN_PX / width)
    sizes = [float(e.get("font-size", "0")) for e in root.iter() if e.get("font-size")]
    assert sizes, "the SVG has no text"
    return width * scale, min(sizes) * unit * scale


def assert_readable(svg: str, what: str) -> None:
    width, smallest = shown(svg)
    assert width <= COLUMN_PX + 1e-6
    assert smallest >= SMALLEST_TEXT_PX, f"{what}: smallest text {smallest:.1f} px at {width:.0f} px wide"


def test_the_measure_scales_wide_pictures_down() -> None:
    narrow = '<svg width="300pt" height="10pt" viewBox="0 0 300 10"><text font-size="12">a</text></svg>'
    wide = '<svg width="1500pt" height="10pt" viewBox="0 0 1500 10"><text font-size="12">a</text></svg>'
    assert shown(narrow) == (400.0, 16.0)
    assert shown(wide) == (1000.0, 8.0)  # 2,000 px scaled to half: 12 pt text shows at 8 px


# ---------------------------------------------------------------- the README's drawings


def readme_neuron() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    y = (w * x + b).tanh()
    y.label = "y"
    y.backward()
    return y


def test_readme_python_drawing() -> None:
    assert_readable(draw(readme_neuron(), edge_labels=True).svg(), "README tanh(w*x + b)")


def test_readme_command_line_drawing(tmp_path: Path) -> None:
    from valuegrad.autograd.cli import main

    target = tmp_path / "graph.svg"
    assert main(["draw", "tanh(w*x + b)", "x=2", "w=-3", "b=6.88", "-o", str(target), "--edge-labels"]) == 0
    assert_readable(target.read_text(encoding="utf-8"), "valuegrad draw")


def mlp_output() -> Value:
    import valuegrad.nn as nn

    model = nn.MLP(2, [16, 16, 1], rng=0)
    out = model([Value(0.5, label="x0"), Value(-1.0, label="x1")])[0]
    out.backward()
    return out


@pytest.mark.parametrize("collapse", ["auto", 1, 2, 3])
def test_the_moons_model_at_every_collapse_level(collapse: object) -> None:
    # collapse=3 is what `valuegrad train` writes as graph.svg
    assert_readable(draw(mlp_output(), collapse=collapse).svg(), f"MLP(2,[16,16,1]) collapse={collapse}")  # type: ignore[arg-type]


def test_an_rnn_drawn_by_time_step() -> None:
    weights = {name: Value(v, label=name) for name, v in {"w_xh": 0.9, "w_hh": 0.7, "w_hy": 1.3, "b": 0.1}.items()}
    h, loss = 0.0, 0.0
    for t, (x, y) in enumerate([(0.5, 0.2), (-1.0, -0.4)], start=1):
        with autograd.scope(f"t = {t}"):
            h = (weights["w_hh"] * h + weights["w_xh"] * x + weights["b"]).tanh()
            loss = loss + 0.5 * (weights["w_hy"] * h - y) ** 2
    assert isinstance(loss, Value)
    loss.backward()
    assert_readable(draw(loss, params=weights.values()).svg(), "RNN, two steps")


# ---------------------------------------------------------------- the notebooks' own pictures

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

DRAWING_NOTEBOOKS = sorted(p for p in (ROOT / "notebooks").glob("*.ipynb") if "draw(" in p.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", DRAWING_NOTEBOOKS, ids=[p.stem for p in DRAWING_NOTEBOOKS])
def test_every_graph_a_notebook_shows_is_readable(path: Path, tmp_path: Path) -> None:
    pytest.importorskip("ipykernel")
    nb = nbformat.read(str(path), as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    python_path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    client.execute(env={**os.environ, "PYTHONPATH": python_path})
    pictures = [
        output["data"]["image/svg+xml"]
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if "image/svg+xml" in output.get("data", {})
    ]
    assert pictures, f"{path.name} draws no graph"
    for i, svg in enumerate(pictures):
        assert_readable(svg if isinstance(svg, str) else "".join(svg), f"{path.name} picture {i}")


def test_a_long_chain_is_wrapped_to_fit() -> None:
    z = Value(0.1, label="z")
    w = z
    for _ in range(60):
        w = w.sin()
    w.backward()
    assert_readable(draw(w, max_nodes=None).svg(), "a 60-step chain")
