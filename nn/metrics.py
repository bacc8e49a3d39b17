"""Accuracy measures that match each loss's notion of a correct answer.

Outputs may be ``Value``s, floats, or the lists a model returns; targets are as the losses take them.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

__all__ = ["ACCURACY_FOR_LOSS", "argmax_accuracy", "binary_accuracy", "within_half_accuracy"]

Accuracy = Callable[[Sequence[Any], Sequence[Any]], float]


def _floats(output: Any) -> list[float]:
    if isinstance(output, (list, tuple)):
        return [float(o) for o in output]
    return [float(output)]


def _first(output: Any) -> float:
    if isinstance(output, (list, tuple)):
        output = output[0]
    return output if output.__class__ is float else float(output)


def binary_accuracy(scores: Sequence[Any], labels: Sequence[Any]) -> float:
    """Fraction of samples whose score has the label's sign: score > 0 predicts class 1 (or +1)."""
    correct = sum((_first(s) > 0.0) == (float(y) > 0.0) for s, y in zip(scores, labels))
    return correct / len(scores)


def argmax_accuracy(logits: Sequence[Any], classes: Sequence[Any]) -> float:
    """Fraction of samples whose largest output is at the target class index."""
    correct = 0
    for row, c in zip(logits, classes):
        values = _floats(row)
        correct += values.index(max(values)) == int(c)
    return correct / len(logits)


def within_half_accuracy(outputs: Sequence[Any], targets: Sequence[Any]) -> float:
    """Fraction of samples whose every output is within 0.5 of its target (rounds to it, for 0/1 targets)."""
    correct = 0
    for out, target in zip(outputs, targets):
        wanted = target if isinstance(target, (list, tuple)) else [target]
        correct += all(abs(o - float(t)) < 0.5 for o, t in zip(_floats(out), wanted))
    return correct / len(outputs)


#: The accuracy that goes with each named loss.
ACCURACY_FOR_LOSS: dict[str, Accuracy | None] = {
    "hinge": binary_accuracy,
    "binary_cross_entropy_with_logits": binary_accuracy,
    "bce": binary_accuracy,
    "cross_entropy": argmax_accuracy,
    "mse": within_half_accuracy,
}
