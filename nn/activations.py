"""Activation functions by name, each one node on top of a neuron's pre-activation.

``relu``, ``leaky_relu`` (slope 0.01 below 0), ``elu``, ``softplus``, ``sigmoid``, ``tanh``,
``hard_tanh``, ``abs`` (abs rectification) and ``linear`` (no node at all) map straight onto
engine ops, so their derivatives come from the one op table. ``prelu`` (a learned slope ``a``
below 0) is a parameter of its neuron; see ``prelu`` below. Maxout and RBF units are whole units
rather than functions of one pre-activation: see ``nn.layers.Maxout`` and ``nn.layers.RBF``.
"""

from __future__ import annotations

from typing import Callable

from ..autograd import Value, dot

__all__ = ["ACTIVATIONS", "NAMES", "check_activation", "prelu"]

Activation = Callable[[Value], Value]

#: Elementwise activations: name -> function of one Value (None for linear: no node is made).
ACTIVATIONS: dict[str, Activation | None] = {
    "relu": Value.relu,
    "leaky_relu": Value.leaky_relu,
    "elu": Value.elu,
    "softplus": Value.softplus,
    "sigmoid": Value.sigmoid,
    "tanh": Value.tanh,
    "hard_tanh": Value.hard_tanh,
    "abs": Value.abs,
    "linear": None,
}

#: Every activation name a Neuron accepts (``prelu`` carries a learned parameter).
NAMES: tuple[str, ...] = (*ACTIVATIONS, "prelu")


def check_activation(name: object, what: str = "activation") -> str:
    """``name`` if it is a known activation name (None means linear), else a ValueError listing them."""
    if name is None:
        return "linear"
    if isinstance(name, str) and name in NAMES:
        return name
    raise ValueError(f"unknown {what} {name!r}; choose one of {', '.join(NAMES)}")


def prelu(z: Value, slope: Value) -> Value:
    """PReLU: z if z > 0 else slope * z, with ``slope`` a parameter (He et al. 2015).

    Built as relu(z) + slope * (z - relu(z)): three nodes, and both z and the slope get
    their gradients from ordinary ops (the slope's is min(z, 0)).
    """
    positive = z.relu()
    negative = z - positive  # min(z, 0)
    return dot((slope,), (negative,), positive)
