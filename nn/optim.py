"""Optimizers that update parameters in place from their ``.grad``: ``SGD`` and ``Adam``.

Usage, as in PyTorch::

    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for step in range(100):
        opt.zero_grad()
        loss = ...
        loss.backward()
        opt.step()

A learning-rate ``schedule`` is a function of the step number (0, 1, 2, ...) returning the
rate for that step; ``linear_schedule(1.0, 0.1, 100)`` is micrograd's demo schedule
lr = 1.0 − 0.9·k/100.

``state_dict()`` / ``load_state_dict()`` hold the step count, the hyperparameters and the
per-parameter buffers (momentum, Adam's moments) as plain numbers, so a model file can carry
them and training resumes exactly where it stopped (a schedule, being a function, is not
saved: pass it again).

``load_state_dict`` holds the state to each optimizer's invariants, so that whatever it takes
steps without an error: every buffer a list of finite numbers as long as ``params``, Adam's
second moments ``v`` >= 0 (``NONNEGATIVE_BUFFERS``), and ``steps`` a whole number from 0 to
``MAX_STEPS`` (2**53: beyond it the count is no longer exact as a float, which bias correction
uses; no training run comes near it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Iterable

from ..autograd import Value, zero_grad
from ..autograd.core import checks
from .module import Module

__all__ = ["MAX_STEPS", "OPTIMIZERS", "SGD", "Adam", "Optimizer", "linear_schedule", "optimizer_from_state"]

Schedule = Callable[[int], float]

#: The largest step count ``load_state_dict`` takes.
MAX_STEPS = 2**53


def linear_schedule(start: float, end: float, steps: int) -> Schedule:
    """lr goes from ``start`` at step 0 linearly towards ``end`` at step ``steps`` (then stays there)."""
    start = checks.positive(start, "start", "linear_schedule")
    end = checks.positive(end, "end", "linear_schedule")
    steps = checks.integer(steps, "steps", "linear_schedule", low=1)

    def schedule(step: int) -> float:
        fraction = min(step, steps) / steps
        return start + (end - start) * fraction

    return schedule


class Optimizer:
    """Holds the parameter list, the step count and the learning rate (fixed or scheduled).

    Subclasses name their hyperparameters (``HYPERPARAMETERS``, checked by ``_check``) and
    their per-parameter buffers (``BUFFERS``, lists of finite floats as long as ``params``;
    those in ``NONNEGATIVE_BUFFERS`` never below 0).
    """

    HYPERPARAMETERS: tuple[str, ...] = ("lr",)
    BUFFERS: tuple[str, ...] = ()
    NONNEGATIVE_BUFFERS: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Value], lr: float, schedule: Schedule | None = None) -> None:
        where = type(self).__name__
        if isinstance(params, Module):
            raise TypeError(f"{where} takes the parameters, not the model: pass model.parameters()")
        if isinstance(params, Value) or not isinstance(params, Iterable):
            raise TypeError(f"{where} takes a list of parameters (model.parameters()), got {checks.describe(params)}")
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{where} got no parameters; pass model.parameters()")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{where}: parameter {i} is a {type(p).__name__}, expected a Value")
        self.lr = checks.positive(lr, "lr", where)
        self.schedule = None if schedule is None else checks.function(schedule, "schedule", where)
        self.steps = 0

    @property
    def current_lr(self) -> float:
        """The learning rate the next ``step()`` will use."""
        if self.schedule is None:
            return self.lr
        return checks.nonnegative(self.schedule(self.steps), f"schedule({self.steps})", type(self).__name__)

    def zero_grad(self) -> None:
        """Reset every parameter's gradient, as ``autograd.zero_grad`` does."""
        zero_grad(self.params)

    def step(self) -> None:
        """Update every parameter once from its current ``.grad``."""
        self._update(self.current_lr)
        self.steps += 1

    def _update(self, lr: float) -> None:
        raise NotImplementedError

    # ---------------------------------------------------------------- state

    def hyperparameters(self) -> dict[str, Any]:
        """The constructor's settings (without ``params`` and ``schedule``), as JSON-ready values."""
        return {name: _plain(getattr(self, name)) for name in self.HYPERPARAMETERS}

    def state_dict(self) -> dict[str, Any]:
        """Step count, hyperparameters and buffers as plain numbers (buffers by parameter index)."""
        return {
            "steps": self.steps,
            "hyperparameters": self.hyperparameters(),
            "buffers": {name: list(getattr(self, f"_{name}")) for name in self.BUFFERS},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Take ``state`` (from ``state_dict()``, maybe read from a file), checked whole before any change."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{where} takes a mapping (from state_dict()), got {checks.describe(state)}")
        unexpected = sorted(set(state) - {"steps", "hyperparameters", "buffers"})
        if unexpected:
            raise ValueError(f"{where}: unexpected entry {unexpected[0]!r}")
        steps = checks.integer(state.get("steps"), "steps", where, low=0, high=MAX_STEPS)
        hyper = state.get("hyperparameters")
        if not isinstance(hyper, Mapping) or set(hyper) != set(self.HYPERPARAMETERS):
            raise ValueError(f"{where}: hyperparameters must be an object with {', '.join(self.HYPERPARAMETERS)}")
        checked = type(self)(self.params, **hyper)  # the constructor's own checks, on a throwaway copy
        buffers = state.get("buffers")
        if not isinstance(buffers, Mapping) or set(buffers) != set(self.BUFFERS):
            raise ValueError(f"{where}: buffers must be an object with {', '.join(self.BUFFERS) or 'nothing'}")
        values: dict[str, list[float]] = {}
        for name in self.BUFFERS:
            row = buffers[name]
            if not isinstance(row, list) or len(row) != len(self.params):
                raise ValueError(f"{where}: buffer {name!r} must be a list of {len(self.params)} numbers")
            check = checks.nonnegative if name in self.NONNEGATIVE_BUFFERS else checks.real
            values[name] = [check(v, f"{name}[{i}]", where) for i, v in enumerate(row)]
        for name in self.HYPERPARAMETERS:
            setattr(self, name, getattr(checked, name))
        for name, row in values.items():
            getattr(self, f"_{name}")[:] = row
        self.steps = steps


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class SGD(Optimizer):
    """Stochastic gradient descent: v ← μv + (g + λp); p ← p − lr·v (PyTorch's form of momentum).

    With ``momentum=0`` and ``weight_decay=0`` this is micrograd's update p ← p − lr·g.
    """

    HYPERPARAMETERS = ("lr", "momentum", "weight_decay")
    BUFFERS = ("velocity",)

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.1,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        self.momentum = checks.unit_interval(momentum, "momentum", "SGD")
        self.weight_decay = checks.nonnegative(weight_decay, "weight_decay", "SGD")
        self._velocity = [0.0] * len(self.params)

    def _update(self, lr: float) -> None:
        momentum, decay, velocity = self.momentum, self.weight_decay, self._velocity
        if momentum == 0.0 and decay == 0.0:
            for p in self.params:
                p.data -= lr * p.grad
            return
        for i, p in enumerate(self.params):
            g = p.grad + decay * p.data
            if momentum:
                g = velocity[i] = momentum * velocity[i] + g
            p.data -= lr * g


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; ``weight_decay`` adds λp to the gradient."""

    HYPERPARAMETERS = ("lr", "betas", "eps", "weight_decay")
    BUFFERS = ("m", "v")
    NONNEGATIVE_BUFFERS = ("v",)  # a mean of squared gradients: its square root is taken

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.01,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        if isinstance(betas, (str, bytes)) or not isinstance(betas, Sequence) or len(betas) != 2:
            raise ValueError(
                f"Adam: betas must be a pair (beta1, beta2), e.g. (0.9, 0.999), got {checks.describe(betas)}"
            )
        self.betas = (
            checks.unit_interval(betas[0], "betas[0]", "Adam"),
            checks.unit_interval(betas[1], "betas[1]", "Adam"),
        )
        self.eps = checks.positive(eps, "eps", "Adam")
        self.weight_decay = checks.nonnegative(weight_decay, "weight_decay", "Adam")
        self._m = [0.0] * len(self.params)
        self._v = [0.0] * len(self.params)

    def _update(self, lr: float) -> None:
        beta1, beta2 = self.betas
        t = self.steps + 1
        correction1 = 1.0 - beta1**t
        correction2 = 1.0 - beta2**t
        m, v, decay, eps = self._m, self._v, self.weight_decay, self.eps
        for i, p in enumerate(self.params):
            g = p.grad + decay * p.data
            m[i] = beta1 * m[i] + (1.0 - beta1) * g
            v[i] = beta2 * v[i] + (1.0 - beta2) * g * g
            p.data -= lr * (m[i] / correction1) / (math.sqrt(v[i] / correction2) + eps)


#: Optimizers a model file may name.
OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {"SGD": SGD, "Adam": Adam}


def optimizer_from_state(saved: object, model: Module) -> Optimizer:
    """Rebuild a model file's ``{"class": ..., "state": ...}`` optimizer entry over ``model``'s parameters."""
    if not isinstance(saved, Mapping) or not isinstance(saved.get("state"), Mapping):
        raise ValueError('"optimizer" must be an object with "class" and "state"')
    cls = OPTIMIZERS.get(saved["class"]) if isinstance(saved.get("class"), str) else None
    if cls is None:
        raise ValueError(f"unknown optimizer class {checks.describe(saved.get('class'))} (known: SGD, Adam)")
    optimizer = cls(model.parameters())
    optimizer.load_state_dict(saved["state"])
    return optimizer
