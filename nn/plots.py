"""Training pictures with matplotlib (the ``plots`` extra): the loss curve and a decision boundary.

Figures are drawn with the Agg backend (no display needed) and saved atomically. The class
colours (``CLASS_COLOURS``) and ``plot_decision_boundary`` are public so the notebooks draw
with the same scheme as ``valuegrad train``.
"""

from __future__ import annotations

import io
import os
from typing import Any, Sequence

from ..autograd.core.files import write_bytes_atomic
from .train import History, predict

__all__ = [
    "BOUNDARY_COLOUR",
    "CLASS_COLOURS",
    "MATPLOTLIB_HINT",
    "REGION_ALPHA",
    "have_matplotlib",
    "plot_decision_boundary",
    "save_decision_boundary",
    "save_loss_curve",
]

MATPLOTLIB_HINT = "matplotlib is not installed: pip install 'valuegrad[plots]'"


def have_matplotlib() -> bool:
    """Whether matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise ImportError(MATPLOTLIB_HINT) from None
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(
    figure: Any, path: str | os.PathLike[str], file_format: str, dpi: float | None = None, tight: bool = True
) -> None:
    buffer = io.BytesIO()
    # A fixed date and no software tag keep repeated runs byte-identical where the backend allows.
    metadata = {"Date": None} if file_format == "svg" else {"Software": None}
    figure.savefig(buffer, format=file_format, bbox_inches="tight" if tight else None, metadata=metadata, dpi=dpi)
    write_bytes_atomic(path, buffer.getvalue())


def save_loss_curve(history: History, path: str | os.PathLike[str], title: str = "training") -> None:
    """Loss per step (log scale when it spans decades) and, if measured, accuracy on a second axis."""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(6, 3.5))
    try:
        steps = range(1, len(history.loss) + 1)
        axis.plot(steps, history.loss, color="tab:blue", label="training loss")
        if history.val_loss:
            axis.plot([s + 1 for s in history.val_step], history.val_loss, color="tab:orange", label="validation loss")
        positive = [v for v in history.loss if v > 0]
        if positive and max(positive) / min(positive) > 100:
            axis.set_yscale("log")
        axis.set_xlabel("step")
        axis.set_ylabel("loss")
        axis.set_title(title)
        handles, labels = axis.get_legend_handles_labels()
        if history.accuracy:
            twin = axis.twinx()
            twin.plot(steps, history.accuracy, color="tab:green", linestyle="--", label="training accuracy")
            twin.set_ylabel("accuracy")
            twin.set_ylim(0.0, 1.05)
            more_handles, more_labels = twin.get_legend_handles_labels()
            handles, labels = handles + more_handles, labels + more_labels
        axis.legend(handles, labels, loc="center right")
        _save(figure, path, "svg")
    finally:
        plt.close(figure)


#: One colour per class, shared by ``valuegrad train``'s pictures and the notebooks (colour-blind
#: safe: the Okabe-Ito blue, vermillion, bluish green, yellow, reddish purple, sky blue, orange).
CLASS_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#F0E442", "#CC79A7", "#56B4E9", "#E69F00")
REGION_ALPHA = 0.25  # how strongly a predicted region is tinted with its class's colour
BOUNDARY_COLOUR = "#111827"
DECISION_BOUNDARY_PIXELS = 900  # width and height of decision_boundary.png


def plot_decision_boundary(
    axis: Any, model: Any, X: Sequence[Sequence[float]], y: Sequence[Any], resolution: int = 90
) -> None:
    """Draw ``model``'s decision regions and boundary for 2-D data ``X`` on a matplotlib ``axis``.

    A one-output model is a score whose sign is the class: its regions and the boundary s = 0
    are contours of the score itself, so the boundary is smooth, not a staircase of grid cells.
    With several outputs the class is the largest; the boundary is where the winner changes.
    Points are coloured by their label from ``CLASS_COLOURS``; the legend names the classes.
    """
    if any(len(row) != 2 for row in X):
        raise ValueError("a decision boundary can only be drawn for 2-D inputs")
    xs = [row[0] for row in X]
    ys = [row[1] for row in X]
    pad_x = 0.1 * (max(xs) - min(xs)) + 0.1
    pad_y = 0.1 * (max(ys) - min(ys)) + 0.1
    x0, x1, y0, y1 = min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y
    grid_x = [x0 + (x1 - x0) * i / (resolution - 1) for i in range(resolution)]
    grid_y = [y0 + (y1 - y0) * j / (resolution - 1) for j in range(resolution)]
    outputs = predict(model, [[gx, gy] for gy in grid_y for gx in grid_x])
    binary = not isinstance(outputs[0], list) or len(outputs[0]) == 1
    labels = [int(label > 0) if binary else int(label) for label in y]
    if binary:
        scores = [o[0] if isinstance(o, list) else o for o in outputs]
        field = [scores[j * resolution : (j + 1) * resolution] for j in range(resolution)]
        levels = [min(min(scores), -1.0) - 1.0, 0.0, max(max(scores), 1.0) + 1.0]
        axis.contourf(grid_x, grid_y, field, levels=levels, colors=CLASS_COLOURS[:2], alpha=REGION_ALPHA)
        axis.contour(grid_x, grid_y, field, levels=[0.0], colors=BOUNDARY_COLOUR, linewidths=1.5)
        classes = 2
    else:
        winners = [row.index(max(row)) for row in outputs]
        classes = max(max(labels), max(winners)) + 1
        field = [winners[j * resolution : (j + 1) * resolution] for j in range(resolution)]
        levels = [c - 0.5 for c in range(classes + 1)]
        colours = [CLASS_COLOURS[c % len(CLASS_COLOURS)] for c in range(classes)]
        axis.contourf(grid_x, grid_y, field, levels=levels, colors=colours, alpha=REGION_ALPHA)
        axis.contour(grid_x, grid_y, field, levels=levels[1:-1], colors=BOUNDARY_COLOUR, linewidths=1.5)
    for c in range(classes):
        members = [i for i, label in enumerate(labels) if label == c]
        if members:
            axis.scatter(
                [xs[i] for i in members],
                [ys[i] for i in members],
                s=28,
                color=CLASS_COLOURS[c % len(CLASS_COLOURS)],
                edgecolors="black",
                linewidths=0.5,
                label=f"class {c}",
            )
    axis.plot([], [], color=BOUNDARY_COLOUR, linewidth=1.5, label="decision boundary")
    axis.set_xlim(x0, x1)
    axis.set_ylim(y0, y1)
    axis.set_xlabel("$x_0$ (first input)")
    axis.set_ylabel("$x_1$ (second input)")
    axis.legend(loc="best", framealpha=0.9)


def save_decision_boundary(
    model: Any, X: Sequence[Sequence[float]], y: Sequence[Any], path: str | os.PathLike[str], resolution: int = 90
) -> None:
    """``plot_decision_boundary`` as a square PNG of ``DECISION_BOUNDARY_PIXELS`` pixels a side."""
    plt = _pyplot()
    if any(len(row) != 2 for row in X):
        raise ValueError("a decision boundary can only be drawn for 2-D inputs")
    dpi = 150
    figure, axis = plt.subplots(figsize=(DECISION_BOUNDARY_PIXELS / dpi, DECISION_BOUNDARY_PIXELS / dpi), dpi=dpi)
    try:
        plot_decision_boundary(axis, model, X, y, resolution)
        axis.set_title("decision boundary")
        figure.tight_layout()
        _save(figure, path, "png", dpi=dpi, tight=False)
    finally:
        plt.close(figure)
