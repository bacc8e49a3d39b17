"""A dot or sum over a batch's numbers: the replay adds as the engine does for the eager call, on every Python.

``nary.dot`` picks a layout from its operands' types, and from Python 3.12 on, where ``sum``
of floats compensates (Neumaier), the layouts add differently: ``DotConst`` sums the bias's
``b * 1.0`` with the products, ``DotPaired`` adds the bias after its ``sum``, ``DotMixed``
adds left to right; ``nary.sum`` adds plain numbers into its constant first. A trace sees the
example's numbers as Values, the eager call as floats; the numbers below are chosen so that
adding in another order shows in the result.
"""

from __future__ import annotations

from hypothesis import assume, example, given
from hypothesis import strategies as st

from valuegrad.autograd import Value, dot, gradients
from valuegrad.autograd import sum as vsum
from valuegrad.autograd.compiler.compiled import jit
from valuegrad.autograd.compiler.example import Example

# sum([1.0, 1e-16, -1.0]) compensated is 1e-16; (1.0 + 1e-16) + -1.0 left to right is 0.0.
CANCELLING = (1.0, 1e-16, -1.0, 3.0, -3.0, 0.1, 2.0**-60, 1e16, -1e16, 0.5)


def _first_layer_neuron() -> tuple[list[Value], object]:
    w, b = [Value(1.0), Value(1e-16)], Value(-1.0)
    return [*w, b], lambda x: dot(w, x, b)


def test_a_first_layer_neuron_replays_the_eager_dot_where_compensation_shows():
    """The cause of the 3.12 difference: eager ``dot(w, floats, b)`` is ``DotConst``, the trace's ``DotPaired``."""
    params, neuron = _first_layer_neuron()
    x = [1.0, 1.0]
    eager = neuron(x)
    expected_value, expected_grads = eager.data, gradients(eager, params)

    example = Example(neuron, x)
    shared = example.shared(tuple(p.data for p in example.params))
    (value,), saved = example.forward([x], shared)
    assert value == expected_value
    for p in params:
        p.grad = 0.0
    example.backward(shared, saved, [1.0])
    assert [p.grad for p in params] == expected_grads

    for p in params:
        p.grad = 0.0
    value, _ = jit(neuron, argnums=())(x)  # a list argument without a gradient: numbers in the eager call
    assert value == expected_value
    assert [p.grad for p in params] == expected_grads


def test_a_differentiated_list_stays_values_as_in_value_and_grad():
    """With a gradient wanted, eager (``value_and_grad``) has Values on both sides: ``DotPaired`` again."""
    _, neuron = _first_layer_neuron()
    x = [1.0, 1.0]
    leaves = [Value(v) for v in x]
    eager = neuron(leaves)
    value, grad = jit(neuron)(x)
    assert value == eager.data
    assert grad == gradients(eager, leaves)


KINDS = ("param", "number", "constant")


@st.composite
def dot_layouts(draw: st.DrawFn) -> tuple[list[tuple[str, float]], list[tuple[str, float]], tuple[str, float]]:
    """Each side's operands as ``(kind, number)``: a parameter, a number of the example, or a constant of ``f``.

    Left out, as the trace's layout cannot tell them apart (``_nary_code.eager_layout``): a bias
    from the example next to constants of ``f``, constants and numbers on one side against only
    parameters on the other, and a product of two constants (folded when traced).
    """
    n = draw(st.integers(1, 4))
    number = st.sampled_from(CANCELLING)

    def side() -> list[tuple[str, float]]:
        kinds = draw(st.sampled_from([("param", "number"), ("constant", "number"), ("param",), ("number",)]))
        return [(draw(st.sampled_from(kinds)), draw(number)) for _ in range(n)]

    ws, xs = side(), side()
    bias = (draw(st.sampled_from((*KINDS, "none"))), draw(number))
    constants = [any(kind == "constant" for kind, _ in side) for side in (ws, xs)]
    assume(bias[0] != "number" or not any(constants))
    only_params = [all(kind == "param" for kind, _ in side) for side in (ws, xs)]
    assume(not (constants[0] and only_params[1]) and not (constants[1] and only_params[0]))
    assume(not any(a == b == "constant" for (a, _), (b, _) in zip(ws, xs)))
    return ws, xs, bias


@given(dot_layouts())
@example(([("param", 1.0), ("param", 1e-16)], [("number", 1.0), ("number", 1.0)], ("param", -1.0)))  # a neuron
@example(([("param", 1.0), ("param", 1.0)], [("param", 1.0), ("param", 1e-16)], ("number", -1.0)))  # sum from b
@example(([("param", 1.0), ("number", 1e-16)], [("number", 1.0), ("number", 1.0)], ("constant", -1.0)))  # folded
def test_replayed_dots_equal_eager_for_every_layout(layout):
    ws, xs, (bias_kind, bias_number) = layout
    params: list[Value] = []
    numbers: list[float] = []

    def operand(kind: str, x: float) -> tuple[str, int]:
        if kind == "param":
            params.append(Value(x))
            return kind, len(params) - 1
        if kind == "number":
            numbers.append(x)
            return kind, len(numbers) - 1
        return kind, 0

    plan = [[operand(*item) for item in side] for side in (ws, xs, [(bias_kind, bias_number)])]
    constants = [[x for _, x in side] for side in (ws, xs, [(bias_kind, bias_number)])]

    def f(example: list) -> Value:
        sides = [
            [params[i] if kind == "param" else example[i] if kind == "number" else c for (kind, i), c in zip(side, cs)]
            for side, cs in zip(plan, constants)
        ]
        bias = 0.0 if bias_kind == "none" else sides[2][0]
        out = dot(sides[0], sides[1], bias)
        return out if isinstance(out, Value) else Value(out)

    eager = f(numbers)
    expected_grads = gradients(eager, params)
    compiled = jit(f, argnums=())
    for _ in range(2):  # the tracing call, then a replay
        for p in params:
            p.grad = 0.0
        value, _ = compiled(numbers)
        assert value == eager.data, compiled.source
        assert [p.grad for p in params] == expected_grads, compiled.source


@given(
    st.lists(st.sampled_from(CANCELLING), max_size=2),
    st.lists(st.tuples(st.sampled_from(("param", "number")), st.sampled_from(CANCELLING)), min_size=1, max_size=5),
)
@example([], [("param", 1.0), ("number", 1e-16), ("param", 1e-16), ("number", -1.0)])
def test_replayed_sums_add_the_numbers_first_as_the_engine_does(constants, items):
    """``nary.sum`` adds the plain numbers into its constant, then sums the Values from it.

    The constants of ``f`` come first here: the trace folds them before it sees the numbers.
    """
    params = [Value(x) for kind, x in items if kind == "param"]
    numbers = [x for kind, x in items if kind == "number"]

    def f(example: list) -> Value:
        ps, xs = iter(params), iter(example)
        return vsum([*constants, *(next(ps) if kind == "param" else next(xs) for kind, _ in items)])

    eager = f(numbers)
    expected_grads = gradients(eager, params)
    for p in params:
        p.grad = 0.0
    value, _ = jit(f, argnums=())(numbers)
    assert value == eager.data
    assert [p.grad for p in params] == expected_grads


INTS = (1, -1, 3, 7, 1000003, 0, 2**60, -(2**53) - 1)


@given(
    ws=st.lists(st.sampled_from(CANCELLING), min_size=1, max_size=6),
    ns=st.lists(st.sampled_from(INTS), min_size=6, max_size=6),
    bias=st.sampled_from([-1.0, 0.5, 1e16]),
    numbers_first=st.booleans(),
)
@example(ws=[1.0, 1e-16, 1.0], ns=[1, 1, -1, 0, 0, 0], bias=-1.0, numbers_first=False)
def test_a_dot_over_ints_is_the_dot_over_their_floats_and_replays_alike(ws, ns, bias, numbers_first):
    """An int is the same number as its float: ``dot`` gives both the same layout, so the same bits on
    every Python (from 3.12 on a compensated ``sum`` would show a different layout), and so does ``jit``."""
    weights, b = [Value(w) for w in ws], Value(bias)
    ints = ns[: len(ws)]
    floats = [float(n) for n in ints]
    made = [dot(ints, weights, b) if numbers_first else dot(weights, ints, b) for _ in range(2)]
    reference = dot(floats, weights, b) if numbers_first else dot(weights, floats, b)
    params = [*weights, b]
    assert made[0].data == reference.data
    assert gradients(made[0], params) == gradients(reference, params)

    def f(x):
        return dot(x, weights, b) if numbers_first else dot(weights, x, b)

    value, _ = jit(f, argnums=())(ints)
    assert value == reference.data


def test_a_number_read_inside_the_trace_is_the_eager_calls_number():
    """``.item()`` of a dot over a batch's numbers: the trace reads what eager reads, so its own guard holds.

    Before the trace computed the eager layout's number, on 3.12+ it read 0.0 where eager reads
    1e-16; the branch went the other way and the fresh trace failed its own guard (GuardFailed).
    """
    _, neuron = _first_layer_neuron()
    seen: list[float] = []

    def gated(x):
        h = neuron(x)
        seen.append(h.item())
        return h * 2.0 if h.item() > 0 else h * -3.0

    eager = gated([1.0, 1.0])
    value, _ = jit(gated, argnums=())([1.0, 1.0])
    assert len(seen) == 2 and seen[1] == seen[0]  # the trace read the eager call's number
    assert value == eager.data


def test_a_sum_read_inside_the_trace_is_the_eager_calls_number():
    """``autograd.sum`` adds a batch's numbers into its constant first, in the trace as in the eager call."""
    w = Value(-1.0)  # eager: (1.0 + 1e-16) + -1.0 is 0.0; all three in one compensated sum, 1e-16

    def total(x):
        s = vsum([w, *x])
        return s * 2.0 if s.item() > 0 else s * -3.0

    eager = total([1.0, 1e-16])
    value, _ = jit(total, argnums=())([1.0, 1e-16])
    assert value == eager.data
