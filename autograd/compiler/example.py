"""One example's code looped over a batch: the compiled step of ``fit(compile=True)`` (``nn.compiled``).

``jit`` compiles a function of the whole batch; when every example runs the same graph against
the same parameters, ``Example`` compiles one example's forward and backward pass instead and
loops them (``seeded``), with the engine's additions in the engine's order.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Iterable, Sequence

from ..core import Value
from ..core.value import traced_input
from .codegen import generate
from .compiled import _flatten, _rebuild
from .seeded import NotLoopable, zero_safe
from .tape import make_tape
from .tracing import recording

__all__ = ["Example", "NotLoopable"]


class Example:
    """``f(example)`` for one example of a batch, compiled once and looped over the batch.

    The whole-batch trace writes every example out, and its code grows with the batch (800 KB
    for 100 moons points), past what the CPU's caches hold; this is one example's code
    (``seeded``), about 60 times smaller, in a loop. ``shared(numbers)`` turns the numbers of
    ``params`` (the Values ``f`` closes over) into what a batch's passes take;
    ``forward(batch, shared)`` gives ``f``'s value on each example (and what the backward pass
    reads); ``backward(shared, saved, seeds)``, given the loss's gradient with respect to each
    value, adds the examples' terms into the parameters' ``.grad``. Raises ``NotLoopable`` for
    what this form cannot express (guards, a parameter used twice in one example, a result
    that is not one Value).
    """

    def __init__(self, f: Callable[[Any], Any], example: Any) -> None:
        started = time.perf_counter()
        flat: list[float] = []
        self.shape = _flatten(example, "0", flat)
        #: An example given as a flat list of this many numbers (the common case), else None.
        self.width = len(self.shape) if self.shape and self.shape.count(None) == len(self.shape) else None
        leaves = [traced_input(x) for x in flat]
        numbers = set(map(id, leaves))  # ``f`` runs eagerly on the example's floats: every input is a number
        with recording(numbers) as record:
            output = f(_rebuild(self.shape, iter(leaves)))
        self.listed = isinstance(output, (list, tuple)) and len(output) == 1  # a layer's list of one output
        if self.listed:
            output = output[0]
        if output.__class__ is not Value:
            raise NotLoopable("the function does not return one Value")
        tape = make_tape(output, [], leaves, [], record, {}, numbers)
        generated = generate(tape, seeded=True)
        self.zero_safe = zero_safe(tape)  # an example with a zero seed may be skipped (``seeded``)
        self.source = generated.source
        namespace = dict(generated.globals)
        exec(compile(generated.source, "<valuegrad.jit example>", "exec"), namespace)  # our own text
        self.shared: Callable[[tuple[float, ...]], tuple[Any, ...]] = namespace["shared"]
        self._forward: Callable[[Sequence[Any], tuple[Any, ...]], tuple[list[float], list[Any]]] = namespace["forward"]
        self._backward: Callable[..., tuple[float, ...]] = namespace["backward"]
        self.params = generated.captured
        self.seconds = time.perf_counter() - started

    def forward(self, batch: Sequence[Any], shared: tuple[Any, ...]) -> tuple[list[float], list[Any]]:
        """``f`` on each example of ``batch``: the values, and what ``backward`` needs of each example."""
        return self._forward(self._numbers(batch), shared)

    def backward(self, shared: tuple[Any, ...], saved: list[Any], seeds: Sequence[float]) -> None:
        """Add the batch's terms into the parameters' ``.grad``; ``seeds``: the loss's gradient with respect
        to each example's value. Each parameter's terms are added onto its ``.grad`` last example first,
        as the engine's sweep meets them (the loss reads the examples first to last).

        The engine sums a leaf's terms from 0.0 and then adds the sum to ``.grad``; here they go
        onto ``.grad`` one by one. The two agree when ``.grad`` holds what the engine's sum would
        hold at this point: 0.0 after ``zero_grad``, plus terms added earlier in the same order
        (``fit`` adds the L2 penalty's first). From ``.grad`` = 1.5, terms 1e308 and -1e308 give 0.0
        here and 1.5 in the engine."""
        grads = tuple(param.grad for param in self.params)
        skip_zeros = self.zero_safe and _finite(param.data for param in self.params) and not _negative_zero(grads)
        grads = self._backward(saved, seeds, shared, grads, skip_zeros)
        for param, grad in zip(self.params, grads):
            param.grad = grad

    def _numbers(self, batch: Sequence[Any]) -> Sequence[Any]:
        """The examples' numbers as ``forward`` takes them: a batch of flat lists of floats as it is."""
        width = self.width
        same_width = width is not None and all(x.__class__ is list and len(x) == width for x in batch)
        if same_width and all(n.__class__ is float for x in batch for n in x):
            return batch
        numbers = []
        for x in batch:
            flat: list[float] = []
            if _flatten(x, "example", flat) != self.shape:
                raise NotLoopable("an example has a different shape from the traced one")
            numbers.append(flat)
        return numbers


def _finite(numbers: Iterable[float]) -> bool:
    """Whether all the numbers are finite (their sum is; a finite sum that overflows says no, safely)."""
    return math.isfinite(sum(numbers))


def _negative_zero(numbers: Sequence[float]) -> bool:
    return 0.0 in numbers and any(x == 0.0 and math.copysign(1.0, x) < 0.0 for x in numbers)
