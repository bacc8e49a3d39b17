"""One training step, shared by ``fit`` (``train``) and its compiled variant (``compiled``).

``Training`` holds what every step of one ``fit`` shares; a ``Gradients`` function fills the
parameters' ``.grad`` for one batch: ``eager_gradients`` with the engine, or
``compiled.CompiledGradients`` from compiled code. Both sides import this module and neither
imports the other at load time: ``train`` loads ``compiled`` only when ``compile=True`` asks.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple, Sequence, Union

from ..autograd import Value, enable_grad
from ..autograd.core import checks
from . import losses as losses_module
from .metrics import Accuracy
from .module import Module
from .optim import Optimizer

__all__ = ["Gradients", "LossFn", "StepResult", "Training", "eager_gradients", "loss_value", "refuse_divergence"]

LossFn = Callable[[Sequence[Any], Sequence[Any]], Value]
StepResult = tuple[float, Union[float, None], Union[dict[str, float], None]]
#: Fills the parameters' ``.grad`` for one batch, returns (loss, outputs): eager, or compiled replay.
Gradients = Callable[["Training", list[Any], list[Any], int], tuple[float, list[Any]]]


def loss_value(loss_fn: LossFn, outputs: list[Any], targets: Sequence[Any]) -> Value:
    """Call the loss, and say what it must return if it returns something else."""
    result = loss_fn(outputs, targets)
    if not isinstance(result, Value):
        name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
        raise TypeError(
            f"fit: the loss {name} returned {checks.describe(result)}; a loss must return one Value built "
            "from the outputs (e.g. nn.losses.mse(outputs, targets)), so that backward() can reach the parameters"
        )
    return result


class Training(NamedTuple):
    """What every step of one ``fit`` shares: the model, its loss, and how it learns."""

    model: Module
    loss_fn: LossFn
    accuracy_fn: Accuracy | None
    params: list[Value]
    l2: float
    optimizer: Optimizer

    def batch_loss(self, outputs: list[Any], targets: Sequence[Any]) -> Value:
        """The loss of a batch's outputs, plus the L2 penalty."""
        data_loss = loss_value(self.loss_fn, outputs, targets)
        return data_loss + losses_module.l2(self.params, self.l2) if self.l2 else data_loss

    def step(
        self, gradients: Gradients, inputs: list[Any], targets: list[Any], step: int, snapshot: bool
    ) -> StepResult:
        """One optimizer step on one batch: (loss, batch accuracy, parameters before the step if ``snapshot``).

        The training loss describes the parameters before this step, so they are kept first.
        """
        loss, outputs = gradients(self, inputs, targets, step)
        before = self.model.state_dict() if snapshot else None
        self.optimizer.step()
        accuracy = self.accuracy_fn(outputs, targets) if self.accuracy_fn is not None else None
        return loss, accuracy, before


def refuse_divergence(loss: float, step: int) -> None:
    """Stop at a non-finite loss, before it reaches the parameters."""
    if not math.isfinite(loss):
        raise FloatingPointError(
            f"fit: the loss became {loss} at step {step}; training diverged -- lower the learning rate"
        )


def eager_gradients(training: Training, inputs: list[Any], targets: list[Any], step: int) -> tuple[float, list[Any]]:
    """Forward, loss and backward with the engine; the graph is freed when this returns."""
    with enable_grad():  # training records even inside an enclosing no_grad (never a silent no-op)
        outputs = [training.model(x) for x in inputs]
        total = training.batch_loss(outputs, targets)
    refuse_divergence(total.data, step)
    training.optimizer.zero_grad()
    total.backward()
    return total.data, outputs
