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

from valuegrad.autograd import Value
from valuegrad.autograd.compiler.example import Example

BIG = 1e308


def _bits(x: float) -> tuple[bool, float, float]:
    """A float as the test compares it: NaN equals NaN, and -0.0 differs from 0.0."""
    return (x != x, 0.0 if x != x else x, math.copysign(1.0, x))


def _twins(numbers: list[float]) -> tuple[list[Value], list[Value]]:
    return [Value(n) for n in numbers], [Value(n) for n in numbers]


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
    seeds = seeds[: len(batch)]
    params, twins = _twins(numbers)
    f, twin_f = model(params), model(twins)
    example = Example(f, batch[0])
    shared = example.shared(tuple(p.data for p in example.params))
    values, saved = example.forward(batch, shared)
    for p in [*params, *twins]:
        p.grad = before
    example.backward(shared, saved, seeds)
    outputs = [twin_f(x) for x in batch]
    total = outputs[0] * seeds[0]
    for output, seed in zip(outputs[1:], seeds[1:]):
        total = total + output * seed
    total.backward()
    assert list(map(_bits, values)) == [_bits(o.data) for o in outputs]
    by_leaf = {id(p): p.grad for p in example.params}
    assert [_bits(by_leaf.get(id(p), before)) for p in params] == [_bits(t.grad) for t in twins]


def test_the_cases_reach_both_sides_of_the_rule() -> None:
    """The skip is taken (a zero-safe model, all finite) and refused (each other case)."""
    safe = {}
    for name, (model, numbers, batch, _) in CASES.items():
        params, _ = _twins(numbers)
        safe[name] = Example(model(params), batch[0]).zero_safe
    assert safe == {name: name != "division (not zero-safe)" for name in CASES}
