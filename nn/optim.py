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
"""

from __future__ import annotations

import math
import numbers
from typing import Callable, Iterable

from valuegrad.autograd import Value

__all__ = ["SGD", "Adam", "Optimizer", "linear_schedule"]

Schedule = Callable[[int], float]


def linear_schedule(start: float, end: float, steps: int) -> Schedule:
    """lr goes from ``start`` at step 0 linearly towards ``end`` at step ``steps`` (then stays there)."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"linear_schedule: steps must be a positive int, got {steps!r}")

    def schedule(step: int) -> float:
        fraction = min(step, steps) / steps
        return start + (end - start) * fraction

    return schedule


def _nonnegative(x: object, what: str) -> float:
    value = float(x) if isinstance(x, numbers.Real) and not isinstance(x, bool) else math.nan
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{what} must be a finite number >= 0, got {x!r}")
    return value


class Optimizer:
    """Holds the parameter list, the step count and the learning rate (fixed or scheduled)."""

    def __init__(self, params: Iterable[Value], lr: float, schedule: Schedule | None = None) -> None:
        self.params = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got no parameters; pass model.parameters()")
        for i, p in enumerate(self.params):
            if not isinstance(p, Value):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, expected a Value")
        self.lr = _nonnegative(lr, "lr")
        if schedule is not None and not callable(schedule):
            raise TypeError(f"schedule must be a function of the step number, got {type(schedule).__name__}")
        self.schedule = schedule
        self.steps = 0

    @property
    def current_lr(self) -> float:
        """The learning rate the next ``step()`` will use."""
        if self.schedule is None:
            return self.lr
        return float(self.schedule(self.steps))

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0."""
        for p in self.params:
            p.grad = 0.0

    def step(self) -> None:
        """Update every parameter once from its current ``.grad``."""
        self._update(self.current_lr)
        self.steps += 1

    def _update(self, lr: float) -> None:
        raise NotImplementedError


class SGD(Optimizer):
    """Stochastic gradient descent: v ← μv + (g + λp); p ← p − lr·v (PyTorch's form of momentum).

    With ``momentum=0`` and ``weight_decay=0`` this is micrograd's update p ← p − lr·g.
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float = 0.1,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        schedule: Schedule | None = None,
    ) -> None:
        super().__init__(params, lr, schedule)
        self.momentum = _nonnegative(momentum, "momentum")
        self.weight_decay = _nonnegative(weight_decay, "weight_decay")
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
        beta1, beta2 = betas
        for name, beta in (("betas[0]", beta1), ("betas[1]", beta2)):
            if not 0.0 <= _nonnegative(beta, name) < 1.0:
                raise ValueError(f"Adam: {name} must be in [0, 1), got {beta!r}")
        self.betas = (float(beta1), float(beta2))
        self.eps = _nonnegative(eps, "eps")
        self.weight_decay = _nonnegative(weight_decay, "weight_decay")
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
