"""nn.optim: each update rule against a hand computation; schedules; argument errors."""

from __future__ import annotations

import math

import pytest

from valuegrad.autograd import Value
from valuegrad.nn.optim import SGD, Adam, linear_schedule


def params_with_grads(values: list[float], grads: list[float]) -> list[Value]:
    params = [Value(v) for v in values]
    for p, g in zip(params, grads):
        p.grad = g
    return params


def test_plain_sgd_is_micrograd_update() -> None:
    params = params_with_grads([1.0, -2.0], [0.5, -4.0])
    SGD(params, lr=0.1).step()
    assert [p.data for p in params] == [1.0 - 0.05, -2.0 + 0.4]


def test_sgd_momentum_and_weight_decay_by_hand() -> None:
    (p,) = params_with_grads([1.0], [2.0])
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.5)
    opt.step()  # g = 2 + 0.5*1 = 2.5; v = 2.5; p = 1 - 0.25
    assert p.data == pytest.approx(0.75)
    p.grad = 2.0
    opt.step()  # g = 2 + 0.375 = 2.375; v = 0.9*2.5 + 2.375 = 4.625; p = 0.75 - 0.4625
    assert p.data == pytest.approx(0.2875)


def test_schedule_sets_the_rate_per_step() -> None:
    (p,) = params_with_grads([0.0], [1.0])
    opt = SGD([p], lr=1.0, schedule=linear_schedule(1.0, 0.1, 100))
    rates = []
    for _ in range(3):
        rates.append(opt.current_lr)
        opt.step()
    assert rates == pytest.approx([1.0, 0.991, 0.982])  # micrograd: 1.0 - 0.9 * k / 100
    assert p.data == pytest.approx(-sum(rates))
    assert linear_schedule(1.0, 0.1, 100)(250) == pytest.approx(0.1)


def test_adam_matches_hand_computation() -> None:
    (p,) = params_with_grads([1.0], [0.5])
    opt = Adam([p], lr=0.1, betas=(0.9, 0.999), eps=1e-8)
    m = v = 0.0
    expected = 1.0
    for t, g in enumerate([0.5, -0.2, 0.3], start=1):
        p.grad = g
        opt.step()
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        expected -= 0.1 * (m / (1 - 0.9**t)) / (math.sqrt(v / (1 - 0.999**t)) + 1e-8)
        assert p.data == pytest.approx(expected, rel=1e-12)


def test_adam_first_step_moves_by_lr_whatever_the_gradient_scale() -> None:
    for g in (1e-3, -1.0, 1e6):  # (well above eps = 1e-8, which would shrink the step)
        (p,) = params_with_grads([0.0], [g])
        Adam([p], lr=0.01).step()
        assert p.data == pytest.approx(-0.01 * math.copysign(1.0, g), rel=1e-4)


def test_zero_grad() -> None:
    params = params_with_grads([1.0, 2.0], [3.0, 4.0])
    SGD(params, lr=0.1).zero_grad()
    assert [p.grad for p in params] == [0.0, 0.0]


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: SGD([], lr=0.1), ValueError, "got no parameters"),
        (lambda: SGD([1.0], lr=0.1), TypeError, "parameter 0 is a float"),
        (lambda: SGD([Value(1.0)], lr=-1), ValueError, "SGD: lr must be a finite number > 0, got int -1"),
        (lambda: SGD([Value(1.0)], lr=math.nan), ValueError, "lr must be a finite number, got float nan"),
        (lambda: SGD([Value(1.0)], lr=0.1, momentum="0.9"), TypeError, "momentum must be a number"),
        (lambda: SGD([Value(1.0)], lr=0.1, schedule=0.5), TypeError, "schedule must be callable"),
        (lambda: Adam([Value(1.0)], betas=(1.0, 0.999)), ValueError, r"betas\[0\] must be in \[0, 1\)"),
        (lambda: linear_schedule(1.0, 0.1, 0), ValueError, "steps must be a whole number >= 1"),
        (lambda: Adam([Value(1.0)], eps=0), ValueError, "Adam: eps must be a finite number > 0, got int 0"),
        (lambda: Adam([Value(1.0)], eps=math.inf), ValueError, "Adam: eps must be a finite number"),
        (lambda: Adam([Value(1.0)], betas=(0.9, 0.9, 0.9)), ValueError, r"betas must be a pair \(beta1, beta2\)"),
        (lambda: Adam([Value(1.0)], betas=0.9), ValueError, "betas must be a pair"),
        (lambda: Adam([Value(1.0)], betas=(0.9, -0.1)), ValueError, r"betas\[1\] must be in \[0, 1\)"),
        (lambda: Adam([Value(1.0)], lr=0), ValueError, "Adam: lr must be a finite number > 0"),
        (lambda: Adam([Value(1.0)], lr=10**400), ValueError, "lr must be a number that fits in a float"),
        (lambda: Adam([Value(1.0)], weight_decay=-1), ValueError, "weight_decay must be a finite number >= 0"),
        (lambda: SGD([Value(1.0)], momentum=1.0), ValueError, r"momentum must be in \[0, 1\)"),
        (lambda: SGD([Value(1.0)], lr=True), TypeError, "lr must be a number"),
        (lambda: SGD(Value(1.0)), TypeError, "takes a list of parameters"),
        (lambda: SGD(__import__("valuegrad.nn").nn.MLP(2, [1], rng=0)), TypeError, "pass model.parameters()"),
        (lambda: linear_schedule(1.0, math.nan, 5), ValueError, "end must be a finite number"),
    ],
)
def test_bad_optimizer_arguments(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_a_schedule_returning_a_bad_rate_is_refused_at_that_step() -> None:
    (p,) = params_with_grads([0.0], [1.0])
    opt = SGD([p], lr=0.1, schedule=lambda step: "fast")
    with pytest.raises(TypeError, match=r"schedule\(0\) must be a number"):
        opt.step()
    assert p.data == 0.0


def test_zero_gradient_with_adam_is_a_zero_step_not_a_zerodivisionerror() -> None:
    (p,) = params_with_grads([1.0], [0.0])
    Adam([p]).step()
    assert p.data == 1.0
