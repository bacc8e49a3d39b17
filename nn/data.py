"""Small datasets from the lectures, as plain lists, generated from a seeded ``random.Random``.

Each function returns ``(X, y)``: ``X`` a list of input rows (lists of floats), ``y`` the labels.
Two-class sets label with 0 and 1 (``hinge`` reads 0 as −1); ``spiral`` labels classes 0..k−1;
``encoder_8_3_8``'s targets are its inputs. Same seed, same data, on every platform.
"""

from __future__ import annotations

import math
import numbers
import random
from typing import Any, Sequence

__all__ = ["DATASETS", "circles", "encoder_8_3_8", "moons", "spiral", "split", "xor"]

Rows = list[list[float]]


def _count(n: object, what: str = "n", least: int = 1) -> int:
    if isinstance(n, bool) or not isinstance(n, int) or n < least:
        raise ValueError(f"{what} must be an int >= {least}, got {n!r}")
    return n


def _noise(noise: object) -> float:
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real) or not (0 <= noise < math.inf):  # type: ignore[operator]
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    return float(noise)  # type: ignore[arg-type]


def _linspace(start: float, stop: float, n: int, endpoint: bool = True) -> list[float]:
    if n == 1:
        return [start]
    step = (stop - start) / (n - 1 if endpoint else n)
    return [start + i * step for i in range(n)]


def _shuffled(X: Rows, y: list[Any], rng: random.Random) -> tuple[Rows, list[Any]]:
    order = list(range(len(X)))
    rng.shuffle(order)
    return [X[i] for i in order], [y[i] for i in order]


def moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[Rows, list[int]]:
    """Two interleaving half circles (as scikit-learn's ``make_moons``): upper moon 0, lower moon 1."""
    n = _count(n, least=2)
    sigma = _noise(noise)
    rng = random.Random(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    X = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, math.pi, n_upper)]
    X += [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in _linspace(0.0, math.pi, n_lower)]
    y = [0] * n_upper + [1] * n_lower
    X = [[a + rng.gauss(0.0, sigma), b + rng.gauss(0.0, sigma)] for a, b in X]
    return _shuffled(X, y, rng)


def circles(n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0) -> tuple[Rows, list[int]]:
    """A circle inside a circle (as ``make_circles``): outer ring 0, inner ring (radius ``factor``) 1."""
    n = _count(n, least=2)
    sigma = _noise(noise)
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not 0 < factor < 1:
        raise ValueError(f"factor (inner radius / outer radius) must be between 0 and 1, got {factor!r}")
    rng = random.Random(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    X = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, 2 * math.pi, n_outer, endpoint=False)]
    X += [[factor * math.cos(t), factor * math.sin(t)] for t in _linspace(0.0, 2 * math.pi, n_inner, endpoint=False)]
    y = [0] * n_outer + [1] * n_inner
    X = [[a + rng.gauss(0.0, sigma), b + rng.gauss(0.0, sigma)] for a, b in X]
    return _shuffled(X, y, rng)


def spiral(n: int = 150, classes: int = 3, noise: float = 0.2, seed: int = 0) -> tuple[Rows, list[int]]:
    """``classes`` interleaved spiral arms (CS231n's toy set), ``n`` points in all, labels 0..classes−1."""
    classes = _count(classes, "classes", least=2)
    n = _count(n, least=classes)
    sigma = _noise(noise)
    rng = random.Random(seed)
    X: Rows = []
    y: list[int] = []
    for k in range(classes):
        count = n // classes + (1 if k < n % classes else 0)
        for r in _linspace(0.0, 1.0, count):
            t = 4.0 * (k + r) + rng.gauss(0.0, sigma)
            X.append([r * math.sin(t), r * math.cos(t)])
            y.append(k)
    return _shuffled(X, y, rng)


def xor() -> tuple[Rows, list[int]]:
    """The four corners of the unit square, labelled by exclusive or: not linearly separable."""
    return [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0]


def encoder_8_3_8() -> tuple[Rows, Rows]:
    """The 8 one-hot codes of length 8, each its own target: squeeze them through 3 hidden units."""
    codes = [[1.0 if i == j else 0.0 for j in range(8)] for i in range(8)]
    return codes, [list(row) for row in codes]


def split(
    X: Sequence[Any], y: Sequence[Any], validation: float = 0.2, seed: int = 0
) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
    """Shuffle and split into ``(X_train, y_train, X_val, y_val)``, ``validation`` the held-out fraction."""
    if len(X) != len(y):
        raise ValueError(f"split: {len(X)} inputs but {len(y)} labels; they must match")
    if isinstance(validation, bool) or not isinstance(validation, numbers.Real) or not 0 < validation < 1:
        raise ValueError(f"split: validation must be a fraction between 0 and 1, got {validation!r}")
    n_val = round(len(X) * validation)
    if not 0 < n_val < len(X):
        raise ValueError(f"split: {len(X)} samples are too few to hold out {validation:.0%} for validation")
    order = list(range(len(X)))
    random.Random(seed).shuffle(order)
    val, train = order[:n_val], order[n_val:]
    return [X[i] for i in train], [y[i] for i in train], [X[i] for i in val], [y[i] for i in val]


#: Dataset makers by the names the command line uses.
DATASETS = {"moons": moons, "circles": circles, "spiral": spiral, "xor": xor, "encoder": encoder_8_3_8}
