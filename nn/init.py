"""Weight initialisation from a seeded ``random.Random`` (never the global ``random`` state).

Each scheme draws one weight given the layer's fan-in and fan-out:

* ``uniform``: U(-1, 1), micrograd's choice; ``normal``: N(0, 1);
* ``xavier_uniform`` / ``xavier_normal`` (Glorot & Bengio 2010): variance 2 / (fan_in + fan_out),
  suited to tanh and sigmoid;
* ``he_uniform`` / ``he_normal`` (He et al. 2015): variance 2 / fan_in, suited to ReLU;
* ``auto``: He for the ReLU family, Xavier for everything else.

Biases start at ``bias_init`` (a number; 0.1 keeps ReLU units alive at the start, as the lectures
advise). Weights are never all zero: that would make every unit in a layer identical forever.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Union

if TYPE_CHECKING:  # random loads when the first generator is made: `import valuegrad.nn` stays light
    import random

__all__ = ["INITS", "RELU_FAMILY", "make_rng", "resolve_init"]

RngLike = Union["random.Random", int, None]
Draw = Callable[["random.Random", int, int], float]

RELU_FAMILY = frozenset({"relu", "leaky_relu", "prelu", "elu", "abs"})


def _uniform(rng: random.Random, fan_in: int, fan_out: int) -> float:
    return rng.uniform(-1.0, 1.0)


def _normal(rng: random.Random, fan_in: int, fan_out: int) -> float:
    return rng.gauss(0.0, 1.0)


def _xavier_uniform(rng: random.Random, fan_in: int, fan_out: int) -> float:
    bound = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound)


def _xavier_normal(rng: random.Random, fan_in: int, fan_out: int) -> float:
    return rng.gauss(0.0, math.sqrt(2.0 / (fan_in + fan_out)))


def _he_uniform(rng: random.Random, fan_in: int, fan_out: int) -> float:
    bound = math.sqrt(6.0 / fan_in)
    return rng.uniform(-bound, bound)


def _he_normal(rng: random.Random, fan_in: int, fan_out: int) -> float:
    return rng.gauss(0.0, math.sqrt(2.0 / fan_in))


INITS: dict[str, Draw] = {
    "uniform": _uniform,
    "normal": _normal,
    "xavier_uniform": _xavier_uniform,
    "xavier_normal": _xavier_normal,
    "he_uniform": _he_uniform,
    "he_normal": _he_normal,
}


def resolve_init(init: str, activation: str) -> Draw:
    """The draw function for scheme ``init`` (``'auto'`` picks by ``activation``)."""
    if init == "auto":
        init = "he_uniform" if activation in RELU_FAMILY else "xavier_uniform"
    try:
        return INITS[init]
    except (KeyError, TypeError):
        names = ", ".join(["auto", *INITS])
        raise ValueError(f"unknown init {init!r}; choose one of {names}") from None


def make_rng(rng: RngLike) -> random.Random:
    """A ``random.Random`` from a seed (int), an existing generator, or None (fresh OS entropy)."""
    import random

    if isinstance(rng, random.Random):
        return rng
    if rng is None:
        return random.Random()
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)
    raise TypeError(f"rng must be an int seed, a random.Random or None, got {type(rng).__name__}")
