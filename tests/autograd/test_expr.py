"""The expression parser: right answers (sympy and float oracles), and nothing but ExpressionError for bad text."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
import sympy
from hypothesis import assume, given
from hypothesis import strategies as st

from valuegrad import autograd
from valuegrad.autograd import Value, gradients
from valuegrad.autograd.core import ops
from valuegrad.autograd.expr import FUNCTIONS, MAX_LENGTH, MAX_NESTING, ExpressionError, parse, parse_assignment

# ---------------------------------------------------------------- right answers

SYMPY_CASES = [
    ("tanh(w*x + b)", {"x": 2.0, "w": -3.0, "b": 6.88}),
    ("-x**2 + 2**-x", {"x": 1.5}),
    ("x - y - z", {"x": 1.0, "y": 2.0, "z": 4.0}),
    ("x / y / z", {"x": 1.0, "y": 2.0, "z": 4.0}),
    ("x ** y ** 0.5", {"x": 1.7, "y": 2.0}),
    ("exp(sin(x) * cos(y)) / sqrt(x + y)", {"x": 0.3, "y": 0.9}),
    ("log(abs(x - 3)) + +x - -y", {"x": 0.5, "y": 2.0}),
    ("  (x + 1) * (x - 1)  ", {"x": 3.0}),
    ("2 * 3 * x + 1e-3 / x", {"x": 0.25}),
    ("hypot(x, y) * hypot(x, 2) + hypot(3, y) / hypot(x - 1, y)", {"x": 0.6, "y": -1.5}),
]


def sympy_value_and_gradient(text: str, point: dict[str, float]) -> tuple[float, dict[str, float]]:
    symbols = {name: sympy.Symbol(name, real=True) for name in point}
    namespace = {**symbols, "tanh": sympy.tanh, "exp": sympy.exp, "log": sympy.log, "sin": sympy.sin}
    namespace.update(cos=sympy.cos, sqrt=sympy.sqrt, abs=sympy.Abs, hypot=lambda a, b: sympy.sqrt(a**2 + b**2))
    expression = sympy.sympify(text.strip(), locals=namespace)
    at = {symbols[n]: v for n, v in point.items()}
    value = float(expression.evalf(subs=at))
    return value, {n: float(sympy.diff(expression, s).evalf(subs=at)) for n, s in symbols.items()}


@pytest.mark.parametrize(("text", "point"), SYMPY_CASES)
def test_value_and_gradient_match_sympy(text: str, point: dict[str, float]) -> None:
    expression = parse(text)
    assert set(expression.variables) == set(point)
    leaves = {name: Value(x, label=name) for name, x in point.items()}
    out = expression.evaluate(leaves)
    assert isinstance(out, Value)
    grads = gradients(out, list(leaves.values()))
    expected_value, expected_grad = sympy_value_and_gradient(text, point)
    assert out.data == pytest.approx(expected_value, rel=1e-12)
    for (name, _), g in zip(leaves.items(), grads):
        assert g == pytest.approx(expected_grad[name], rel=1e-12, abs=1e-12), name


def test_variables_are_listed_in_order_of_first_appearance() -> None:
    assert parse("tanh(w*x + b) + w").variables == ("w", "x", "b")
    assert parse("3 + 4").variables == ()


def test_constants_follow_ieee_and_are_folded() -> None:
    assert parse("1/0").evaluate({}) == math.inf
    assert math.isnan(parse("log(-1)").evaluate({}))  # type: ignore[arg-type]
    assert parse("9**9**9**9").evaluate({}) == math.inf
    assert parse("1" + "0" * 400).evaluate({}) == math.inf
    x = Value(2.0)
    y = parse("2*3*x").evaluate({"x": x})
    assert isinstance(y, Value) and y.parents == (x,) and y.op_symbol == "* 6"


def test_functions_with_a_parameter_and_nary_functions() -> None:
    x = Value(-2.0)
    assert parse("leaky_relu(x, 0.5)").evaluate({"x": x}).data == -1.0  # type: ignore[union-attr]
    assert parse("leaky_relu(x, alpha=0.25)").evaluate({"x": x}).data == -0.5  # type: ignore[union-attr]
    assert parse("leaky_relu(x)").evaluate({"x": x}).data == pytest.approx(-0.02)  # type: ignore[union-attr]
    assert parse("elu(x, 2)").evaluate({"x": x}).data == pytest.approx(2 * math.expm1(-2.0))  # type: ignore[union-attr]
    y = parse("max(x, 1, -x)").evaluate({"x": x})
    assert isinstance(y, Value) and y.data == 2.0
    assert parse("logsumexp(0, 0)").evaluate({}) == pytest.approx(math.log(2.0))
    assert {"tanh", "sigmoid", "relu", "max", "logsumexp", "hypot"} <= set(FUNCTIONS)


def test_hypot_takes_two_arguments_values_or_numbers_on_either_side() -> None:
    x, y = Value(3.0, label="x"), Value(-4.0, label="y")
    both = parse("hypot(x, y)").evaluate({"x": x, "y": y})
    assert isinstance(both, Value) and both.data == 5.0 and both.op == "hypot" and both.parents == (x, y)
    assert gradients(both, [x, y]) == [0.6, -0.8]
    for text in ("hypot(x, 4)", "hypot(4, x)", "hypot(x, 2 + 2)"):
        folded = parse(text).evaluate({"x": x})
        assert isinstance(folded, Value) and folded.data == 5.0 and folded.parents == (x,), text
        assert folded.op == "hypot_const" and folded.op_symbol == "hypot(·, 4)", text
    assert parse("hypot(3, 4)").evaluate({}) == 5.0
    assert parse("hypot(1e308, 1e308)").evaluate({}) == math.hypot(1e308, 1e308)  # no overflow
    assert parse("hypot(1/0, log(-1))").evaluate({}) == math.inf  # an infinite leg wins over nan


@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_function_takes_as_many_arguments_as_its_table_row_says(name: str) -> None:
    """The parser reads each function's arity from the op table: no list of its own to keep."""
    row = ops.FUNCTIONS[name]
    x, y = Value(0.3), Value(-1.2)
    if row.arity == 1:
        count, direct = 1, getattr(Value, name)(x)
    elif row.arity == 2:
        count, direct = 2, getattr(autograd, name)(x, y)
    else:
        count, direct = 3, getattr(autograd, name)([x, y, 0.5])
    arguments = ["x", "y", "0.5"][:count]
    got = parse(f"{name}({', '.join(arguments)})").evaluate({"x": x, "y": y})
    assert isinstance(got, Value) and got.op == direct.op and got.data == direct.data
    refused = [0] if row.arity is None else [0, count + (2 if row.param else 1)]
    for wrong in refused:
        with pytest.raises(ExpressionError, match=rf"{name}\(\) (takes|needs)"):
            parse(f"{name}({', '.join(['x'] * wrong)})")


def test_numbers_may_be_bound_instead_of_values() -> None:
    assert parse("x * y").evaluate({"x": 2, "y": 0.5}) == 1.0
    with pytest.raises(TypeError, match="'x' must be a Value or a real number, got str"):
        parse("x * y").evaluate({"x": "2", "y": 0.5})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="got bool"):
        parse("x").evaluate({"x": True})


def _nan_on_domain_error(function: Callable[[float], float]) -> Callable[[float], float]:
    def safe(x: float) -> float:
        try:
            return function(x)
        except ValueError:  # math.sin(inf) raises; IEEE 754 (and the engine) say nan
            return math.nan

    return safe


FLOAT_FUNCTIONS: dict[str, Callable[[float], float]] = {
    name: _nan_on_domain_error(getattr(math, name)) for name in ("tanh", "sin", "cos")
}


def _divide(a: float, b: float) -> float:
    try:
        return a / b
    except ZeroDivisionError:
        return math.copysign(math.inf, a) * math.copysign(1.0, b) if a == a and a != 0 else math.nan


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> tuple[str, Callable[[dict[str, float]], float]]:
    """Random expression text together with a float evaluator written independently of the engine."""
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            name = draw(st.sampled_from(["x", "y", "long_name"]))
            return name, lambda env: env[name]
        number = draw(st.floats(0, 10, allow_nan=False).map(lambda f: round(f, 3)))
        return repr(number), lambda env: number
    kind = draw(st.sampled_from(["+", "-", "*", "/", "neg", "call", "parens", "hypot"]))
    left_text, left = draw(expressions(depth + 1))
    if kind == "neg":
        return f"-({left_text})", lambda env: -left(env)
    if kind == "parens":
        return f"( {left_text} )", left
    if kind == "call":
        name = draw(st.sampled_from(sorted(FLOAT_FUNCTIONS)))
        function = FLOAT_FUNCTIONS[name]
        return f"{name}({left_text})", lambda env: function(left(env))
    right_text, right = draw(expressions(depth + 1))
    if kind == "hypot":
        return f"hypot({left_text}, {right_text})", lambda env: math.hypot(left(env), right(env))
    text = f"({left_text}) {kind} ({right_text})"
    operations: dict[str, Callable[[float, float], float]] = {
        "+": lambda a, b: a + b,
        "-": lambda a, b: a - b,
        "*": lambda a, b: a * b,
        "/": _divide,
    }
    operation = operations[kind]
    return text, lambda env: operation(left(env), right(env))


@given(case=expressions(), x=st.floats(-3, 3), y=st.floats(-3, 3))
def test_random_expressions_evaluate_like_an_independent_float_evaluator(
    case: tuple[str, Callable[[dict[str, float]], float]], x: float, y: float
) -> None:
    text, reference = case
    env = {"x": x, "y": y, "long_name": 0.75}
    expected = reference(env)
    expression = parse(text)
    got = expression.evaluate({name: Value(env[name]) for name in expression.variables})
    got_float = got.data if isinstance(got, Value) else got
    assume(math.isfinite(expected))
    assert got_float == pytest.approx(expected, rel=1e-9, abs=1e-12)


# ---------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ("__import__('os').system('echo hi')", "attribute access", 1),
        ("x.real", "attribute access", 1),
        ("x[0]", "subscripts", 1),
        ("(lambda: 1)()", "lambdas", 2),
        ("foo(x)", "unknown function 'foo'", 1),
        ("x + eval('1')", "unknown function 'eval'", 5),
        ("tanh", "is a function", 1),
        ("x +* 2", "syntax error", 4),
        ("tanh(x", "never closed", 5),
        ("x ^ 2", "'**'", 1),
        ("x // 2", "use '/'", 1),
        ("x if x else 1", "conditional", 1),
        ("x < 1", "comparisons", 1),
        ("(x := 3)", "assignments", 2),
        ("'text' + x", "real numbers", 1),
        ("True * x", "real numbers", 1),
        ("1j * x", "real numbers", 1),
        ("x, y", "tuples", 1),
        ("[x]", "lists", 1),
        ("tanh(x, 2)", "takes 1 argument", 1),
        ("hypot(x)", "takes 2 arguments: hypot(x, y)", 1),
        ("hypot(x, y, 1)", "takes 2 arguments", 1),
        ("hypot(x, y=1)", "no keyword arguments", 10),
        ("leaky_relu(x, y)", "must be a number", 15),
        ("relu(x=1)", "keyword", 6),
        ("max()", "at least one", 1),
        ("tanh(*x)", "unpacking", 6),
        ("x\n+ 1", "control character", 2),
        ("", "empty", None),
        ("   ", "empty", None),
        ("é + $", "syntax error", 5),
    ],
)
def test_rejections_name_the_problem_and_point_at_it(text: str, fragment: str, column: int | None) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    error = caught.value
    assert fragment in str(error)
    assert "\n" not in str(error)
    if column is None:
        assert error.start is None
    else:
        assert error.start == column - 1, (error.start, str(error))
        _text_line, carets = error.pointer().splitlines()
        assert carets.index("^") - 2 == column - 1


def test_length_and_nesting_are_limited_before_parsing() -> None:
    with pytest.raises(ExpressionError, match=f"limit is {MAX_LENGTH}"):
        parse("x+" * MAX_LENGTH + "x")
    with pytest.raises(ExpressionError, match="nested more than"):
        parse("(" * (MAX_NESTING + 1) + "x" + ")" * (MAX_NESTING + 1))
    assert parse("(" * MAX_NESTING + "x" + ")" * MAX_NESTING).variables == ("x",)


def test_deep_unary_chains_give_an_answer_or_an_expression_error() -> None:
    for length in (100, 500, MAX_LENGTH - 1):
        text = "-" * length + "x"
        try:
            expression = parse(text)
        except ExpressionError as error:
            assert "nested too deeply" in str(error)
        else:
            out = expression.evaluate({"x": Value(1.0)})
            assert out.data == (-1.0) ** length  # type: ignore[union-attr]


def test_nothing_is_ever_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    for text in (
        f"open({str(marker)!r}, 'w')",
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        "[c for c in ().__class__.__base__.__subclasses__()]",
    ):
        with pytest.raises(ExpressionError):
            parse(text)
    assert not marker.exists()


def test_text_must_be_a_string() -> None:
    with pytest.raises(ExpressionError, match="must be text"):
        parse(42)  # type: ignore[arg-type]


EXPRESSIONISH = st.text(alphabet=list("xyzw0123456789.+-*/%()[]{}_,=e'\" :;tanhmaxlogreluj@~^<>!\\\t\n"), max_size=60)


@given(text=st.one_of(st.text(max_size=80), EXPRESSIONISH))
def test_random_text_gives_an_expression_or_an_expression_error(text: str) -> None:
    try:
        expression = parse(text)
    except ExpressionError as error:
        message = str(error)
        assert message.strip() and "\n" not in message and "Traceback" not in message
        pointer = error.pointer()
        assert isinstance(pointer, str)
        return
    out = expression.evaluate({name: Value(0.5) for name in expression.variables})
    assert isinstance(out, (Value, float))


# ---------------------------------------------------------------- name=value


@pytest.mark.parametrize(
    ("text", "expected"),
    [("x=2", ("x", 2.0)), (" w = -3 ", ("w", -3.0)), ("b=6.88", ("b", 6.88)), ("t=1/4", ("t", 0.25))],
)
def test_assignments(text: str, expected: tuple[str, float]) -> None:
    assert parse_assignment(text) == expected


def test_assigned_names_are_normalized_like_python_identifiers() -> None:
    name, _ = parse_assignment("ﬁ=2")
    assert name == "fi" and parse("ﬁ + 1").variables == ("fi",)


@pytest.mark.parametrize(
    ("text", "fragment", "column"),
    [
        ("x=abc", "must be a number", 3),
        ("x", "expected name=value", None),
        ("=2", "name before '=' is missing", 1),
        ("3=4", "not a variable name", 1),
        ("for=1", "not a variable name", 1),
        ("tanh=1", "is a function", 1),
        ("x=", "no value", 3),
        ("x=2**(", "never closed", 6),
        ("x=__import__('os')", "unknown function", 3),
    ],
)
def test_bad_assignments(text: str, fragment: str, column: int | None) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_assignment(text)
    assert fragment in str(caught.value) or fragment in caught.value.message
    if column is not None:
        assert caught.value.start == column - 1


@given(text=st.text(max_size=40))
def test_random_assignments_give_a_pair_or_an_expression_error(text: str) -> None:
    try:
        name, number = parse_assignment(text)
    except ExpressionError:
        return
    assert name.isidentifier() and isinstance(number, float)


@pytest.mark.parametrize("failure", [RecursionError, MemoryError])
def test_parser_exhaustion_becomes_an_expression_error(
    failure: type[BaseException], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ast

    def exhausted(*args: object, **kwargs: object) -> ast.AST:
        raise failure()

    monkeypatch.setattr(ast, "parse", exhausted)
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("x + 1")
