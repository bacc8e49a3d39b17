"""nn.fit: the lectures' learning problems are learned; history, batches, early stopping, errors."""

from __future__ import annotations

import math

import pytest

import valuegrad.nn as nn
from valuegrad.nn.optim import SGD, Adam, linear_schedule


def test_moons_reaches_full_train_accuracy_with_micrograds_recipe(capsys) -> None:
    # micrograd's demo: MLP(2, [16, 16, 1]), 100 points, hinge + 1e-4 L2, full-batch SGD, lr 1.0 -> 0.1.
    X, y = nn.data.moons(100, noise=0.1, seed=0)
    model = nn.MLP(2, [16, 16, 1], rng=0)
    optimizer = SGD(model.parameters(), lr=1.0, schedule=linear_schedule(1.0, 0.1, 100))
    history = nn.fit(model, X, y, loss="hinge", l2=1e-4, optimizer=optimizer, steps=100, progress=False)
    assert history.final_accuracy == 1.0
    assert history.steps == 100 and history.lr[0] == 1.0 and history.lr[-1] == pytest.approx(0.109)
    assert history.loss[-1] < history.loss[0] / 10
    predictions = nn.predict(model, X)
    assert all((p[0] > 0) == (t == 1) for p, t in zip(predictions, y))
    assert capsys.readouterr().err == ""  # progress=False means no bar


def test_xor_is_learned() -> None:
    X, y = nn.data.xor()
    model = nn.MLP(2, [4, 1], activation="tanh", rng=0)
    history = nn.fit(model, X, y, loss="hinge", optimizer=SGD(model.parameters(), lr=0.5), steps=100, progress=False)
    assert history.final_accuracy == 1.0
    scores = [s[0] for s in nn.predict(model, X)]
    assert [s > 0 for s in scores] == [False, True, True, False]


def test_xor_with_logistic_loss_and_sigmoid_units() -> None:
    X, y = nn.data.xor()
    model = nn.MLP(2, [3, 1], activation="sigmoid", rng=1)
    history = nn.fit(model, X, y, loss="bce", optimizer=Adam(model.parameters(), lr=0.1), steps=300, progress=False)
    assert history.final_accuracy == 1.0


@pytest.mark.parametrize("seed", [0, 1])
def test_8_3_8_encoder_reconstructs_all_codes_through_3_hidden_units(seed: int) -> None:
    codes, _ = nn.data.encoder_8_3_8()
    which = [row.index(1.0) for row in codes]
    model = nn.MLP(8, [3, 8], activation="tanh", rng=seed)
    nn.fit(
        model, codes, which, loss="cross_entropy", optimizer=Adam(model.parameters(), lr=0.1), steps=200, progress=False
    )
    for code, out in zip(codes, nn.predict(model, codes)):
        assert out.index(max(out)) == code.index(1.0)
    # The 3-unit bottleneck gives 8 distinct hidden codes.
    hidden = {tuple(round(h.data, 3) for h in model.layers[0](code)) for code in codes}
    assert len(hidden) == 8


def test_8_3_8_encoder_with_squared_error_and_sigmoids_as_in_the_lectures() -> None:
    codes, targets = nn.data.encoder_8_3_8()
    model = nn.MLP(8, [3, 8], activation="sigmoid", output_activation="sigmoid", rng=1)
    history = nn.fit(
        model, codes, targets, loss="mse", optimizer=Adam(model.parameters(), lr=0.1), steps=300, progress=False
    )
    assert history.final_accuracy == 1.0  # every output within 0.5 of its 0/1 target


def test_minibatches_and_epochs() -> None:
    X, y = nn.data.circles(40, seed=0)
    model = nn.MLP(2, [8, 1], rng=0)
    history = nn.fit(model, X, y, loss="hinge", epochs=3, batch_size=16, progress=False)
    assert history.steps == 3 * 3  # ceil(40 / 16) batches per epoch


def test_validation_and_early_stopping_restore_the_best_parameters() -> None:
    X, y = nn.data.moons(60, noise=0.3, seed=0)
    X_train, y_train, X_val, y_val = nn.data.split(X, y, 0.3, seed=0)
    model = nn.MLP(2, [16, 16, 1], rng=0)
    history = nn.fit(
        model,
        X_train,
        y_train,
        loss="hinge",
        optimizer=SGD(model.parameters(), lr=1.0),  # a rate too high to settle: validation loss wobbles
        steps=200,
        validation=(X_val, y_val),
        patience=5,
        progress=False,
    )
    assert history.stopped_early and history.steps < 200
    assert len(history.val_loss) == history.steps == len(history.val_accuracy)
    best = min(history.val_loss)
    assert history.best_step == history.val_step[history.val_loss.index(best)]
    restored = nn.losses.hinge(nn.predict(model, X_val), y_val).data
    assert restored == pytest.approx(best, rel=1e-12)
    assert history.val_loss.index(best) == history.steps - 1 - 5


def test_early_stopping_on_training_loss_restores_the_parameters_it_measured() -> None:
    X, y = nn.data.xor()
    model = nn.MLP(2, [4, 1], activation="tanh", rng=0)
    history = nn.fit(
        model, X, y, loss="hinge", optimizer=SGD(model.parameters(), lr=0.5), steps=500, patience=3, progress=False
    )
    assert history.stopped_early
    assert nn.losses.hinge(nn.predict(model, X), y).data == pytest.approx(min(history.loss), abs=1e-12)


def test_custom_loss_function_and_accuracy() -> None:
    X, y = nn.data.xor()
    model = nn.MLP(2, [4, 1], rng=0)

    def loss(outputs, targets):
        return nn.losses.mse(outputs, targets)

    history = nn.fit(model, X, y, loss=loss, steps=5, progress=False)
    assert history.accuracy == [] and history.final_accuracy is None
    history = nn.fit(model, X, y, loss=loss, steps=5, accuracy=nn.metrics.within_half_accuracy, progress=False)
    assert len(history.accuracy) == 5


def test_progress_bar_is_shown_by_default(capsys) -> None:
    X, y = nn.data.xor()
    nn.fit(nn.MLP(2, [2, 1], rng=0), X, y, loss="hinge", steps=3)
    assert "3/3" in capsys.readouterr().err


def test_divergence_is_reported_not_silently_returned() -> None:
    X, y = nn.data.xor()
    model = nn.MLP(2, [4, 1], rng=0)
    with pytest.raises(FloatingPointError, match="training diverged -- lower the learning rate"):
        nn.fit(model, X, y, loss="mse", optimizer=SGD(model.parameters(), lr=1e200), steps=20, progress=False)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"loss": "mae"}, ValueError, "unknown loss 'mae'"),
        ({"loss": 3}, TypeError, "loss must be a loss name or a function"),
        ({"steps": 0}, ValueError, "fit: steps must be a whole number >= 1, got int 0"),
        ({"steps": 5, "epochs": 5}, ValueError, "steps or epochs, not both"),
        ({"batch_size": 0}, ValueError, "batch_size must be a whole number >= 1"),
        ({"l2": -1.0}, ValueError, "l2 must be a finite number >= 0"),
        ({"validation": ([[0.0, 0.0]], [])}, ValueError, "1 inputs but 0 targets"),
        ({"validation": [[0.0, 0.0]]}, ValueError, "validation must be a pair"),
        ({"l2": 10**400}, ValueError, "l2 must be a number that fits in a float"),
        ({"seed": 1.5}, TypeError, "seed must be a whole number"),
        ({"patience": 0}, ValueError, "patience must be a whole number >= 1"),
    ],
)
def test_bad_fit_arguments(kwargs, error, message) -> None:
    X, y = nn.data.xor()
    with pytest.raises(error, match=message):
        nn.fit(nn.MLP(2, [2, 1], rng=0), X, y, progress=False, **kwargs)


def test_fit_trains_inside_an_enclosing_no_grad() -> None:
    from valuegrad.autograd import no_grad

    X, y = nn.data.xor()
    inside, outside = nn.MLP(2, [2, 1], rng=0), nn.MLP(2, [2, 1], rng=0)
    with no_grad():
        nn.fit(inside, X, y, loss="hinge", steps=3, progress=False)
    nn.fit(outside, X, y, loss="hinge", steps=3, progress=False)
    assert inside.state_dict() == outside.state_dict() != nn.MLP(2, [2, 1], rng=0).state_dict()


def test_fit_checks_its_flags() -> None:
    X, y = nn.data.xor()
    with pytest.raises(TypeError, match="progress must be True or False, got int 1"):
        nn.fit(nn.MLP(2, [2, 1], rng=0), X, y, progress=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("X", "y", "error", "message"),
    [
        ([[0.0, 1.0], [math.nan, 0.0]], [1, 0], ValueError, r"fit: X\[1\]\[0\] is nan; training data must be finite"),
        ([[0.0, 1.0], [1.0, 0.0]], [1, math.inf], ValueError, r"fit: y\[1\] is inf"),
        ([[0.0, 1e300], [1.0, 0.0]], [1, 0], ValueError, r"fit: X\[0\]\[1\] is 1e\+300, beyond 1e\+150"),
        ([[0.0, "1"], [1.0, 0.0]], [1, 0], TypeError, r"fit: X\[0\]\[1\] must be a number"),
        ([{0: 1.0, 1: 2.0}], [1], TypeError, r"fit: X\[0\] must be a list \(or tuple\), got dict"),
        ([[0.0, 1.0]], [[1.0, math.nan]], ValueError, r"fit: y\[0\]\[1\] is nan"),
        ({"a": [0.0, 1.0]}, [1], TypeError, "fit: X must be a list"),
    ],
)
def test_fit_checks_the_data_up_front_and_names_the_row(X, y, error, message) -> None:
    model = nn.MLP(2, [2, 1], rng=0)
    before = model.state_dict()
    with pytest.raises(error, match=message):
        nn.fit(model, X, y, loss="mse", progress=False)
    assert model.state_dict() == before


@pytest.mark.parametrize("returned", [0.5, None, [1.0]])
def test_a_loss_that_returns_no_value_says_what_a_loss_must_return(returned) -> None:
    X, y = nn.data.xor()

    def bad_loss(outputs, targets):
        return returned

    with pytest.raises(TypeError, match=r"the loss bad_loss returned .*; a loss must return one Value built from"):
        nn.fit(nn.MLP(2, [2, 1], rng=0), X, y, loss=bad_loss, progress=False)


def test_fit_checks_data_shape() -> None:
    with pytest.raises(ValueError, match="2 inputs but 1 targets"):
        nn.fit(nn.MLP(2, [1], rng=0), [[0.0, 0.0], [1.0, 1.0]], [1], progress=False)
    with pytest.raises(TypeError, match=r"model must be an nn\.Module"):
        nn.fit(lambda x: x, [[0.0]], [1], progress=False)  # type: ignore[arg-type]
    assert math.isnan(nn.History().final_loss)


def test_training_leaves_the_cycle_collector_state_as_it_found_it() -> None:
    import gc

    X, y = nn.data.xor()
    assert gc.isenabled()
    nn.fit(nn.MLP(2, [2, 1], rng=0), X, y, steps=2, progress=False)
    assert gc.isenabled()
    model = nn.MLP(2, [4, 1], rng=0)
    with pytest.raises(FloatingPointError):
        nn.fit(model, X, y, loss="mse", optimizer=SGD(model.parameters(), lr=1e200), steps=20, progress=False)
    assert gc.isenabled()
    gc.disable()
    try:
        nn.fit(nn.MLP(2, [2, 1], rng=0), X, y, steps=2, progress=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_progress_bar_is_text_without_ipywidgets_and_auto_with_it(monkeypatch) -> None:
    import sys
    import types

    import tqdm
    import tqdm.auto

    from valuegrad.nn.train import _progress_bar

    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails as if not installed
    assert _progress_bar() is tqdm.tqdm
    monkeypatch.setitem(sys.modules, "ipywidgets", types.ModuleType("ipywidgets"))
    assert _progress_bar() is tqdm.auto.tqdm
