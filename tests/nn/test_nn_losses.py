"""nn.losses and nn.metrics: values against hand formulas, gradients against central differences,
numerical stability at extreme logits, and clear errors for bad targets."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import valuegrad.nn as nn
from valuegrad.autograd import Value, topological_order
from valuegrad.autograd.testing.oracles import central_differences, close
from valuegrad.nn import losses, metrics

finite = st.floats(-8.0, 8.0, allow_nan=False)


def check_gradients(loss_fn, xs: list[float], shape, targets, rel: float = 1e-5) -> None:
    """loss_fn(outputs, targets) gradients w.r.t. the outputs equal central differences."""
    values = [Value(x) for x in xs]
    loss = loss_fn(shape(values), targets)
    loss.backward()
    numeric = central_differences(lambda *fs: loss_fn(shape([Value(f) for f in fs]), targets).data, xs)
    for v, n in zip(values, numeric):
        assert close(v.grad, n, rel=rel, abs_=1e-7)


# ----------------------------------------------------------------- values


def test_mse_value_by_hand() -> None:
    loss = losses.mse([Value(1.0), [Value(3.0)]], [0.0, 1.0])
    assert loss.data == (1.0 + 4.0) / 2
    vector = losses.mse([[Value(1.0), Value(2.0)]], [[0.0, 0.0]], reduction="sum")
    assert vector.data == 5.0


def test_hinge_value_by_hand_with_both_label_conventions() -> None:
    scores = [Value(2.0), Value(0.5), Value(-0.25)]
    expected = (max(0, 1 - 2.0) + max(0, 1 - 0.5) + max(0, 1 - 0.25)) / 3
    assert losses.hinge(scores, [1, 1, -1]).data == pytest.approx(expected)
    assert losses.hinge(scores, [1, 1, 0]).data == pytest.approx(expected)


def test_bce_with_logits_matches_definition() -> None:
    z, y = 0.7, 1.0
    sigma = 1 / (1 + math.exp(-z))
    assert losses.binary_cross_entropy_with_logits([Value(z)], [y]).data == pytest.approx(-math.log(sigma))
    assert losses.binary_cross_entropy_with_logits([Value(z)], [0]).data == pytest.approx(-math.log(1 - sigma))
    soft = losses.binary_cross_entropy_with_logits([Value(z)], [0.3]).data
    assert soft == pytest.approx(-(0.3 * math.log(sigma) + 0.7 * math.log(1 - sigma)))


def test_cross_entropy_is_negative_log_softmax() -> None:
    logits = [1.0, -0.5, 2.0]
    expected = -math.log(math.exp(2.0) / sum(math.exp(v) for v in logits))
    assert losses.cross_entropy([[Value(v) for v in logits]], [2]).data == pytest.approx(expected)


def test_l2_is_sum_of_squares_in_one_dot_node() -> None:
    params = [Value(1.0), Value(-2.0), Value(3.0)]
    penalty = losses.l2(params, alpha=0.5)
    assert penalty.data == 0.5 * 14.0
    penalty.backward()
    assert [p.grad for p in params] == [1.0, -2.0, 3.0]
    assert [v.op for v in topological_order(penalty) if v.parents] == ["dot", "mul_const"]


def test_batch_reduction_is_one_node_over_the_per_sample_terms() -> None:
    scores = [Value(float(i)) for i in range(10)]
    loss = losses.hinge(scores, [1] * 10)
    assert loss.op == "dot" and len(loss.parents) == 10
    assert losses.hinge(scores, [1] * 10, reduction="sum").data == pytest.approx(loss.data * 10)


# --------------------------------------------------------------- stability


@pytest.mark.parametrize("z", [-1000.0, -40.0, 40.0, 1000.0])
def test_bce_with_logits_is_finite_for_extreme_logits(z: float) -> None:
    for y in (0, 1):
        v = Value(z)
        loss = losses.binary_cross_entropy_with_logits([v], [y])
        loss.backward()
        assert math.isfinite(loss.data) and math.isfinite(v.grad)
        wrong = (y == 1 and z < 0) or (y == 0 and z > 0)
        assert loss.data == pytest.approx(abs(z) if wrong else 0.0, abs=1e-15)


def test_cross_entropy_is_finite_for_huge_logits() -> None:
    row = [Value(1000.0), Value(-1000.0), Value(999.0)]
    loss = losses.cross_entropy([row], [2])
    loss.backward()
    # logsumexp = 1000 + log(1 + e^-2000 + e^-1), minus the target logit 999.
    assert loss.data == pytest.approx(1.0 + math.log1p(math.exp(-1.0)), rel=1e-12)
    assert all(math.isfinite(v.grad) for v in row)
    assert sum(v.grad for v in row) == pytest.approx(0.0, abs=1e-12)


# --------------------------------------------------------------- gradients


@given(st.lists(finite, min_size=1, max_size=5), st.data())
def test_mse_gradient_matches_central_differences(xs: list[float], data) -> None:
    targets = data.draw(st.lists(finite, min_size=len(xs), max_size=len(xs)))
    check_gradients(losses.mse, xs, lambda vs: list(vs), targets)


@given(st.lists(finite, min_size=1, max_size=5), st.data())
def test_bce_gradient_matches_central_differences(xs: list[float], data) -> None:
    targets = data.draw(st.lists(st.sampled_from([0, 1, 0.25, 0.9]), min_size=len(xs), max_size=len(xs)))
    check_gradients(losses.binary_cross_entropy_with_logits, xs, lambda vs: [[v] for v in vs], targets)


@given(st.lists(finite, min_size=6, max_size=6), st.lists(st.integers(0, 2), min_size=2, max_size=2))
def test_cross_entropy_gradient_matches_central_differences(xs: list[float], classes: list[int]) -> None:
    check_gradients(losses.cross_entropy, xs, lambda vs: [vs[:3], vs[3:]], classes)


@given(st.lists(finite, min_size=1, max_size=5), st.data())
def test_hinge_gradient_matches_central_differences(xs: list[float], data) -> None:
    labels = data.draw(st.lists(st.sampled_from([-1, 1]), min_size=len(xs), max_size=len(xs)))
    # The hinge has a kink where y*s == 1; central differences are meaningless right at it.
    if any(abs(1 - y * x) < 1e-4 for x, y in zip(xs, labels)):
        return
    check_gradients(losses.hinge, xs, list, labels)


def test_cross_entropy_gradient_is_softmax_minus_onehot() -> None:
    row = [Value(0.1), Value(0.2), Value(-0.3)]
    losses.cross_entropy([row], [1]).backward()
    exps = [math.exp(v.data) for v in row]
    softmax = [e / sum(exps) for e in exps]
    assert [v.grad for v in row] == pytest.approx([softmax[0], softmax[1] - 1, softmax[2]], rel=1e-12)


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: losses.mse([Value(1.0)], [1.0, 2.0]), ValueError, "1 outputs but 2 targets"),
        (lambda: losses.mse([], []), ValueError, "the batch is empty"),
        (lambda: losses.mse([[Value(1.0), Value(2.0)]], [[1.0]]), ValueError, "2 outputs but its target has 1"),
        (lambda: losses.hinge([Value(1.0)], [2]), ValueError, r"labels must be \+1/-1 \(or 1/0\)"),
        (lambda: losses.hinge([[Value(1.0), Value(2.0)]], [1]), ValueError, "one score per sample"),
        (lambda: losses.binary_cross_entropy_with_logits([Value(0.0)], [1.5]), ValueError, r"must lie in \[0, 1\]"),
        (lambda: losses.cross_entropy([[Value(0.0), Value(1.0)]], [2]), ValueError, "an int from 0 to 1"),
        (lambda: losses.cross_entropy([[Value(0.0), Value(1.0)]], [True]), ValueError, "an int from 0 to 1"),
        (lambda: losses.hinge([Value(1.0)], ["1"]), TypeError, r"must be a number \(an int or a float\), got str"),
        (
            lambda: losses.mse([Value(1.0)], [math.nan]),
            ValueError,
            "mse: target 0 must be a finite number, got float nan",
        ),
        (lambda: losses.l2([Value(1.0)], alpha=-1.0), ValueError, "l2: alpha must be a finite number >= 0"),
        (lambda: losses.mse([Value(1.0)], [1.0], reduction="avg"), ValueError, "reduction must be 'mean' or 'sum'"),
        (lambda: losses.l2([1.0]), TypeError, "parameter 0 is a float, expected a Value"),
    ],
)
def test_bad_loss_arguments_say_what_is_wrong(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call()


# ----------------------------------------------------------------- metrics


def test_accuracy_measures() -> None:
    assert metrics.binary_accuracy([[Value(0.5)], [Value(-0.1)], [Value(0.2)]], [1, 0, -1]) == pytest.approx(2 / 3)
    assert metrics.argmax_accuracy([[0.1, 0.9], [0.8, 0.2]], [1, 1]) == 0.5
    assert metrics.within_half_accuracy([[0.9, 0.1], [0.4, 0.6]], [[1, 0], [1, 0]]) == 0.5


def test_model_outputs_feed_losses_directly() -> None:
    model = nn.MLP(2, [3, 1], rng=0)
    X, y = nn.data.xor()
    scores = [model(x) for x in X]
    loss = losses.hinge(scores, y)
    # the mean of max(0, 1 - y·score), written out over the model's own outputs
    signs = [1.0 if label > 0 else -1.0 for label in y]
    by_hand = sum(max(0.0, 1.0 - sign * score[0].data) for score, sign in zip(scores, signs)) / len(y)
    assert isinstance(loss, Value) and loss.data == pytest.approx(by_hand, rel=1e-12)
    loss.backward()
    assert any(p.grad != 0.0 for p in model.parameters())
