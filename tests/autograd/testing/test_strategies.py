"""``autograd.testing.strategies``: each strategy draws what it promises, and the test factory can fail."""

from __future__ import annotations

import doctest
import math
import subprocess
import sys

import pytest
from hypothesis import find, given
from hypothesis import strategies as st

from valuegrad import autograd
from valuegrad.autograd import Value
from valuegrad.autograd.testing import optable, strategies, symbolic
from valuegrad.autograd.testing.optable import ROWS, OpRow, row
from valuegrad.autograd.testing.strategies import (
    Expression,
    MLPCase,
    derivative_test,
    expressions,
    finite_floats,
    mlps,
    op_inputs,
    valid_step,
    values,
)

# ------------------------------------------------------------ numbers, Values


@given(finite_floats(-3.0, 5.0))
def test_finite_floats_stay_in_bounds_and_are_finite(x: float) -> None:
    assert -3.0 <= x <= 5.0 and math.isfinite(x)


@given(values(0.5, 2.0, label="w"))
def test_values_are_fresh_leaves(v: Value) -> None:
    assert isinstance(v, Value) and 0.5 <= v.data <= 2.0
    assert v.parents == () and v.grad == 0.0 and v.label == "w"


@pytest.mark.parametrize(("lo", "hi"), [(1.0, 0.0), (math.nan, 1.0), (0.0, math.inf)])
def test_bad_bounds_are_refused(lo: float, hi: float) -> None:
    with pytest.raises(ValueError, match="finite_floats"):
        finite_floats(lo, hi)


# ---------------------------------------------------------------- op inputs


@pytest.mark.parametrize("r", [r for r in ROWS if r.name in ("x / y", "x.relu()", "x.hard_tanh()", "max(x, y, z)")])
@given(data=st.data())
def test_op_inputs_keep_away_from_kinks(r: OpRow, data: st.DataObject) -> None:
    xs, cs = data.draw(op_inputs(r, margin=0.05))
    assert all(iv.lo <= x <= iv.hi for x, iv in zip(xs, r.domain))
    assert r.kink_distance(*xs, *cs) > 0.05


def test_op_inputs_reach_kinks_when_asked() -> None:
    xs, _ = find(op_inputs(row("x.relu()"), avoid_kinks=False), lambda ic: ic[0][0] == 0.0)
    assert xs == (0.0,)


@given(op_inputs(row("x ** n")))
def test_integer_constants_are_whole_numbers(ic: tuple[tuple[float, ...], tuple[float, ...]]) -> None:
    (n,) = ic[1]
    assert n == int(n) and -3 <= n <= 4


def test_valid_step_checks_domain_kinks_and_size() -> None:
    assert valid_step(row("x.sqrt()"), [4.0], [])
    assert not valid_step(row("x.sqrt()"), [-4.0], [])  # outside the domain
    assert not valid_step(row("x.relu()"), [0.001], [])  # next to the kink
    assert valid_step(row("x.relu()"), [0.001], [], margin=-math.inf)
    assert not valid_step(row("x.exp()"), [15.0], [])  # e^15 is past the default bound of 1e3
    assert valid_step(row("x.exp()"), [15.0], [], bound=1e7)


# --------------------------------------------------------------- expressions


def _check_drawn_point(expr: Expression, margin: float, bound: float) -> None:
    """Re-derive every node at the drawn point and check the promises of ``expressions``."""
    data = list(expr.inputs)
    for step in expr.steps:
        assert all(a < len(data) for a in step.args), "a step may only read earlier nodes"
        args = [data[a] for a in step.args]
        assert valid_step(step.row, args, step.constants, margin, bound), (step, args)
        data.append(step.row.on_floats(*args, *step.constants))


@given(expressions(n_inputs=(1, 3), max_ops=8))
def test_expressions_keep_every_op_in_its_domain_and_away_from_kinks(expr: Expression) -> None:
    assert 1 <= expr.n_inputs <= 3 and 1 <= len(expr.steps) <= 8
    assert all(-2.0 <= x <= 2.0 for x in expr.inputs)
    _check_drawn_point(expr, 1e-2, 1e3)


@given(expressions())
def test_expressions_use_every_node_and_have_fan_out(expr: Expression) -> None:
    uses = expr.uses()
    assert all(u >= 1 for u in uses), "every node, inputs included, reaches the output"
    assert expr.has_fan_out


@given(expressions(max_ops=6))
def test_floats_and_values_compute_the_same_function(expr: Expression) -> None:
    on_floats = expr(*expr.inputs)
    on_values = expr(*(Value(x) for x in expr.inputs))
    assert isinstance(on_floats, float) and isinstance(on_values, Value)
    assert math.isclose(on_floats, on_values.data, rel_tol=1e-9, abs_tol=1e-9)


@given(expressions(n_inputs=2, ops=["x * y", "x.sin()", "x + c"], max_ops=5))
def test_expressions_draw_only_the_named_ops(expr: Expression) -> None:
    assert expr.n_inputs == 2
    assert {s.row.name for s in expr.steps} <= {"x * y", "x.sin()", "x + c", "-x"}  # -x: the fallback


def test_expressions_find_deep_sharing() -> None:
    """Somewhere in the space is a node read three times: the strategy really builds DAGs, not trees."""
    expr = find(expressions(max_ops=6), lambda e: max(e.uses()) >= 3)
    assert max(expr.uses()) >= 3


def test_expressions_reach_kinks_when_asked() -> None:
    expr = find(
        expressions(n_inputs=1, ops=["x.relu()"], avoid_kinks=False, max_ops=1),
        lambda e: e.inputs[0] == 0.0 and e.steps[0].row.name == "x.relu()",
    )
    assert expr.on_values(Value(0.0)).data == 0.0


def test_an_expression_reads_as_a_program() -> None:
    expr = Expression(
        inputs=(0.5, -1.0),
        steps=(
            optable_step("x * y", (0, 1)),
            optable_step("x.sin()", (2,)),
        ),
        outputs=(2, 3),
    )
    assert expr.program() == "x0 = 0.5\nx1 = -1.0\nt2 = x0 * x1\nt3 = t2.sin()\nout = t2 + t3"
    assert repr(expr).startswith("Expression(x0 = 0.5; x1 = -1.0; t2 = x0 * x1;")
    assert expr.uses() == [1, 1, 2, 1] and expr.has_fan_out
    expected = -0.5 + math.sin(-0.5)
    assert math.isclose(expr(0.5, -1.0), expected)
    assert math.isclose(expr.sympy().value(0.5, -1.0), expected)
    assert expr.sympy().gradient(0.5, -1.0) == pytest.approx([-1 - math.cos(0.5), 0.5 + 0.5 * math.cos(-0.5)])
    with pytest.raises(TypeError, match="takes 2 inputs"):
        expr(1.0)


def optable_step(name: str, args: tuple[int, ...]) -> strategies.Step:
    return strategies.Step(row(name), args, ())


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ops": ["x ** nothing"]}, "unknown op rows"),
        ({"ops": []}, "unknown op rows"),
        ({"n_inputs": 0}, "n_inputs"),
        ({"max_ops": 0}, "max_ops"),
        ({"input_range": (1.0, -1.0)}, "input_range"),
    ],
)
def test_expressions_refuse_bad_arguments(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        find(expressions(**kwargs), lambda e: True)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- MLPs


@given(mlps(2, [3, 1]))
def test_mlps_have_the_right_number_of_parameters(mlp: MLPCase) -> None:
    assert mlp.n_params == (2 + 1) * 3 + (3 + 1) * 1 == len(mlp.params)
    assert len(mlp.inputs) == 2
    assert isinstance(mlp(*mlp.params), Value)


def test_mlp_forward_is_the_hand_computation() -> None:
    mlp = MLPCase(nin=1, sizes=(1, 1), params=(0.5, 0.1, 2.0, -0.3), inputs=(0.8,))
    hidden = math.tanh(0.5 * 0.8 + 0.1)
    assert math.isclose(mlp(*mlp.params).data, 2.0 * hidden - 0.3)
    with pytest.raises(ValueError, match="has 4 parameters, got 3"):
        mlp.forward([1.0, 2.0, 3.0], mlp.inputs)


def test_mlps_refuse_bad_shapes() -> None:
    with pytest.raises(ValueError, match="positive ints"):
        mlps(0, [1])
    with pytest.raises(ValueError, match="positive ints"):
        mlps(2, [])


# ------------------------------------------------------------ derivative_test


test_cube_derivative = derivative_test(lambda x: x**3, lambda x: 3 * x * x, domain=(-3.0, 3.0))
test_hypot_partials = derivative_test(
    lambda x, y: (x * x + y * y).sqrt(),
    lambda x, y: (x / math.hypot(x, y), y / math.hypot(x, y)),
    domain=[(0.5, 3.0), (-3.0, -0.5)],
)
test_relu_away_from_its_kink = derivative_test(lambda x: x.relu(), lambda x: 1.0 if x > 0 else 0.0, kinks=[0.0])


def test_derivative_test_fails_on_a_wrong_reference() -> None:
    wrong = derivative_test(lambda x: x.exp(), lambda x: math.exp(x) * 1.001)
    with pytest.raises(AssertionError, match=r"d/dx\[0\] at .*: engine .*, reference"):
        wrong()


def test_derivative_test_fails_on_a_broken_graph() -> None:
    broken = derivative_test(lambda x: x * x.data, lambda x: 2 * x, domain=(0.5, 2.0))
    with pytest.raises(AssertionError):
        broken()


def test_derivative_test_refuses_a_wrong_number_of_partials() -> None:
    wrong_shape = derivative_test(lambda x, y: x * y, lambda x, y: y, domain=[(0.0, 1.0), (0.0, 1.0)])
    with pytest.raises(TypeError, match="1 partials for 2 inputs"):
        wrong_shape()


# -------------------------------------------------------------- packaging


def test_import_autograd_does_not_import_hypothesis_or_sympy() -> None:
    code = "import sys, valuegrad.autograd; print('hypothesis' in sys.modules, 'sympy' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("module", [autograd.testing, optable, strategies, symbolic], ids=lambda m: m.__name__)
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)  # type: ignore[arg-type]
    assert result.attempted >= 1 and result.failed == 0
