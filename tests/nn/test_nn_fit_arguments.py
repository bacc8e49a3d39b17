"""``fit``'s argument checks and settings: which mistake is named first, and what each setting does."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

import valuegrad.nn as nn
from valuegrad.nn.optim import SGD

# fit checks in this order; each entry is one mistake and the words that name it
MISTAKES: list[tuple[str, dict[str, Any], type, str]] = [
    ("model", {"model": "not a model"}, TypeError, "model must be an nn.Module"),
    ("data", {"X": [], "y": []}, ValueError, "the training set is empty"),
    ("loss", {"loss": "nope"}, ValueError, "unknown loss 'nope'"),
    ("accuracy", {"accuracy": "exact"}, ValueError, "accuracy must be 'auto', None or a function"),
    ("batch_size", {"batch_size": 0}, ValueError, "batch_size must be a whole number >= 1"),
    ("steps", {"steps": 3, "epochs": 2}, ValueError, "give steps or epochs, not both"),
    ("l2", {"l2": -1.0}, ValueError, "l2 must be a finite number >= 0"),
    ("progress", {"progress": 1}, TypeError, "progress must be True or False"),
    ("seed", {"seed": 1.5}, TypeError, "seed must be a whole number"),
    ("validation", {"validation": ([[0.0, 0.0]],)}, ValueError, "validation must be a pair"),
    ("validate_every", {"validate_every": 0}, ValueError, "validate_every must be a whole number >= 1"),
    ("patience", {"patience": 0}, ValueError, "patience must be a whole number >= 1"),
    ("compile", {"compile": "yes"}, TypeError, "compile must be True or False"),
]


def _fit(**kwargs: Any) -> nn.History:
    X, y = nn.data.xor()
    arguments: dict[str, Any] = {"model": nn.MLP(2, [2, 1], rng=0), "X": X, "y": y, "progress": False}
    arguments.update(kwargs)
    return nn.fit(arguments.pop("model"), arguments.pop("X"), arguments.pop("y"), **arguments)


@pytest.mark.parametrize(
    ("first", "second"),
    list(itertools.combinations(MISTAKES, 2)),
    ids=[f"{a[0]}-before-{b[0]}" for a, b in itertools.combinations(MISTAKES, 2)],
)
def test_of_two_mistakes_the_one_fit_checks_first_is_named(first: tuple, second: tuple) -> None:
    _, first_kwargs, error, message = first
    with pytest.raises(error, match=message):
        _fit(**{**second[1], **first_kwargs})


@pytest.mark.parametrize(("name", "kwargs", "error", "message"), MISTAKES, ids=[m[0] for m in MISTAKES])
def test_each_mistake_alone_is_named(name: str, kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        _fit(**kwargs)


def test_compile_is_checked_after_the_default_optimizer_is_made() -> None:
    class Empty(nn.Module):
        def forward(self, x: Any) -> Any:
            return x[0]

    with pytest.raises(ValueError, match="SGD got no parameters"):
        _fit(model=Empty(), compile="yes")
    model = nn.MLP(2, [2, 1], rng=0)
    with pytest.raises(TypeError, match="compile must be True or False"):
        _fit(model=model, optimizer=SGD(model.parameters()), compile="yes")


def test_a_mistake_in_the_validation_data_names_its_row_after_the_other_arguments() -> None:
    with pytest.raises(ValueError, match=r"X_val\[0\]\[1\] is nan"):
        _fit(validation=([[0.0, float("nan")]], [1.0]), validate_every=0)
    with pytest.raises(ValueError, match="the validation set is empty"):
        _fit(validation=([], []), patience=0)


@pytest.mark.parametrize(
    ("kwargs", "steps"),
    [
        ({}, 100),
        ({"steps": 7}, 7),
        ({"epochs": 3}, 3),  # no batch size: the whole set is one step
        ({"epochs": 2, "batch_size": 3}, 4),  # ceil(4 / 3) = 2 batches per pass
        ({"epochs": 2, "batch_size": 4}, 2),
        ({"epochs": 2, "batch_size": 100}, 2),
    ],
)
def test_steps_or_epochs_set_the_number_of_steps(kwargs: dict[str, Any], steps: int) -> None:
    history = _fit(loss="hinge", **kwargs)
    assert history.steps == steps == len(history.lr)


def test_validation_runs_every_validate_every_steps_and_is_recorded() -> None:
    X, y = nn.data.xor()
    history = _fit(loss="hinge", steps=10, validation=(X, y), validate_every=3)
    assert history.val_step == [2, 5, 8]
    assert len(history.val_loss) == len(history.val_accuracy) == 3
    assert len(history.loss) == len(history.accuracy) == 10


def test_accuracy_auto_follows_a_named_loss_and_none_turns_it_off() -> None:
    assert len(_fit(loss="hinge", steps=3).accuracy) == 3
    off = _fit(loss="hinge", steps=3, accuracy=None)
    assert off.accuracy == [] and off.final_accuracy is None
    measured = _fit(loss="mse", steps=3, accuracy=lambda outputs, targets: 0.25)
    assert measured.accuracy == [0.25] * 3 and measured.final_accuracy == 0.25


def test_the_final_loss_is_over_the_whole_set_with_the_l2_penalty() -> None:
    X, y = nn.data.xor()
    model = nn.MLP(2, [3, 1], rng=0)
    history = _fit(model=model, loss="hinge", steps=4, l2=0.01, batch_size=2)
    data_loss = nn.losses.hinge(nn.predict(model, X), y).data
    penalty = nn.losses.l2(model.parameters(), 0.01).data
    assert history.final_loss == pytest.approx(data_loss + penalty, rel=1e-12)


def test_the_learning_rate_of_every_step_is_recorded() -> None:
    model = nn.MLP(2, [2, 1], rng=0)
    optimizer = SGD(model.parameters(), lr=1.0, schedule=lambda step: 1.0 / (step + 1))
    history = _fit(model=model, optimizer=optimizer, loss="hinge", steps=4)
    assert history.lr == [1.0, 0.5, 1.0 / 3, 0.25]


def test_the_same_seed_gives_the_same_mini_batches() -> None:
    runs = [_fit(loss="hinge", steps=6, batch_size=2, seed=seed).loss for seed in (3, 3, 4)]
    assert runs[0] == runs[1] != runs[2]
