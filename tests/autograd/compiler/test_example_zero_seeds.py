"""A looped example whose seed is zero is skipped only when that is exact (``seeded.zero_safe``).

Each case runs ``Example``'s forward and backward over a batch with zero seeds (a hinge loss's
points beyond the margin) and holds the parameters' gradients to the engine's, bit for bit,
signed zeros and NaN included: where a zero adjoint meets an infinity (an input, a parameter,
a partial that overflows), the engine gives NaN and the example must run.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from valuegrad.autograd import Value
from valuegrad.autograd.compiler.example import Example

BIG = 1e308


def _bits(x: float) -> tuple[bool, float, float]:
    """A float as the test compares it: NaN equals NaN, and -0.0 differs from 0.0."""
    return (x != x, 0.0 if x != x else x, math.copysign(1.0, x))


def _twins(numbers: list[float]) -> tuple[list[Value], list[Value]]:
    return [Value(n) for n in numbers], [Value(n) for n in numbers]


def _engine_equal(
    make: Callable[[list[Value]], Callable[[Any], Value]],
    numbers: list[float],
    batch: list[list[float]],
    seeds: list[float],
    before: float = 0.0,
    key: Callable[[float], Any] = lambda x: _bits(x),
) -> tuple[Example, list[Any]]:
    """Run ``Example`` and the engine on one model from gradients at ``before``; assert that values
    and gradients agree under ``key`` (bit for bit by default); return the example and its saved rows."""
    params, twins = _twins(numbers)
    example = Example(make(params), batch[0])
    shared = example.shared(tuple(p.data for p in example.params))
    values, saved = example.forward(batch, shared)
    for p in [*params, *twins]:
        p.grad = before
    example.backward(shared, saved, seeds)
    outputs = [make(twins)(x) for x in batch]
    total = outputs[0] * seeds[0]
    for output, seed in zip(outputs[1:], seeds[1:]):
        total = total + output * seed
    total.backward()
    assert list(map(key, values)) == [key(o.data) for o in outputs]
    by_leaf = {id(p): p.grad for p in example.params}
    assert [key(by_leaf.get(id(p), before)) for p in params] == [key(t.grad) for t in twins], seeds
    return example, saved


CASES: dict[str, tuple[Callable[[list[Value]], Callable[[Any], Value]], list[float], list[list[float]], float]] = {
    # name: (model of the parameters, parameters, batch, the gradients' value before backward)
    "relu neuron, finite": (lambda w: lambda x: (w[0] * x[0] + w[1] * x[1] + w[2]).relu() * w[3],
                            [0.5, -1.5, 0.25, 2.0], [[1.0, 2.0], [-0.5, 3.0], [2.0, -1.0], [0.0, 0.0]], 0.0),
    "tanh, an infinite input": (lambda w: lambda x: (w[0] * x[0] + w[1]).tanh() * w[2], [0.5, 0.1, 2.0],
                                [[1.0, 0.0], [math.inf, 0.0], [-2.0, 0.0]], 0.0),
    "an overflowing forward value": (lambda w: lambda x: (w[0] * x[0]).relu() * w[1] * w[2], [BIG, 10.0, 0.5],
                                     [[10.0], [1.0], [-3.0]], 0.0),
    "a gradient of -0.0 before": (lambda w: lambda x: w[0] * x[0] + w[1], [0.5, 0.0],
                                  [[1.0], [-2.0], [3.0]], -0.0),
    "division (not zero-safe)": (lambda w: lambda x: w[0] / x[0] * w[1], [1.0, 3.0],
                                 [[1e-310], [2.0], [4.0]], 0.0),
    "an infinite parameter": (lambda w: lambda x: (w[0] * x[0]).tanh() * w[1] + w[2], [0.5, math.inf, 0.0],
                              [[1.0], [0.5], [2.0]], 0.0),
}  # fmt: skip


@pytest.mark.parametrize("seeds", [[0.0, 0.0, 0.0, 0.0], [0.0, -0.0, 1.0, 0.0], [-0.0, 2.0, -0.0, 0.0]])
@pytest.mark.parametrize("name", list(CASES))
def test_zero_seeds_give_the_engines_gradients_bit_for_bit(name: str, seeds: list[float]) -> None:
    model, numbers, batch, before = CASES[name]
    _engine_equal(model, numbers, batch, seeds[: len(batch)], before)


def test_the_cases_reach_both_sides_of_the_rule() -> None:
    """The skip is taken (a zero-safe model, all finite) and refused (each other case)."""
    safe = {}
    for name, (model, numbers, batch, _) in CASES.items():
        params, _ = _twins(numbers)
        safe[name] = Example(model(params), batch[0]).zero_safe
    assert safe == {name: name != "division (not zero-safe)" for name in CASES}


# ---------------------------------------------------------------- random models, an oracle

ACTIVATIONS: dict[str, Callable[[Value], Value]] = {
    "relu": lambda z: z.relu(),
    "tanh": lambda z: z.tanh(),
    "sigmoid": lambda z: z.sigmoid(),
    "leaky_relu": lambda z: z.leaky_relu(0.1),
    "softplus": lambda z: z.softplus(),
    "rational": lambda z: z / (z * z + 1.0),  # division: not zero-safe
}
#: Numbers where a zero adjoint stops being a zero: infinities, NaN, overflow, signed zeros.
SPECIAL = st.sampled_from([0.0, -0.0, math.inf, -math.inf, math.nan, 1e308, -1e308, 1e-310])
NUMBER = st.one_of(st.floats(-3.0, 3.0), SPECIAL)
FINITE = st.floats(-3.0, 3.0)
FEW_SPECIAL = st.one_of(FINITE, FINITE, FINITE, SPECIAL)


def _zero_sign_aside(x: float) -> tuple[bool, float]:
    """Bit for bit, but for the sign of a zero (documented in ``compiler.compiled``: the engine's
    interior adjoints start at 0.0); NaN equals NaN."""
    return (x != x, 0.0 if x != x else x + 0.0)


@st.composite
def _looped_cases(draw: st.DrawFn) -> tuple[list[int], list[str], list[float], list[list[float]], list[float], float]:
    sizes = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    activations = draw(st.lists(st.sampled_from(sorted(ACTIVATIONS)), min_size=len(sizes), max_size=len(sizes)))
    fan_ins = [2, *sizes]
    n_params = sum((fan_in + 1) * size for fan_in, size in zip(fan_ins, [*sizes, 1]))
    # Special numbers in the parameters or the inputs only some of the time, so that the skip is taken too.
    params = draw(st.lists(draw(st.sampled_from([FINITE, FEW_SPECIAL])), min_size=n_params, max_size=n_params))
    row = st.lists(draw(st.sampled_from([FINITE, FEW_SPECIAL])), min_size=2, max_size=2)
    batch = draw(st.lists(row, min_size=1, max_size=5))
    seeds = draw(st.lists(st.one_of(st.just(0.0), st.just(-0.0), NUMBER), min_size=len(batch), max_size=len(batch)))
    before = draw(st.sampled_from([0.0, -0.0]))  # as after zero_grad (``Example.backward``'s contract)
    return sizes, activations, params, batch, seeds, before


def _mlp(sizes: list[int], activations: list[str], params: list[Value]) -> Callable[[Any], Value]:
    def model(x: Any) -> Value:
        k, layer = 0, list(x)
        for size, name in [*zip(sizes, activations), (1, None)]:
            out = []
            for _ in range(size):
                weights, bias = params[k : k + len(layer)], params[k + len(layer)]
                k += len(layer) + 1
                z = weights[0] * layer[0]
                for w, h in zip(weights[1:], layer[1:]):
                    z = z + w * h
                z = z + bias
                out.append(ACTIVATIONS[name](z) if name is not None else z)
            layer = out
        return layer[0]

    return model


@given(_looped_cases())
def test_looped_examples_equal_the_engine_on_random_models(case: Any) -> None:
    """Random MLPs (each activation, division among them), inputs, parameters and seeds with zeros,
    infinities, NaN and overflow: the looped code gives the engine's values and gradients."""
    sizes, activations, numbers, batch, seeds, before = case
    model = lambda ps: _mlp(sizes, activations, ps)
    example, rows = _engine_equal(model, numbers, batch, seeds, before, _zero_sign_aside)
    saved = [x for row in rows for item in row for x in (item if isinstance(item, tuple) else (item,))]
    finite = all(map(math.isfinite, [*numbers, *saved]))
    event(f"a zero seed could be skipped: {example.zero_safe and finite and 0.0 in seeds}")


# ---------------------------------------------------------------- long dots (found by a review)


def test_a_tuple_the_backward_pass_reads_again_is_saved_and_checked_for_a_zero_seed() -> None:
    """A dot of 33 inputs packs them into a tuple, which the backward pass (``_sum(map(_mul, ...))``
    before 3.12) reads again: it is saved with the numbers, and the zero-seed check looks inside it
    (``sum`` of a row holding a tuple raised TypeError)."""
    from valuegrad.autograd import dot
    from valuegrad.autograd import sum as vsum
    from valuegrad.autograd.compiler.nary_code import SUM_IS_SEQUENTIAL

    n = 33
    order = [*reversed(range(n)), 5]

    def make(ps: list[Value]) -> Callable[[Any], Value]:
        def f(x: Any) -> Value:
            s = dot(ps[:n], x).tanh() + ps[n]
            return vsum([s * x[i] for i in order])

        return f

    numbers = [0.01 * (i + 1) for i in range(n + 1)]
    batch = [[0.1 * (i + j) for i in range(n)] for j in range(3)]
    _, saved = _engine_equal(make, numbers, batch, [0.0, 1.0, 0.0])
    if SUM_IS_SEQUENTIAL:  # the tuple is there to check (3.12's compensating sum writes it otherwise)
        assert any(isinstance(item, tuple) for item in saved[0])
    batch[0][3] = math.inf  # a non-finite number inside the tuple: that example runs, and gives NaN
    _engine_equal(make, numbers, batch, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("n", [2, 33])
def test_a_parameter_read_only_as_anothers_factor_is_unpacked(n: int) -> None:
    """``dot`` of parameter pairs: the second of a pair is read only in its partner's gradient term."""
    from valuegrad.autograd import dot

    def make(ps: list[Value]) -> Callable[[Any], Value]:
        return lambda x: dot(ps[:n], ps[n:]) * x[0]

    _engine_equal(make, [0.01 * (i + 1) for i in range(2 * n)], [[1.0], [2.0]], [1.0, 0.5])
