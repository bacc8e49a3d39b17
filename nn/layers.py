"""Neurons, maxout and RBF units, layers and multi-layer perceptrons.

A neuron's pre-activation w·x + b is ONE n-ary node (``autograd.dot``), not a chain of 2n
additions and multiplications, and its activation is one more node. Plain-number inputs are
folded into the dot node as constants. The forward passes below are deliberately bare: they are
the inner loop of every training step.
"""

from __future__ import annotations

import numbers
import random
from typing import Any, Sequence, Union

from valuegrad.autograd import Value, dot
from valuegrad.autograd import max as value_max
from valuegrad.nn.activations import ACTIVATIONS, check_activation, prelu
from valuegrad.nn.init import RngLike, make_rng, resolve_init
from valuegrad.nn.module import Module

__all__ = ["MLP", "RBF", "Layer", "Maxout", "Neuron"]

Input = Sequence[Union[Value, float]]

#: PReLU's initial slope below zero (PyTorch's default).
PRELU_INITIAL_SLOPE = 0.25


def _check_size(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{what} must be a positive int, got {value!r}")
    return value


def _check_bias(bias_init: object) -> float:
    if isinstance(bias_init, bool) or not isinstance(bias_init, (int, float)):
        raise TypeError(f"bias_init must be a number, got {type(bias_init).__name__}")
    return float(bias_init)


def _bad_input(module: Module, nin: int, x: Any) -> Exception:
    """The error for an input a unit cannot take, saying what was wrong with it."""
    try:
        width = len(x)
    except TypeError:
        return TypeError(f"{module.path} takes a list of {nin} numbers or Values, got a {type(x).__name__}")
    if width != nin:
        return ValueError(f"{module.path} takes {nin} inputs, got {width}")
    for i, item in enumerate(x):
        if isinstance(item, bool) or not isinstance(item, (Value, numbers.Real)):
            return TypeError(f"{module.path}: input {i} is a {type(item).__name__}, expected a number or a Value")
    return TypeError(f"{module.path} could not use its input {x!r}")


class Neuron(Module):
    """activation(w·x + b) with ``nin`` weights ``w`` and a bias ``b``.

    ``activation`` is a name from ``nn.activations.NAMES`` (``'prelu'`` adds a learned slope
    parameter ``a``); ``init`` a scheme from ``nn.init`` (``'auto'``: He for ReLU-like, Xavier
    otherwise); ``rng`` a seed or ``random.Random``. ``fan_out`` only matters for Xavier init.
    """

    def __init__(
        self,
        nin: int,
        activation: str | None = "relu",
        init: str = "auto",
        bias_init: float = 0.0,
        rng: RngLike = None,
        fan_out: int = 1,
    ) -> None:
        super().__init__()
        self.nin = _check_size(nin, "nin")
        self.activation = check_activation(activation)
        draw = resolve_init(init, self.activation)
        generator = make_rng(rng)
        fan_out = _check_size(fan_out, "fan_out")
        self.w = [Value(draw(generator, nin, fan_out)) for _ in range(nin)]
        self.b = Value(_check_bias(bias_init))
        if self.activation == "prelu":
            self.a = Value(PRELU_INITIAL_SLOPE)
        self._activate = ACTIVATIONS.get(self.activation)

    def __call__(self, x: Input) -> Value:
        path = self._path
        try:
            z = dot(self.w, x, self.b)
        except (ValueError, TypeError):
            raise _bad_input(self, self.nin, x) from None
        z.module_path = path
        activate = self._activate
        if activate is None:
            if self.activation == "prelu":
                return prelu(z, self.a, path)
            return z
        out = activate(z)
        out.module_path = path
        return out

    forward = __call__

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "activation": self.activation}


class Maxout(Module):
    """max over ``pieces`` affine functions w_j·x + b_j (Goodfellow et al. 2013): a learned convex activation."""

    def __init__(
        self, nin: int, pieces: int = 2, init: str = "auto", bias_init: float = 0.0, rng: RngLike = None
    ) -> None:
        super().__init__()
        self.nin = _check_size(nin, "nin")
        self.num_pieces = _check_size(pieces, "pieces")
        generator = make_rng(rng)
        # The pieces are linear neurons; He scaling suits a unit that is piecewise linear.
        scheme = "he_uniform" if init == "auto" else init
        self.pieces = [Neuron(nin, "linear", scheme, bias_init, generator) for _ in range(self.num_pieces)]

    def __call__(self, x: Input) -> Value:
        out = value_max([piece(x) for piece in self.pieces])
        out.module_path = self._path
        return out

    forward = __call__

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "pieces": self.num_pieces}


class RBF(Module):
    """A radial basis unit exp(-γ‖x - w‖²) with a learned centre ``w`` and a fixed width ``gamma``."""

    def __init__(self, nin: int, gamma: float = 1.0, init: str = "uniform", rng: RngLike = None) -> None:
        super().__init__()
        self.nin = _check_size(nin, "nin")
        if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not gamma > 0:
            raise ValueError(f"gamma must be a positive number, got {gamma!r}")
        self.gamma = float(gamma)
        draw = resolve_init(init, "linear")
        generator = make_rng(rng)
        self.w = [Value(draw(generator, nin, 1)) for _ in range(nin)]

    def __call__(self, x: Input) -> Value:
        path = self._path
        try:
            if len(x) != self.nin:
                raise ValueError
            differences = [xi - wi for xi, wi in zip(x, self.w)]
        except (ValueError, TypeError):
            raise _bad_input(self, self.nin, x) from None
        for d in differences:
            d.module_path = path
        squared = dot(differences, differences)
        out = (squared * -self.gamma).exp()
        squared.module_path = path
        out.parents[0].module_path = path
        out.module_path = path
        return out

    forward = __call__

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "gamma": self.gamma}


UNITS = ("neuron", "maxout", "rbf")


class Layer(Module):
    """``nout`` units that all see the same inputs; calling it returns a list (width 1 included).

    ``unit`` is ``'neuron'`` (with ``activation``), ``'maxout'`` (with ``pieces``) or ``'rbf'``
    (with ``gamma``).
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        activation: str | None = "relu",
        init: str = "auto",
        bias_init: float = 0.0,
        rng: RngLike = None,
        unit: str = "neuron",
        pieces: int = 2,
        gamma: float = 1.0,
    ) -> None:
        super().__init__()
        self.nin = _check_size(nin, "nin")
        self.nout = _check_size(nout, "nout")
        if unit not in UNITS:
            raise ValueError(f"unknown unit {unit!r}; choose one of {', '.join(UNITS)}")
        self.unit = unit
        generator = make_rng(rng)
        self.activation = check_activation(activation)
        self.pieces = pieces
        self.gamma = gamma
        neurons: list[Module]
        if unit == "neuron":
            neurons = [Neuron(nin, self.activation, init, bias_init, generator, nout) for _ in range(nout)]
        elif unit == "maxout":
            neurons = [Maxout(nin, pieces, init, bias_init, generator) for _ in range(nout)]
        else:
            neurons = [RBF(nin, gamma, "uniform" if init == "auto" else init, generator) for _ in range(nout)]
        self.neurons = neurons

    def __call__(self, x: Input) -> list[Value]:
        return [neuron(x) for neuron in self.neurons]

    forward = __call__

    def config(self) -> dict[str, Any]:
        config: dict[str, Any] = {"nin": self.nin, "nout": self.nout, "unit": self.unit}
        if self.unit == "neuron":
            config["activation"] = self.activation
        elif self.unit == "maxout":
            config["pieces"] = self.pieces
        else:
            config["gamma"] = self.gamma
        return config


class MLP(Module):
    """A multi-layer perceptron: ``MLP(2, [16, 16, 1])`` maps 2 inputs to 1 output through two ReLU layers.

    Hidden layers use ``activation``; the last layer uses ``output_activation`` (None: linear,
    so the outputs are scores/logits for a loss). Calling it returns a list of outputs, as
    ``Layer`` does -- ``model(x)[0]`` for a single score. ``MLP(2, [16, 16, 1])`` has 337
    parameters, as in micrograd's demo.
    """

    def __init__(
        self,
        nin: int,
        sizes: Sequence[int],
        activation: str | None = "relu",
        output_activation: str | None = None,
        init: str = "auto",
        bias_init: float = 0.0,
        rng: RngLike = None,
    ) -> None:
        super().__init__()
        self.nin = _check_size(nin, "nin")
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or not sizes:
            raise ValueError(f"sizes must be a non-empty list of layer widths, e.g. [16, 16, 1], got {sizes!r}")
        self.sizes = [_check_size(s, f"layer width {i}") for i, s in enumerate(sizes)]
        self.activation = check_activation(activation)
        self.output_activation = check_activation(output_activation, "output_activation")
        generator: random.Random = make_rng(rng)
        widths = [self.nin, *self.sizes]
        last = len(self.sizes) - 1
        self.layers = [
            Layer(
                widths[i],
                widths[i + 1],
                self.output_activation if i == last else self.activation,
                init,
                bias_init,
                generator,
            )
            for i in range(len(self.sizes))
        ]

    def __call__(self, x: Input) -> list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x  # type: ignore[return-value]

    forward = __call__

    @property
    def nout(self) -> int:
        return self.sizes[-1]

    def config(self) -> dict[str, Any]:
        return {
            "nin": self.nin,
            "sizes": list(self.sizes),
            "activation": self.activation,
            "output_activation": self.output_activation,
        }
