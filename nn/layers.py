"""Neurons, maxout and RBF units, layers and multi-layer perceptrons.

A neuron's pre-activation w·x + b is ONE n-ary node (``autograd.dot``), not a chain of 2n
additions and multiplications, and its activation is one more node. Plain-number inputs are
folded into the dot node as constants. The forward passes below are deliberately bare: they are
the inner loop of every training step.

Each class also states, from its config alone, how many parameters it has
(``implied_parameters``): a model file is checked against that closed form before anything is
built, so a doctored file cannot make us allocate a gigantic model.
"""

from __future__ import annotations

import numbers
from typing import Any, Callable, Mapping, Sequence, Union

from ..autograd import Value, dot
from ..autograd import max as value_max
from ..autograd.core import checks
from .activations import ACTIVATIONS, check_activation, prelu
from .init import RngLike, make_rng, resolve_init
from .module import Module, call_all

__all__ = ["MLP", "RBF", "Layer", "Maxout", "Neuron", "Unit"]

Input = Sequence[Union[Value, float]]
#: What ``Layer(unit=...)`` takes: a unit class, or any function ``(nin, rng=..., **options) -> Module``.
Unit = Callable[..., Module]

#: PReLU's initial slope below zero (PyTorch's default).
PRELU_INITIAL_SLOPE = 0.25


def _size(value: object, what: str, where: str) -> int:
    return checks.integer(value, what, where, low=1)


def _as_input(module: Module, x: Any) -> Any:
    """``x`` if a unit can read it as its inputs; a mapping or a non-sequence is a TypeError.

    Only reached for inputs that are not a list or a tuple (the fast path skips it): a dict
    would otherwise be read through its keys, a set in no particular order.
    """
    if isinstance(x, (Mapping, str, bytes)) or not isinstance(x, Sequence):
        raise TypeError(
            f"{module.path} takes a list (or tuple) of numbers or Values, got a {type(x).__name__}"
            + (": a dict's keys are not inputs; pass list(d.values()) in order" if isinstance(x, Mapping) else "")
        )
    return x


def _bad_input(module: Module, nin: int, x: Any) -> Exception:
    """The error for an input a unit cannot take, saying what was wrong with it."""
    width = len(x)
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
        self.nin = _size(nin, "nin", "Neuron")
        self.activation = check_activation(activation)
        draw = resolve_init(init, self.activation)
        bias = checks.real(bias_init, "bias_init", "Neuron")
        generator = make_rng(rng)
        fan_out = _size(fan_out, "fan_out", "Neuron")
        self.w = [Value(draw(generator, nin, fan_out)) for _ in range(nin)]
        self.b = Value(bias)
        if self.activation == "prelu":
            self.a = Value(PRELU_INITIAL_SLOPE)
        self._activate = ACTIVATIONS.get(self.activation)

    @classmethod
    def implied_parameters(cls, config: Mapping[str, Any]) -> int:
        nin = _size(config["nin"], "nin", cls.__name__)
        return nin + 1 + (check_activation(config.get("activation", "relu")) == "prelu")

    def forward(self, x: Input) -> Value:
        if x.__class__ is not list and x.__class__ is not tuple:
            x = _as_input(self, x)
        try:
            z = dot(self.w, x, self.b)
        except (ValueError, TypeError):
            raise _bad_input(self, self.nin, x) from None
        activate = self._activate
        if activate is not None:
            return activate(z)
        return prelu(z, self.a) if self.activation == "prelu" else z

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "activation": self.activation}


class Maxout(Module):
    """max over ``pieces`` affine functions w_j·x + b_j (Goodfellow et al. 2013): a learned convex activation."""

    def __init__(
        self, nin: int, pieces: int = 2, init: str = "auto", bias_init: float = 0.0, rng: RngLike = None
    ) -> None:
        super().__init__()
        self.nin = _size(nin, "nin", "Maxout")
        self.num_pieces = _size(pieces, "pieces", "Maxout")
        generator = make_rng(rng)
        # The pieces are linear neurons; He scaling suits a unit that is piecewise linear.
        scheme = "he_uniform" if init == "auto" else init
        self.pieces = [Neuron(nin, "linear", scheme, bias_init, generator) for _ in range(self.num_pieces)]

    @classmethod
    def implied_parameters(cls, config: Mapping[str, Any]) -> int:
        nin = _size(config["nin"], "nin", cls.__name__)
        return _size(config.get("pieces", 2), "pieces", cls.__name__) * (nin + 1)

    def forward(self, x: Input) -> Value:
        return value_max(call_all(self.pieces, x))

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "pieces": self.num_pieces}


class RBF(Module):
    """A radial basis unit exp(-γ‖x - w‖²) with a learned centre ``w`` and a fixed width ``gamma``.

    ``init='auto'`` draws the centre uniformly from [-1, 1]².
    """

    def __init__(self, nin: int, gamma: float = 1.0, init: str = "auto", rng: RngLike = None) -> None:
        super().__init__()
        self.nin = _size(nin, "nin", "RBF")
        self.gamma = checks.positive(gamma, "gamma", "RBF")
        draw = resolve_init("uniform" if init == "auto" else init, "linear")
        generator = make_rng(rng)
        self.w = [Value(draw(generator, nin, 1)) for _ in range(nin)]

    @classmethod
    def implied_parameters(cls, config: Mapping[str, Any]) -> int:
        return _size(config["nin"], "nin", cls.__name__)

    def forward(self, x: Input) -> Value:
        if x.__class__ is not list and x.__class__ is not tuple:
            x = _as_input(self, x)
        try:
            if len(x) != self.nin:
                raise ValueError
            differences = [xi - wi for xi, wi in zip(x, self.w)]
        except (ValueError, TypeError):
            raise _bad_input(self, self.nin, x) from None
        return (dot(differences, differences) * -self.gamma).exp()

    def config(self) -> dict[str, Any]:
        return {"nin": self.nin, "gamma": self.gamma}


class Layer(Module):
    """``nout`` units that all see the same inputs; calling it returns a list (width 1 included).

    ``unit`` is a unit class (``Neuron``, the default; ``Maxout``; ``RBF``; your own) or a
    factory; each unit is made as ``unit(nin, rng=generator, **options)``, so ``options`` are
    the unit's own keywords: ``Layer(2, 4, activation="tanh")``, ``Layer(2, 4, Maxout, pieces=3)``,
    ``Layer(2, 4, RBF, gamma=0.5)``. A unit that takes ``fan_out`` (a Neuron, for Xavier init)
    is given the layer's width.
    """

    def __init__(self, nin: int, nout: int, unit: Unit = Neuron, rng: RngLike = None, **options: Any) -> None:
        super().__init__()
        self.nin = _size(nin, "nin", "Layer")
        self.nout = _size(nout, "nout", "Layer")
        if isinstance(unit, str):
            raise TypeError(
                f"Layer: unit takes a unit class or factory, not the string {unit!r}: "
                "write nn.Neuron, nn.Maxout or nn.RBF (their options as keywords, e.g. pieces=3)"
            )
        checks.function(unit, "unit", "Layer")
        accepted = _keywords(unit)
        if accepted is not None:
            unknown = sorted(set(options) - accepted)
            if unknown:
                raise TypeError(
                    f"Layer: {_unit_name(unit)} takes no option {unknown[0]!r}; "
                    f"its options are {', '.join(sorted(accepted - {'nin', 'rng'})) or 'none'}"
                )
            if "fan_out" in accepted:
                options.setdefault("fan_out", self.nout)
        generator = make_rng(rng)
        units = [unit(self.nin, rng=generator, **options) for _ in range(self.nout)]
        if not isinstance(units[0], Module):
            raise TypeError(
                f"Layer: unit must make an nn.Module, but {_unit_name(unit)} made a {type(units[0]).__name__}"
            )
        self.neurons = units

    @classmethod
    def implied_parameters(cls, config: Mapping[str, Any]) -> int | None:
        nout = _size(config["nout"], "nout", cls.__name__)
        unit = config.get("unit", Neuron)
        options = {k: v for k, v in config.items() if k not in ("nout", "unit")}
        if not (isinstance(unit, type) and issubclass(unit, Module)):
            return None  # a factory: only building it tells
        count = unit.implied_parameters(options)
        return None if count is None else nout * count

    def forward(self, x: Input) -> list[Value]:
        return call_all(self.neurons, x)

    def config(self) -> dict[str, Any]:
        options = {k: v for k, v in self.neurons[0].config().items() if k != "nin"}
        return {"nin": self.nin, "nout": self.nout, "unit": type(self.neurons[0]).__name__, **options}


def _keywords(unit: Unit) -> set[str] | None:
    """The keyword names ``unit`` accepts, or None if it takes any (``**kwargs``) or cannot be inspected."""
    import inspect  # here, not at the top: `import valuegrad.nn` stays light

    try:
        parameters = inspect.signature(unit).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return {p.name for p in parameters if p.kind is not inspect.Parameter.POSITIONAL_ONLY}


def _unit_name(unit: Unit) -> str:
    return getattr(unit, "__name__", type(unit).__name__)


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
        self.nin = _size(nin, "nin", "MLP")
        self.sizes = _sizes(sizes)
        self.activation = check_activation(activation)
        self.output_activation = check_activation(output_activation, "output_activation")
        bias_init = checks.real(bias_init, "bias_init", "MLP")
        generator = make_rng(rng)
        widths = [self.nin, *self.sizes]
        last = len(self.sizes) - 1
        self.layers = [
            Layer(
                widths[i],
                widths[i + 1],
                Neuron,
                generator,
                activation=self.output_activation if i == last else self.activation,
                init=init,
                bias_init=bias_init,
            )
            for i in range(len(self.sizes))
        ]

    @classmethod
    def implied_parameters(cls, config: Mapping[str, Any]) -> int:
        widths = [_size(config["nin"], "nin", cls.__name__), *_sizes(config["sizes"])]
        prelu_hidden = check_activation(config.get("activation", "relu")) == "prelu"
        prelu_out = check_activation(config.get("output_activation"), "output_activation") == "prelu"
        count = 0
        for i in range(1, len(widths)):
            per_neuron = widths[i - 1] + 1 + (prelu_out if i == len(widths) - 1 else prelu_hidden)
            count += widths[i] * per_neuron
        return count

    def forward(self, x: Input) -> list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x  # type: ignore[return-value]

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


def _sizes(sizes: object) -> list[int]:
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or not sizes:
        raise ValueError(
            f"MLP: sizes must be a non-empty list of layer widths, e.g. [16, 16, 1], got {checks.describe(sizes)}"
        )
    return [_size(s, f"layer width {i}", "MLP") for i, s in enumerate(sizes)]
