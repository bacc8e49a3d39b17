"""The compiled training step behind ``fit(..., compile=True)`` and ``valuegrad train --compile``.

The first step traces the batch's loss (forward over every sample, the loss, the L2 penalty)
with ``autograd.jit`` and writes it out as straight-line Python with its backward pass; every
later step with a batch of the same shape and targets replays that code and adds the
gradients into the parameters' ``.grad``; the optimizer's own ``step()`` then updates them, so
SGD, momentum and Adam behave exactly as in eager mode, and so do the losses.

The targets are constants of the trace (the losses branch on labels in Python), so a full-batch
run compiles once; shuffled mini-batches compile once per distinct batch of targets.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from valuegrad.autograd import Value
from valuegrad.autograd.compiled import Compiled, jit
from valuegrad.nn import losses as losses_module
from valuegrad.nn.module import Module
from valuegrad.nn.optim import Optimizer

__all__ = ["CompiledTrainStep"]


class CompiledTrainStep:
    """Callable like ``train._train_step``: one optimizer step on one batch, replayed from compiled code."""

    def __init__(self) -> None:
        self.compiled: Compiled | None = None
        self.first_step_seconds: float | None = None  # trace + code generation + compile() of the first step

    def __call__(
        self,
        model: Module,
        inputs: list[Any],
        targets: list[Any],
        loss_fn: Callable[..., Value],
        accuracy_fn: Callable[..., float] | None,
        params: list[Value],
        l2: float,
        optimizer: Optimizer,
        step: int,
        snapshot: bool,
    ) -> tuple[float, float | None, dict[str, float] | None]:
        if self.compiled is None:

            def batch_loss(batch: list[Any], wanted: Any) -> tuple[Value, list[Any]]:
                outputs = [model(x) for x in batch]
                data_loss = loss_fn(outputs, wanted)
                return (data_loss + losses_module.l2(params, l2) if l2 else data_loss), outputs

            self.compiled = jit(batch_loss, argnums=(), has_aux=True, static_argnums=(1,))
        traces = self.compiled.traces
        optimizer.zero_grad()
        (loss, outputs), _ = self.compiled(inputs, targets)  # adds the gradients into .grad
        if self.first_step_seconds is None and self.compiled.traces > traces:
            self.first_step_seconds = self.compiled.trace_seconds
        if not math.isfinite(loss):
            raise FloatingPointError(
                f"fit: the loss became {loss} at step {step}; training diverged -- lower the learning rate"
            )
        before = model.state_dict() if snapshot else None
        optimizer.step()
        accuracy = accuracy_fn(outputs, targets) if accuracy_fn is not None else None
        return loss, accuracy, before
