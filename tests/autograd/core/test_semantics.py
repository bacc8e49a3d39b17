"""Decided semantics: IEEE 754 results, clear TypeErrors, no_grad scoping, anomaly mode, functional transforms."""

from __future__ import annotations

import asyncio
import math
import threading
from fractions import Fraction
from typing import Callable

import pytest

from valuegrad import autograd
from valuegrad.autograd import Value, detect_anomaly, grad, gradients, hessian, no_grad, value_and_grad

INF, NAN = math.inf, math.nan


def _same(actual: float, expected: float) -> bool:
    if math.isnan(expected):
        return math.isnan(actual)
    return actual == expected and math.copysign(1, actual) == math.copysign(1, expected)


IEEE_CASES: list[tuple[str, Callable[[], Value], float]] = [
    ("1/0", lambda: 1 / Value(0.0), INF),
    ("-1/0", lambda: -1 / Value(0.0), -INF),
    ("1/-0", lambda: 1 / Value(-0.0), -INF),
    ("0/0", lambda: Value(0.0) / 0.0, NAN),
    ("x/0 Value", lambda: Value(3.0) / Value(0.0), INF),
    ("log 0", lambda: Value(0.0).log(), -INF),
    ("log -1", lambda: Value(-1.0).log(), NAN),
    ("sqrt -1", lambda: Value(-1.0).sqrt(), NAN),
    ("exp 1000", lambda: Value(1000.0).exp(), INF),
    ("exp -1000", lambda: Value(-1000.0).exp(), 0.0),
    ("0 ** -1", lambda: Value(0.0) ** -1, INF),
    ("-0 ** -1", lambda: Value(-0.0) ** -1, -INF),
    ("-0 ** -2", lambda: Value(-0.0) ** -2, INF),
    ("-8 ** (1/3)", lambda: Value(-8.0) ** (1 / 3), NAN),
    ("10 ** 400", lambda: Value(10.0) ** 400, INF),
    ("-10 ** 401", lambda: Value(-10.0) ** 401, -INF),
    ("2 ** Value(5000)", lambda: 2 ** Value(5000.0), INF),
    ("Value ** Value overflow", lambda: Value(1e10) ** Value(100.0), INF),
    ("0 ** Value(-1)", lambda: 0 ** Value(-1.0), INF),
    ("sin inf", lambda: Value(INF).sin(), NAN),
    ("cos -inf", lambda: Value(-INF).cos(), NAN),
    ("tanh 1e6", lambda: Value(1e6).tanh(), 1.0),
    ("sigmoid -1e6", lambda: Value(-1e6).sigmoid(), 0.0),
    ("sigmoid 1e6", lambda: Value(1e6).sigmoid(), 1.0),
    ("softplus 1e6", lambda: Value(1e6).softplus(), 1e6),
    ("softplus -1e6", lambda: Value(-1e6).softplus(), 0.0),
    ("elu -inf", lambda: Value(-INF).elu(), -1.0),
    ("relu nan", lambda: Value(NAN).relu(), NAN),
    ("hard_tanh nan", lambda: Value(NAN).hard_tanh(), NAN),
    ("huge int", lambda: Value(10**400) * 1.0, INF),
    ("logsumexp inf", lambda: autograd.logsumexp([Value(INF), Value(1.0)]), INF),
    ("inf - inf", lambda: Value(INF) - Value(INF), NAN),
    ("hypot 1e308", lambda: Value(1e308).hypot(Value(1e308)), math.hypot(1e308, 1e308)),
    ("hypot 1e-320", lambda: Value(1e-320).hypot(1e-320), math.hypot(1e-320, 1e-320)),
    ("hypot 2e308 overflow", lambda: Value(1.5e308).hypot(Value(1.5e308)), INF),
    ("hypot inf nan", lambda: Value(INF).hypot(Value(NAN)), INF),
    ("hypot nan -inf", lambda: autograd.hypot(NAN, Value(-INF)), INF),
    ("hypot nan", lambda: Value(NAN).hypot(1.0), NAN),
    ("hypot -0 -0", lambda: Value(-0.0).hypot(Value(-0.0)), 0.0),
]


@pytest.mark.parametrize(("case", "build", "expected"), IEEE_CASES, ids=[c[0] for c in IEEE_CASES])
def test_ieee_results_and_no_math_exceptions(case: str, build: Callable[[], Value], expected: float) -> None:
    out = build()
    assert _same(out.data, expected), f"{case}: got {out.data}"
    out.backward()  # backward never raises either
    for create_graph in (False, True):
        gradients(out, list(out.parents), create_graph=create_graph)


@pytest.mark.parametrize(
    ("build", "expected_grad"),
    [
        (lambda x: x.sqrt(), INF),  # 0.5 / sqrt(0)
        (lambda x: x.log(), INF),  # 1 / 0
        (lambda x: x**0.5, INF),
        (lambda x: x**0, 0.0),  # slope of x**0 is 0 even at 0, not nan
        (lambda x: x ** Value(2.0), 0.0),
        (lambda x: x.abs(), 0.0),  # abs'(0) = 0
        (lambda x: x.relu(), 0.0),  # relu'(0) = 0
        (lambda x: x.leaky_relu(0.2), 0.2),
        (lambda x: x.elu(0.5), 0.5),
        (lambda x: 1 / x, -INF),  # -(1/0)/0
        (lambda x: x.hypot(x), 0.0),  # hypot'(0, 0) = (0, 0), not 0/0
        (lambda x: x.hypot(0.0), 0.0),
        (lambda x: x.hypot(2.0), 0.0),  # x / h
    ],
)
def test_gradients_at_zero_follow_ieee_and_the_documented_kinks(
    build: Callable[[Value], Value], expected_grad: float
) -> None:
    x = Value(0.0)
    build(x).backward()
    assert _same(x.grad, expected_grad)


def test_hard_tanh_kinks_have_zero_slope() -> None:
    for point, slope in [(-1.0, 0.0), (1.0, 0.0), (0.5, 1.0), (2.0, 0.0)]:
        x = Value(point)
        x.hard_tanh().backward()
        assert x.grad == slope


def test_exponent_gradient_of_pow_at_zero_base() -> None:
    base, exponent = Value(0.0), Value(2.0)
    (base**exponent).backward()
    assert exponent.grad == 0.0  # 0**y * log(0) taken as 0, as PyTorch does


# ---------------------------------------------------------------- TypeErrors


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("1.5", r"got str '1.5'.*Value\(float\(text\)\)"),
        (None, r"got NoneType None"),
        (1 + 2j, r"got complex.*real scalars only"),
        (True, r"got bool True.*booleans are not numbers"),
        (Value(1.0), r"got Value.*already a Value"),
        ([1.0], r"got list"),
    ],
)
def test_value_rejects_non_numbers_with_a_helpful_message(bad: object, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        Value(bad)  # type: ignore[arg-type]


def test_value_accepts_real_numbers() -> None:
    assert Value(3).data == 3.0 and isinstance(Value(3).data, float)
    assert Value(Fraction(1, 4)).data == 0.25
    with pytest.raises(TypeError, match="label must be a str"):
        Value(1.0, label=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("other", ["2", None, 1j, True, [1.0]])
def test_unsupported_operands_raise_pythons_own_type_error(other: object) -> None:
    x = Value(1.0)
    for operation in (
        lambda: x + other,
        lambda: other + x,
        lambda: x * other,
        lambda: other * x,
        lambda: x - other,
        lambda: other - x,
        lambda: x / other,
        lambda: other / x,
        lambda: x**other,
        lambda: other**x,
    ):
        with pytest.raises(TypeError, match=r"unsupported operand|can't multiply|can only concatenate"):
            operation()
    with pytest.raises(TypeError):
        _ = x < other  # type: ignore[operator]


def test_mixed_arithmetic_works_on_both_sides() -> None:
    x = Value(2.0)
    assert [(2 * x).data, (x * 2).data, (x**3).data, (2**x).data, (x**x).data] == [4.0, 4.0, 8.0, 4.0, 4.0]
    assert [(1 - x).data, (x - 1).data, (1 / x).data, (x / 4).data, (-x).data] == [-1.0, 1.0, 0.5, 0.5, -2.0]
    assert (+x) is x and abs(Value(-3.0)).data == 3.0


# -------------------------------------------------------------------- no_grad


def test_no_grad_records_no_parents_as_context_and_decorator() -> None:
    x = Value(2.0)
    with no_grad():
        y = x * x + 1
        inner = autograd.dot([x], [x])
    assert y.parents == () and y.op is None and inner.parents == ()
    assert (x * x).parents == (x, x)

    @no_grad()
    def detached(v: Value) -> Value:
        return v.exp()

    assert detached(x).parents == ()
    assert (x * 1).parents == (x,)


def test_no_grad_nests_and_restores_after_an_exception() -> None:
    x = Value(1.0)
    with pytest.raises(RuntimeError), no_grad():
        with no_grad():
            pass
        assert (x + 1).parents == ()
        raise RuntimeError
    assert (x + 1).parents == (x,)


def test_no_grad_does_not_leak_into_other_threads_or_tasks() -> None:
    x = Value(1.0)
    seen: dict[str, int] = {}
    entered, checked = threading.Event(), threading.Event()

    def other_thread() -> None:
        entered.wait(5)
        seen["thread"] = len((x + 1).parents)
        checked.set()

    worker = threading.Thread(target=other_thread)
    worker.start()
    with no_grad():
        entered.set()
        checked.wait(5)
    worker.join(5)
    assert seen["thread"] == 1

    async def main() -> None:
        started = asyncio.Event()

        async def inside() -> None:
            with no_grad():
                started.set()
                await asyncio.sleep(0.01)

        async def outside() -> None:
            await started.wait()
            seen["task"] = len((x + 1).parents)

        await asyncio.gather(inside(), outside())

    asyncio.run(main())
    assert seen["task"] == 1


# ------------------------------------------------------------------- anomaly


def test_anomaly_mode_names_sqrt_for_sqrt_of_zero_times_zero() -> None:
    with detect_anomaly():
        x = Value(0.0)
        y = x.sqrt() * 0
        with pytest.raises(FloatingPointError, match=r"op 'sqrt' returned nan") as info:
            y.backward()
    message = str(info.value)
    assert "test_semantics.py" in message  # where the node was created, user frames only
    assert "autograd/engine.py" not in message


def test_anomaly_mode_catches_forward_overflow_at_the_op_that_made_it() -> None:
    with detect_anomaly():
        x = Value(1000.0)
        with pytest.raises(FloatingPointError, match=r"op 'exp' produced inf in the forward pass"):
            x.exp()
        inf = Value(math.inf)
        assert (inf + 1).data == INF  # propagating an existing inf is not a new anomaly


def test_anomaly_mode_covers_create_graph_and_is_off_outside() -> None:
    with detect_anomaly():
        x = Value(0.0)
        y = x.sqrt() * 0
        with pytest.raises(FloatingPointError, match="sqrt"):
            gradients(y, [x], create_graph=True)
    x = Value(0.0)
    y = x.sqrt() * 0
    y.backward()
    assert math.isnan(x.grad)


# ---------------------------------------------------------------- functional


def test_grad_nests_to_third_order() -> None:
    t = math.tanh(0.3)
    third = grad(grad(grad(lambda x: x.tanh())))(0.3)
    assert third == pytest.approx(-2 + 8 * t**2 - 6 * t**4, rel=1e-12)
    assert isinstance(third, float)


def test_grad_argnums_value_and_grad_and_hessian() -> None:
    def f(x: Value, y: Value) -> Value:
        return x * x * y + y.sin()

    assert grad(f)(1.0, 2.0) == 4.0
    assert grad(f, argnums=1)(1.0, 2.0) == pytest.approx(1 + math.cos(2.0))
    value, (dx, dy) = value_and_grad(f, argnums=(0, 1))(1.0, 2.0)
    assert value == pytest.approx(2 + math.sin(2.0)) and dx == 4.0 and dy == pytest.approx(1 + math.cos(2.0))
    h = hessian(f)(1.0, 2.0)
    assert h[0] == [4.0, 2.0] and h[1][0] == 2.0 and h[1][1] == pytest.approx(-math.sin(2.0))
    assert grad(lambda x: 3.0)(1.0) == 0.0
    with pytest.raises(ValueError, match="argnums"):
        grad(f, argnums=2)(1.0, 2.0)
    with pytest.raises(TypeError, match="must return a scalar"):
        grad(lambda x: "nope")(1.0)


def test_grad_of_a_function_that_uses_an_outer_variable() -> None:
    # d/dx [x * d/dy (x*y)] = d/dx x² = 2x: the inner derivative must stay a function of x.
    assert grad(lambda x: x * grad(lambda y: x * y)(3.0))(2.0) == 4.0
