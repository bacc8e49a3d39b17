"""nn.data: shapes, labels, geometry, determinism, and the split helper."""

from __future__ import annotations

import math
import random

import pytest

from valuegrad.nn import data


@pytest.mark.parametrize("make", [data.moons, data.circles])
def test_two_class_sets_are_balanced_seeded_plain_lists(make) -> None:
    X, y = make(101, seed=3)
    assert len(X) == len(y) == 101
    assert all(isinstance(row, list) and len(row) == 2 and all(type(v) is float for v in row) for row in X)
    assert sorted(set(y)) == [0, 1] and abs(y.count(0) - y.count(1)) <= 1
    assert make(101, seed=3) == (X, y)
    assert make(101, seed=4) != (X, y)


def test_noise_free_moons_lie_on_their_half_circles() -> None:
    X, y = data.moons(40, noise=0.0)
    for (a, b), label in zip(X, y):
        cx, cy = (0.0, 0.0) if label == 0 else (1.0, 0.5)
        assert math.hypot(a - cx, b - cy) == pytest.approx(1.0)
        assert (b >= -1e-12) if label == 0 else (b <= 0.5 + 1e-12)


def test_noise_free_circles_have_their_radii() -> None:
    X, y = data.circles(40, noise=0.0, factor=0.3)
    for (a, b), label in zip(X, y):
        assert math.hypot(a, b) == pytest.approx(1.0 if label == 0 else 0.3)


def test_spiral_has_k_classes_inside_the_unit_disc() -> None:
    X, y = data.spiral(99, classes=3, noise=0.0)
    assert sorted(set(y)) == [0, 1, 2] and [y.count(k) for k in range(3)] == [33, 33, 33]
    assert all(math.hypot(a, b) <= 1.0 + 1e-12 for a, b in X)


def test_xor_and_encoder() -> None:
    X, y = data.xor()
    assert [int(a) ^ int(b) for a, b in X] == y
    codes, targets = data.encoder_8_3_8()
    assert codes == targets and len(codes) == 8
    assert all(sum(row) == 1.0 and row[i] == 1.0 for i, row in enumerate(codes))
    targets[0][0] = 5.0
    assert codes[0][0] == 1.0  # targets are copies


def test_datasets_do_not_touch_global_random_state() -> None:
    state = random.getstate()
    data.moons(50, seed=1)
    data.spiral(30, seed=1)
    assert random.getstate() == state


def test_split_partitions_the_data() -> None:
    X, y = data.moons(50, seed=0)
    X_train, y_train, X_val, y_val = data.split(X, y, validation=0.2, seed=1)
    assert len(X_val) == 10 and len(X_train) == 40
    pairs = sorted(map(tuple, [[*x, t] for x, t in zip(X_train + X_val, y_train + y_val)]))
    assert pairs == sorted(map(tuple, [[*x, t] for x, t in zip(X, y)]))
    assert data.split(X, y, 0.2, seed=1) == (X_train, y_train, X_val, y_val)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: data.moons(1), "n must be an int >= 2"),
        (lambda: data.moons(10, noise=-1), "noise must be a finite number >= 0"),
        (lambda: data.circles(10, factor=1.5), "factor"),
        (lambda: data.spiral(2, classes=3), "n must be an int >= 3"),
        (lambda: data.split([[1.0]], [0, 1]), "1 inputs but 2 labels"),
        (lambda: data.split([[1.0]] * 10, [0] * 10, validation=1.5), "validation must be a fraction"),
        (lambda: data.split([[1.0]] * 2, [0] * 2, validation=0.1), "too few"),
    ],
)
def test_bad_dataset_arguments(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()
