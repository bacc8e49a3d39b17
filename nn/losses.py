"""Loss functions over a batch: each takes the model's outputs for every sample and the targets.

An output may be a ``Value`` or the list a model returns (``[score]`` for one output). Every loss
returns one ``Value``, the mean over the batch (``reduction='sum'`` for the sum). The per-sample
terms are combined by ONE n-ary node, so the graph stays as small as the maths.

* ``mse``: mean squared error (vector outputs: summed over components, averaged over samples).
* ``binary_cross_entropy_with_logits``: −log σ((2y−1)z) for labels y ∈ {0, 1}, written as
  softplus((1−2y)z) so it never overflows; soft labels y ∈ [0, 1] use softplus(z) − yz.
* ``cross_entropy``: −log softmax(z)_c = logsumexp(z) − z_c, from raw logits and class indices.
* ``hinge``: max(0, 1 − y·s), the SVM margin loss of micrograd's demo; labels ±1 (or 0/1).
* ``l2``: α Σ p², the weight-decay penalty to add to a loss.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence, Union

from ..autograd import Value, dot, logsumexp
from ..autograd.core import checks

__all__ = ["LOSSES", "binary_cross_entropy_with_logits", "cross_entropy", "hinge", "l2", "mse"]

Output = Union[Value, float, Sequence[Union[Value, float]]]


def _number(x: object, what: str) -> float:
    """A target, label or setting: a finite int or float (the shared check)."""
    return checks.real(x, what)


def _as_value(x: object, what: str) -> Value:
    if x.__class__ is Value:
        return x  # type: ignore[return-value]
    return Value(checks.real(x, what, finite=False))  # an output may overflow; the loss then shows it


def _score(output: Any, i: int, loss: str) -> Value:
    """The single score of sample ``i``: a Value, a number, or a one-element list of either."""
    if output.__class__ is Value:  # the usual case, before any message is formatted
        return output  # type: ignore[no-any-return]
    if isinstance(output, (list, tuple)):
        if len(output) != 1:
            raise ValueError(
                f"{loss}: sample {i} has {len(output)} outputs, but this loss takes one score per sample "
                "(make the model's last layer 1 wide)"
            )
        output = output[0]
    return _as_value(output, f"{loss}: output of sample {i}")


def _row(output: Any, i: int, loss: str) -> list[Value]:
    if isinstance(output, (Value, numbers.Real)):
        return [_as_value(output, f"{loss}: output of sample {i}")]
    if not isinstance(output, (list, tuple)) or not output:
        raise TypeError(f"{loss}: output of sample {i} must be a Value or a non-empty list of Values")
    return [_as_value(o, f"{loss}: output {i}[{j}]") for j, o in enumerate(output)]


def _pair(outputs: Sequence[Any], targets: Sequence[Any], loss: str) -> int:
    try:
        n, m = len(outputs), len(targets)
    except TypeError:
        raise TypeError(f"{loss}: outputs and targets must be lists (one entry per sample)") from None
    if n != m:
        raise ValueError(f"{loss}: {n} outputs but {m} targets; they must match")
    if n == 0:
        raise ValueError(f"{loss}: the batch is empty; pass at least one sample")
    return n


def _weight(reduction: str, n: int, loss: str) -> float:
    """Each of ``n`` samples' weight in the batch loss: 1/n for the mean, 1 for the sum."""
    if reduction == "mean":
        return 1.0 / n
    if reduction == "sum":
        return 1.0
    raise ValueError(f"{loss}: reduction must be 'mean' or 'sum', got {reduction!r}")


def _reduce(terms: list[Value], reduction: str, loss: str) -> Value:
    """Mean or sum of the per-sample terms as ONE node."""
    weight = _weight(reduction, len(terms), loss)
    return dot(terms, [weight] * len(terms))


def _label_sign(y: object, i: int, loss: str) -> float:
    if (y.__class__ is float or y.__class__ is int) and y in (1.0, -1.0, 0.0):  # before formatting a message
        return 1.0 if y > 0.0 else -1.0  # type: ignore[operator]
    label = _number(y, f"{loss}: label of sample {i}")
    if label in (1.0, -1.0, 0.0):
        return 1.0 if label > 0.0 else -1.0
    raise ValueError(f"{loss}: label of sample {i} is {label!r}; labels must be +1/-1 (or 1/0)")


def mse(outputs: Sequence[Output], targets: Sequence[Any], reduction: str = "mean") -> Value:
    """Squared error Σ_j (o_j − t_j)², averaged over samples; targets are numbers or lists of numbers."""
    n = _pair(outputs, targets, "mse")
    differences: list[Value] = []
    for i in range(n):
        row = _row(outputs[i], i, "mse")
        target = targets[i]
        wanted = [target] if isinstance(target, numbers.Real) else target
        if not isinstance(wanted, (list, tuple)) or len(wanted) != len(row):
            width = len(wanted) if isinstance(wanted, (list, tuple)) else type(wanted).__name__
            raise ValueError(f"mse: sample {i} has {len(row)} outputs but its target has {width}")
        differences += [o - _number(t, f"mse: target {i}") for o, t in zip(row, wanted)]
    # Σ over samples of Σ_j d², weighted as _reduce weights each sample: one dot node, scaled.
    weight = _weight(reduction, n, "mse")
    total = dot(differences, differences)
    return total if weight == 1.0 else total * weight


def binary_cross_entropy_with_logits(
    logits: Sequence[Output], targets: Sequence[Any], reduction: str = "mean"
) -> Value:
    """−log σ((2y−1)z) per sample: logits z (one per sample), labels y in {0, 1} or soft in [0, 1]."""
    name = "binary_cross_entropy_with_logits"
    n = _pair(logits, targets, name)
    terms = []
    for i in range(n):
        z = _score(logits[i], i, name)
        y = _number(targets[i], f"{name}: target of sample {i}")
        if y == 0.0 or y == 1.0:
            terms.append((z * (1.0 - 2.0 * y)).softplus())
        elif 0.0 < y < 1.0:
            terms.append(z.softplus() - z * y)
        else:
            raise ValueError(f"{name}: target of sample {i} is {y!r}; targets must lie in [0, 1]")
    return _reduce(terms, reduction, name)


def cross_entropy(logits: Sequence[Output], classes: Sequence[Any], reduction: str = "mean") -> Value:
    """−log softmax(z)_c = logsumexp(z) − z_c: raw logits per sample, class indices 0..k−1."""
    n = _pair(logits, classes, "cross_entropy")
    terms = []
    for i in range(n):
        row = _row(logits[i], i, "cross_entropy")
        c = classes[i]
        index = int(c) if isinstance(c, numbers.Integral) and not isinstance(c, bool) else -1
        if not 0 <= index < len(row):
            raise ValueError(f"cross_entropy: class of sample {i} is {c!r}; it must be an int from 0 to {len(row) - 1}")
        terms.append(logsumexp(row) - row[index])
    return _reduce(terms, reduction, "cross_entropy")


def hinge(scores: Sequence[Output], labels: Sequence[Any], reduction: str = "mean") -> Value:
    """max(0, 1 − y·s) per sample, labels y = ±1 (0 counts as −1): the SVM max-margin loss."""
    n = _pair(scores, labels, "hinge")
    terms = []
    for i in range(n):
        s = _score(scores[i], i, "hinge")
        terms.append((s * -_label_sign(labels[i], i, "hinge") + 1.0).relu())
    return _reduce(terms, reduction, "hinge")


def l2(parameters: Sequence[Value], alpha: float = 1.0) -> Value:
    """α Σ p²: an L2 penalty on ``parameters`` (e.g. ``model.parameters()``), as one dot node."""
    params = list(parameters)
    for i, p in enumerate(params):
        if not isinstance(p, Value):
            raise TypeError(f"l2: parameter {i} is a {type(p).__name__}, expected a Value")
    alpha = checks.nonnegative(alpha, "alpha", "l2")
    return dot(params, params) * alpha


#: Losses by name, as ``nn.fit`` and the command line accept them.
LOSSES = {
    "mse": mse,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "bce": binary_cross_entropy_with_logits,
    "cross_entropy": cross_entropy,
    "hinge": hinge,
}
