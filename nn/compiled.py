"""The compiled training step behind ``fit(..., compile=True)`` and ``valuegrad train --compile``.

The first step traces ONE example of the model with ``autograd.compiled.Example``: its forward
and backward as small straight-line code, looped over the examples of the batch. The
batch-level part (the loss over the model's outputs and the L2 penalty) is a second, small
``jit``: it takes the outputs as inputs and gives the loss and its gradient with respect to
each output, from which the looped backward pass runs. The per-example gradient terms
are then added into the parameters' ``.grad`` in the engine's order (the L2 penalty's terms,
then the examples last to first: the reverse of the order the loss reads them), so the update,
SGD, momentum or Adam, is the eager one bit for bit. Looping one example's code, rather than
writing all of them out, keeps the code small enough to stay in the CPU's caches.

The first step also runs the eager engine once and checks the looped gradients against it bit
for bit; a model that cannot be looped (a guard on the data, a parameter used twice per example,
several outputs) or that disagrees is compiled whole instead: the whole batch's loss as one
``jit`` trace, once per batch shape and targets (the losses branch on labels in Python).

The compiled step is kept for the model (``for_training``) and reused by the next
``fit(compile=True)`` of the same model, parameters, structure, loss and L2: a weak table
keyed by the model, so nothing is added to the model itself (nor saved or pickled with
it), and between steps the compiled step holds no reference to the model or its ``fit``.
"""

from __future__ import annotations

import time
import weakref
from typing import Any, Sequence

from ..autograd import Value
from ..autograd.compiler.compiled import Compiled
from ..autograd.compiler.example import Example, NotLoopable
from .optim import Optimizer
from .step import Training, refuse_divergence

__all__ = ["CompiledGradients", "for_training"]

# model -> (what the compiled step was made for, the compiled step); see ``for_training``.
_KEPT: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], CompiledGradients]] = weakref.WeakKeyDictionary()


def for_training(training: Training) -> CompiledGradients:
    """The compiled step of an earlier ``fit`` of this model if it was made for the same training, else a new one.

    The same means: the same parameters (identities, in order), the same structure (the
    model's repr), the same loss function and L2 factor. The optimizer may differ (each
    step takes the current one); shapes of batches are told apart inside, as ``jit`` does.
    """
    key = (tuple(map(id, training.params)), repr(training.model), training.loss_fn, training.l2)
    kept = _KEPT.get(training.model)
    if kept is not None and kept[0] == key:
        return kept[1]
    gradients = CompiledGradients()
    _KEPT[training.model] = (key, gradients)
    return gradients


class CompiledGradients:
    """Like ``step.eager_gradients``: one batch's loss, outputs and ``.grad``, replayed from compiled code."""

    def __init__(self) -> None:
        self.example: Example | None = None  # one example's code, when the model can be looped
        self.head: Compiled | None = None  # loss + L2 from the outputs, for the looped step
        self.compiled: Compiled | None = None  # the whole batch as one trace, otherwise
        self.looped: bool | None = None  # decided at the first step
        self.first_step_seconds: float | None = None  # the first step: tracing, compiling, the eager check
        self.training: Training | None = None  # the current step's, only during a step (see ``for_training``)

    def __call__(self, training: Training, inputs: list[Any], targets: list[Any], step: int) -> tuple[float, list[Any]]:
        self.training = training
        try:
            return self._step(training, inputs, targets, step)
        finally:
            self.training = None

    def outputs(self, inputs: Sequence[Any]) -> list[Any] | None:
        """The model's outputs on ``inputs`` by the looped example's forward pass, or None if the step is not looped.

        The replay's forward pass is the eager ``model(x)`` on the example's floats, bit for bit, so
        ``fit`` takes its final loss and accuracy from here: about 15 times faster than building
        100 eager graphs, which was a sixth of a 30-step compiled ``fit``.
        """
        example = self.example
        if not self.looped or example is None:
            return None
        try:
            scores, _ = example.forward(inputs, example.shared(tuple(p.data for p in example.params)))
        except NotLoopable:  # an example of another shape
            return None
        return [[Value(s)] for s in scores] if example.listed else [Value(s) for s in scores]

    def _batch_loss(self, outputs: list[Any], targets: Any) -> Value:
        assert self.training is not None
        return self.training.batch_loss(outputs, targets)

    def _step(self, training: Training, inputs: list[Any], targets: list[Any], step: int) -> tuple[float, list[Any]]:
        started = time.perf_counter()
        if self.looped is None:
            self.looped = self._try_looping(training, inputs, targets)
        if self.looped:
            try:
                loss, outputs = self._looped_step(inputs, targets, training.optimizer)
            except NotLoopable:  # a batch of another shape of example: compile whole from now on
                self.looped = False
        if not self.looped:
            loss, outputs = self._whole_step(training, inputs, targets)
        if self.first_step_seconds is None:
            self.first_step_seconds = time.perf_counter() - started
        refuse_divergence(loss, step)
        return loss, outputs

    def _try_looping(self, training: Training, inputs: list[Any], targets: list[Any]) -> bool:
        """Compile one example and the head; keep them if their gradients are the eager ones, bit for bit."""
        model, batch_loss, optimizer = training.model, training.batch_loss, training.optimizer
        if not inputs:
            return False
        try:
            self.example = Example(model, inputs[0])
        except NotLoopable:
            return False
        self.head = Compiled(self._batch_loss, 0, False, (1,), 8, opens_level=False)  # jit, at eager training's level
        optimizer.zero_grad()
        batch_loss([model(x) for x in inputs], targets).backward()
        eager = [p.grad for p in optimizer.params]
        try:
            self._looped_step(inputs, targets, optimizer)
        except NotLoopable:
            return False
        looped = [p.grad for p in optimizer.params]
        return all(a == b or (a != a and b != b) for a, b in zip(eager, looped))

    def _looped_step(self, inputs: list[Any], targets: list[Any], optimizer: Optimizer) -> tuple[float, list[Any]]:
        example, head = self.example, self.head
        assert example is not None and head is not None
        optimizer.zero_grad()
        shared = example.shared(tuple(p.data for p in example.params))
        scores, saved = example.forward(inputs, shared)
        outputs = [[s] for s in scores] if example.listed else scores
        loss, slopes = head(outputs, targets)  # adds the L2 penalty's terms into .grad
        example.backward(shared, saved, [s for (s,) in slopes] if example.listed else slopes)
        return loss, outputs

    def _whole_step(self, training: Training, inputs: list[Any], targets: list[Any]) -> tuple[float, list[Any]]:
        if self.compiled is None:

            def whole(batch: list[Any], wanted: Any) -> tuple[Value, list[Any]]:
                current = self.training  # not the first fit's: the step holds no model between steps
                assert current is not None
                outputs = [current.model(x) for x in batch]
                return current.batch_loss(outputs, wanted), outputs

            self.compiled = Compiled(whole, (), True, (1,), 8, opens_level=False)
        training.optimizer.zero_grad()
        (loss, outputs), _ = self.compiled(inputs, targets)  # adds the gradients into .grad
        return loss, outputs
