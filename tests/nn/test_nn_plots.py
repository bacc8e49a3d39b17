"""The decision boundary picture: big enough, smooth, labelled, in the shared class colours."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

import valuegrad.nn as nn
from valuegrad.nn import plots


def linear_model(x: list[float]) -> float:
    """A fixed 'model' with a known straight boundary: x1 = 0.3 * x0 + 0.1."""
    return x[1] - 0.3 * x[0] - 0.1


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_decision_boundary_png_is_at_least_800_pixels(tmp_path: Path) -> None:
    X, y = nn.data.moons(40, noise=0.1, seed=0)
    path = tmp_path / "decision_boundary.png"
    plots.save_decision_boundary(linear_model, X, y, path, resolution=30)
    width, height = png_size(path.read_bytes())
    assert width >= 800 and height >= 800


def test_the_boundary_is_a_smooth_contour_of_the_score_with_labels_and_legend() -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    X, y = nn.data.moons(40, noise=0.1, seed=0)
    figure, axis = plt.subplots()
    try:
        plots.plot_decision_boundary(axis, linear_model, X, y, resolution=25)
        assert axis.get_xlabel() and axis.get_ylabel()
        legend = [t.get_text() for t in axis.get_legend().get_texts()]
        assert legend == ["class 0", "class 1", "decision boundary"]
        # the s = 0 contour is interpolated between grid points: it lies on the true line, not on a staircase
        contours = [c for c in axis.collections if type(c).__name__ == "QuadContourSet"]
        assert len(contours) == 2  # the filled regions and the line s = 0
        boundary = contours[1]
        vertices = [v for path in boundary.get_paths() for v in path.vertices]
        assert len(vertices) >= 10
        assert max(abs(v[1] - (0.3 * v[0] + 0.1)) for v in vertices) < 1e-9
        colours = {
            tuple(round(c, 3) for c in pc.get_facecolor()[0][:3])
            for pc in axis.collections
            if pc.get_label() in ("class 0", "class 1")
        }
        expected = {tuple(round(c, 3) for c in matplotlib.colors.to_rgb(h)) for h in plots.CLASS_COLOURS[:2]}
        assert colours == expected
    finally:
        plt.close(figure)


def test_notebook_13_uses_the_shared_colours() -> None:
    notebook = (Path(__file__).resolve().parents[2] / "notebooks" / "13_moons_mlp.ipynb").read_text(encoding="utf-8")
    assert "CLASS_COLOURS" in notebook and "plot_decision_boundary" in notebook and "cmap=" not in notebook
