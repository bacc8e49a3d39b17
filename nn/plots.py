"""Training pictures with matplotlib (the ``plots`` extra): the loss curve and a decision boundary.

Figures are drawn with the Agg backend (no display needed) and saved atomically.
"""

from __future__ import annotations

import io
import os
from typing import Any, Sequence

from valuegrad.autograd._files import write_bytes_atomic
from valuegrad.nn.train import History, predict

__all__ = ["MATPLOTLIB_HINT", "have_matplotlib", "save_decision_boundary", "save_loss_curve"]

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


def _save(figure: Any, path: str | os.PathLike[str], file_format: str) -> None:
    buffer = io.BytesIO()
    # A fixed date and no software tag keep repeated runs byte-identical where the backend allows.
    metadata = {"Date": None} if file_format == "svg" else {"Software": None}
    figure.savefig(buffer, format=file_format, bbox_inches="tight", metadata=metadata)
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


def save_decision_boundary(
    model: Any, X: Sequence[Sequence[float]], y: Sequence[Any], path: str | os.PathLike[str], resolution: int = 60
) -> None:
    """Colour the plane by the model's predicted class and scatter the 2-D data on top (PNG)."""
    plt = _pyplot()
    if any(len(row) != 2 for row in X):
        raise ValueError("a decision boundary can only be drawn for 2-D inputs")
    xs = [row[0] for row in X]
    ys = [row[1] for row in X]
    pad_x = 0.1 * (max(xs) - min(xs)) + 0.1
    pad_y = 0.1 * (max(ys) - min(ys)) + 0.1
    x0, x1, y0, y1 = min(xs) - pad_x, max(xs) + pad_x, min(ys) - pad_y, max(ys) + pad_y
    grid_x = [x0 + (x1 - x0) * i / (resolution - 1) for i in range(resolution)]
    grid_y = [y0 + (y1 - y0) * j / (resolution - 1) for j in range(resolution)]
    points = [[gx, gy] for gy in grid_y for gx in grid_x]
    classes = [_predicted_class(out) for out in predict(model, points)]
    grid = [classes[j * resolution : (j + 1) * resolution] for j in range(resolution)]
    labels = [int(label > 0) if len(set(y)) <= 2 else int(label) for label in y]
    figure, axis = plt.subplots(figsize=(5, 5))
    try:
        levels = [v - 0.5 for v in range(max(max(labels), max(classes)) + 2)]
        axis.contourf(grid_x, grid_y, grid, levels=levels, cmap="Spectral", alpha=0.6)
        # The same colour scale as the filled regions, so a point and its class's region match.
        axis.scatter(
            xs, ys, c=labels, s=30, cmap="Spectral", vmin=levels[0], vmax=levels[-1], edgecolors="black", linewidths=0.5
        )
        axis.set_xlim(x0, x1)
        axis.set_ylim(y0, y1)
        axis.set_title("decision boundary")
        _save(figure, path, "png")
    finally:
        plt.close(figure)


def _predicted_class(output: Any) -> int:
    row = output if isinstance(output, list) else [output]
    if len(row) == 1:
        return int(row[0] > 0.0)
    return row.index(max(row))
