"""``autograd.gradcheck``: it passes correct gradients and, just as important, fails wrong ones."""

from __future__ import annotations

import doctest
import math
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuegrad import autograd
from valuegrad.autograd import GradcheckError, Value, gradcheck
from valuegrad.autograd.gradient_check import Comparison
from valuegrad.autograd.testing.optable import ROWS, OpRow
from valuegrad.autograd.testing.strategies import Expression, MLPCase, expressions, mlps, op_inputs

# ------------------------------------------------------------------ passes


def test_passes_on_correct_gradients_and_returns_true() -> None:
    assert gradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, 0.3, -1.2) is True
    assert gradcheck(lambda x, y: (x * y).tanh() + x.exp() / y, 0.3, -1.2, order=2) is True


def test_accepts_values_as_inputs_and_uses_their_data() -> None:
    assert gradcheck(lambda x: x.sin() * x, Value(0.4), order=2)


def test_constant_and_ignored_inputs_have_zero_gradient() -> None:
    assert gradcheck(lambda x: 3.0, 1.0)
    assert gradcheck(lambda x, y: y * y, 1.0, 2.0, order=2)


def test_checks_a_nested_grad() -> None:
    """grad(f) on a Value returns a differentiable Value, so the derivative itself can be checked."""
    assert gradcheck(autograd.grad(lambda x: x.tanh()), 0.3, order=2)


@pytest.mark.parametrize("r", ROWS, ids=[r.name for r in ROWS])
@settings(max_examples=max(5, settings().max_examples // 5))
@given(data=st.data())
def test_passes_on_every_op_of_the_table_to_second_order(r: OpRow, data: Any) -> None:
    xs, cs = data.draw(op_inputs(r, margin=0.05), label="inputs, constants")
    assert gradcheck(lambda *v: r.on_values(*v, *cs), *xs, order=2)


@given(expressions(max_ops=6))
def test_passes_on_random_expression_dags(expr: Expression) -> None:
    assert gradcheck(expr.on_values, *expr.inputs)


@settings(max_examples=max(5, settings().max_examples // 3))
@given(expressions(n_inputs=(1, 2), max_ops=4))
def test_passes_on_random_expression_dags_to_second_order(expr: Expression) -> None:
    assert gradcheck(expr.on_values, *expr.inputs, order=2)


@settings(max_examples=max(5, settings().max_examples // 3))
@given(mlps(3, [4, 4, 2]))
def test_passes_on_every_weight_of_an_mlp(mlp: MLPCase) -> None:
    assert gradcheck(mlp, *mlp.params)


# ------------------------------------------------------------------- fails


def test_fails_when_the_graph_is_broken_with_data() -> None:
    """x * x.data has the value of x² but the engine sees a constant factor: half the slope."""
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x * x.data, 1.5)
    message = str(info.value)
    assert "first derivatives disagree" in message
    for column in ("input", "analytic", "numeric", "abs err", "rel err"):
        assert column in message
    assert "✗  d/dx[0]" in message
    (row,) = info.value.rows
    assert (row.analytic, round(row.expected, 6), row.ok) == (1.5, 3.0, False)
    assert math.isclose(row.rel_error, 1.5 / 4.5)
    assert gradcheck(lambda x: x * x.data, 1.5, raise_exception=False) is False


@given(st.floats(0.1, 10.0))
def test_graph_breaking_always_fails(x: float) -> None:
    assert not gradcheck(lambda v: v * v.data, x, raise_exception=False)


def test_is_an_assertion_error_so_it_reads_as_a_test_failure() -> None:
    assert issubclass(GradcheckError, AssertionError)
    with pytest.raises(AssertionError):
        gradcheck(lambda x: Value(x.data) * x, 2.0)


def test_only_the_wrong_partial_is_marked() -> None:
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x, y: x * y.data + y.tanh(), 2.0, 0.5)
    ok = [row.ok for row in info.value.rows]
    assert ok == [True, False]
    lines = str(info.value).splitlines()
    assert lines[-2].startswith("   d/dx[0]") and lines[-1].startswith("✗  d/dx[1]")


def test_a_gradient_scaled_by_a_hook_fails() -> None:
    def f(x: Value) -> Value:
        h = x * x
        h.register_hook(lambda g: g * 1.01)  # a 1% error in one interior adjoint
        return h.sin()

    assert not gradcheck(f, 0.8, raise_exception=False)
    assert gradcheck(f, 0.8, rtol=0.01, raise_exception=False)  # the tolerance is what decides


def test_the_defaults_fail_a_gradient_five_hundredths_of_a_percent_wrong() -> None:
    """PyTorch's tolerances (atol 1e-5, rtol 1e-3) pass this; the lecture's 1e-6 relative error does not."""

    def f(x: Value) -> Value:
        h = x * x
        h.register_hook(lambda g: g * 1.0005)
        return h.sin()

    with pytest.raises(GradcheckError) as info:
        gradcheck(f, 0.8)
    (row,) = info.value.rows
    assert 2e-4 < row.rel_error < 3e-4
    assert gradcheck(f, 0.8, atol=1e-5, rtol=1e-3)  # what the old defaults let through


def test_the_defaults_fail_a_lost_path_whose_true_derivative_is_small() -> None:
    """A path cut with .data that carried d/dy = 2.6e-6: the absolute error alone must catch it."""

    def f(x: Value, y: Value) -> Value:
        return x.sin() + 2.6e-6 * Value(y.data)

    with pytest.raises(GradcheckError) as info:
        gradcheck(f, 0.3, 0.9)
    assert [row.ok for row in info.value.rows] == [True, False]
    assert math.isclose(info.value.rows[1].expected, 2.6e-6, rel_tol=1e-3)
    assert gradcheck(f, 0.3, 0.9, atol=1e-5, rtol=1e-3)  # what the old defaults let through


def test_fails_when_a_second_backward_pass_differs() -> None:
    calls: list[int] = []

    def unstable(g: Any) -> Any:
        calls.append(1)
        return g if len(calls) % 2 else 3 * g

    def f(x: Value) -> Value:
        y = x.exp()
        y.register_hook(unstable)
        return y * 2.0

    with pytest.raises(GradcheckError, match="second backward pass over the same graph"):
        gradcheck(f, 0.3)


def test_fails_when_the_gradient_is_not_linear_in_the_seed() -> None:
    """A hook that ignores the incoming gradient is right at seed 1 and wrong at any other seed."""

    def f(x: Value) -> Value:
        y = x * 3.0
        y.register_hook(lambda g: 1.0)
        return y

    with pytest.raises(GradcheckError, match=r"backward\(0\) is not 0 × backward\(1\)") as info:
        gradcheck(f, 0.5)
    assert [row.analytic for row in info.value.rows] == [3.0]


def test_order_2_fails_when_only_the_second_derivative_is_wrong() -> None:
    """A hook that detaches the adjoint keeps first derivatives right but loses second-order terms."""

    def detach(g: Any) -> Any:
        return Value(g.data) if isinstance(g, Value) else g

    def f(x: Value) -> Value:
        h = x * x
        h.register_hook(detach)
        return h.sin()

    assert gradcheck(f, 0.7)
    with pytest.raises(GradcheckError, match="second derivatives disagree") as info:
        gradcheck(f, 0.7, order=2)
    (row,) = info.value.rows
    assert row.what == "d²/dx[0]²" and not row.ok


def test_order_2_sees_the_pow_mixed_partial_at_exponent_zero() -> None:
    """The engine bug the SymPy property test found (see test_sympy.py), checked by gradcheck too."""
    assert gradcheck(lambda x, y: x**y, 2.0, 0.0, order=2)
    assert gradcheck(lambda x, y: x**y, 0.5, 0.0, order=2)


# ------------------------------------------------------------- relative error


@pytest.mark.parametrize(
    ("a", "b", "rel"),
    [
        (1.0, 1.0, 0.0),
        (0.0, 0.0, 0.0),
        (1.0, -1.0, 1.0),
        (3.0, 1.0, 0.5),
        (math.inf, math.inf, 0.0),
        (math.inf, 1.0, 1.0),
    ],
)
def test_relative_error_is_the_lecture_formula(a: float, b: float, rel: float) -> None:
    assert Comparison("d", a, b, 0.0, 0.0).rel_error == rel


def test_agreement_needs_absolute_or_relative_error_within_tolerance() -> None:
    assert Comparison("d", 1e-9, 2e-9, atol=1e-8, rtol=0.0).ok  # tiny numbers: absolute error decides
    assert Comparison("d", 1000.0, 1000.5, atol=0.0, rtol=1e-3).ok  # big numbers: relative error decides
    assert not Comparison("d", 1.0, 1.1, atol=1e-3, rtol=1e-3).ok
    assert not Comparison("d", math.nan, math.nan, atol=1.0, rtol=1.0).ok


# -------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "match"),
    [
        ((42, 1.0), {}, TypeError, "f must be callable"),
        ((lambda x: x,), {}, ValueError, "at least one input"),
        ((lambda x: x, "1.0"), {}, TypeError, "input 0 is a str"),
        ((lambda x: x, True), {}, TypeError, "input 0 is a bool"),
        ((lambda x: x, math.nan), {}, ValueError, "inputs must be finite"),
        ((lambda x: x, 1.0), {"order": 3}, ValueError, "order must be 1 or 2"),
        ((lambda x: x, 1.0), {"eps": 0.0}, ValueError, "eps must be > 0"),
        ((lambda x: x, 1.0), {"eps": -1e-6}, ValueError, "eps must be a finite number >= 0"),
        ((lambda x: x, 1.0), {"rtol": math.inf}, ValueError, "rtol must be a finite number"),
        ((lambda x: "no", 1.0), {}, TypeError, "f must return a scalar Value"),
        ((lambda x: x.log(), -1.0), {}, ValueError, "f is nan"),
    ],
)
def test_bad_input_gets_a_clear_error(args: tuple[Any, ...], kwargs: dict[str, Any], error: type, match: str) -> None:
    with pytest.raises(error, match=match):
        gradcheck(*args, **kwargs)


def test_docstring_examples_run() -> None:
    module = sys.modules["valuegrad.autograd.gradient_check"]
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 4 and result.failed == 0


def test_seed_linearity_forgives_only_subnormal_rounding() -> None:
    """Found by hypothesis: an MLP whose input is the smallest normal float has subnormal adjoints,
    and doubling a sum of subnormal products is not exact."""
    tiny = 2.2250738585072014e-308
    assert gradcheck(lambda w, b: (w * tiny + b).tanh() * 0.0619 + (w * tiny * 0.5), 0.0, 0.0)
