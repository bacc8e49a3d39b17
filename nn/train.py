"""``fit``: the training loop, with a progress bar, validation, early stopping and a history.

One step is: forward every sample of the batch, the loss (plus an optional L2 penalty),
``zero_grad``, ``backward``, ``optimizer.step()``. That is exactly micrograd's demo loop, so
``fit(model, X, y, loss='hinge', l2=1e-4, optimizer=SGD(..., schedule=linear_schedule(1.0, 0.1, 100)),
steps=100)`` reproduces it.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, Mapping, Sequence, Union

from ..autograd import Value, no_grad
from ..autograd.core import checks
from . import losses as losses_module
from .metrics import ACCURACY_FOR_LOSS, Accuracy
from .module import Module
from .optim import SGD, Optimizer
from .step import Gradients, LossFn, Training, eager_gradients, loss_value

__all__ = ["History", "check_data", "fit", "predict"]


class History:
    """What happened during ``fit``: one entry per step (validation: one per check).

    (A plain class, not a dataclass: importing dataclasses costs inspect, a third of the import time.)
    """

    def __init__(self) -> None:
        self.loss: list[float] = []
        self.accuracy: list[float] = []
        self.lr: list[float] = []
        self.val_step: list[int] = []
        self.val_loss: list[float] = []
        self.val_accuracy: list[float] = []
        self.stopped_early = False
        self.best_step: int | None = None
        self.final_loss = math.nan
        self.final_accuracy: float | None = None

    def __repr__(self) -> str:
        shown = f"final_loss={self.final_loss:.4g}, final_accuracy={self.final_accuracy}"
        return f"History({self.steps} steps, {shown}, stopped_early={self.stopped_early})"

    @property
    def steps(self) -> int:
        return len(self.loss)


def predict(model: Callable[[Any], Any], X: Sequence[Any]) -> list[Any]:
    """The model's outputs for every row of ``X`` as plain floats (lists stay lists), without a graph."""
    with no_grad():
        outputs = [model(x) for x in X]
    return [[o.data for o in out] if isinstance(out, (list, tuple)) else float(out) for out in outputs]


def _resolve_loss(loss: Union[str, LossFn]) -> tuple[LossFn, str | None]:
    if isinstance(loss, str):
        try:
            return losses_module.LOSSES[loss], loss
        except KeyError:
            raise ValueError(f"unknown loss {loss!r}; choose one of {', '.join(losses_module.LOSSES)}") from None
    if callable(loss):
        return loss, None
    raise TypeError(f"loss must be a loss name or a function (outputs, targets) -> Value, got {type(loss).__name__}")


def _positive_int(x: object, what: str) -> int:
    return checks.integer(x, what, "fit", low=1)


#: The largest input magnitude ``fit`` accepts: its square, and its product with a weight of
#: similar size, must stay finite in a double (1.8e308), or training "diverges" on step one.
MAX_INPUT = 1e150


def check_data(X: object, y: object, where: str = "fit", names: tuple[str, str] = ("X", "y")) -> int:
    """Refuse data a model cannot train on, naming the first offending row; return its length.

    Rows of ``X`` are lists (or tuples) of numbers or Values; targets are numbers or lists of
    them. Every number must be finite and at most ``MAX_INPUT`` in size.
    """
    rows = _sequence(X, names[0], where)
    targets = _sequence(y, names[1], where)
    if len(rows) != len(targets):
        raise ValueError(f"{where}: {len(rows)} inputs but {len(targets)} targets; they must match")
    for i, row in enumerate(rows):
        for j, item in enumerate(_sequence(row, f"{names[0]}[{i}]", where)):
            _data_number(item.data if isinstance(item, Value) else item, f"{names[0]}[{i}][{j}]", where)
        target = targets[i]
        if isinstance(target, (list, tuple)):
            for j, item in enumerate(target):
                _data_number(item, f"{names[1]}[{i}][{j}]", where)
        else:
            _data_number(target, f"{names[1]}[{i}]", where)
    return len(rows)


def _sequence(x: object, name: str, where: str) -> Sequence[Any]:
    if isinstance(x, (Mapping, str, bytes)) or not isinstance(x, Sequence):
        raise TypeError(f"{where}: {name} must be a list (or tuple), got {checks.describe(x)}")
    return x


def _data_number(x: object, name: str, where: str) -> None:
    value = checks.real(x, name, where, finite=False)
    if not math.isfinite(value):
        raise ValueError(f"{where}: {name} is {value}; training data must be finite numbers (fix or drop that row)")
    if abs(value) > MAX_INPUT:
        raise ValueError(
            f"{where}: {name} is {value:.3g}, beyond {MAX_INPUT:g}: its square would overflow; rescale the data"
        )


def _batches(n: int, batch_size: int | None, rng: random.Random) -> Any:
    """Endless index batches: the whole set each step, or shuffled mini-batches epoch after epoch."""
    everything = list(range(n))
    if batch_size is None or batch_size >= n:
        while True:
            yield everything
    while True:
        order = everything[:]
        rng.shuffle(order)
        for start in range(0, n, batch_size):
            yield order[start : start + batch_size]


def fit(
    model: Module,
    X: Sequence[Any],
    y: Sequence[Any],
    loss: Union[str, LossFn] = "mse",
    optimizer: Optimizer | None = None,
    steps: int | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    l2: float = 0.0,
    validation: tuple[Sequence[Any], Sequence[Any]] | None = None,
    validate_every: int = 1,
    patience: int | None = None,
    accuracy: Union[str, Accuracy, None] = "auto",
    progress: bool = True,
    seed: int = 0,
    compile: bool = False,
) -> History:
    """Train ``model`` on inputs ``X`` and targets ``y``; return the ``History``.

    * ``loss``: a name (``'mse'``, ``'hinge'``, ``'binary_cross_entropy_with_logits'``,
      ``'cross_entropy'``) or a function ``(outputs, targets) -> Value``.
    * ``optimizer``: defaults to ``SGD(model.parameters(), lr=0.1)``.
    * ``steps`` optimizer steps, or ``epochs`` passes over the data (default: 100 steps);
      ``batch_size`` None means the whole set every step (micrograd's demo), else shuffled
      mini-batches (seeded by ``seed``).
    * ``l2``: adds ``l2 * Σ p²`` over the model's parameters to the loss.
    * ``validation=(X_val, y_val)`` is evaluated every ``validate_every`` steps; with
      ``patience``, training stops after that many checks without a better validation loss
      (training loss if there is no validation set) and the best parameters are restored.
    * ``accuracy``: ``'auto'`` picks the measure that fits a named loss; a function
      ``(outputs, targets) -> float``; or None.
    * ``progress``: a tqdm bar (a widget in Jupyter, text in a terminal); False for none.
    * ``compile``: train through compiled straight-line code (``nn.compiled``): the same losses,
      several times faster per step after a first step that traces and compiles.

    A loss that becomes nan or inf raises ``FloatingPointError`` naming the step: lower the rate.
    """
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be an nn.Module, got {type(model).__name__}")
    if not check_data(X, y):
        raise ValueError("fit: the training set is empty")
    loss_fn, loss_name = _resolve_loss(loss)
    if accuracy == "auto":
        accuracy_fn = ACCURACY_FOR_LOSS.get(loss_name) if loss_name else None
    elif accuracy is None or callable(accuracy):
        accuracy_fn = accuracy
    else:
        raise ValueError(f"fit: accuracy must be 'auto', None or a function, got {accuracy!r}")
    if batch_size is not None:
        batch_size = _positive_int(batch_size, "batch_size")
    if steps is not None and epochs is not None:
        raise ValueError("fit: give steps or epochs, not both")
    if epochs is not None:
        per_epoch = 1 if batch_size is None else math.ceil(len(X) / batch_size)
        total_steps = _positive_int(epochs, "epochs") * per_epoch
    else:
        total_steps = _positive_int(100 if steps is None else steps, "steps")
    l2 = checks.nonnegative(l2, "l2", "fit")
    progress = checks.flag(progress, "progress", "fit")
    seed = checks.integer(seed, "seed", "fit")
    if validation is not None:
        if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
            raise ValueError("fit: validation must be a pair (X_val, y_val) of equal length")
        if not check_data(validation[0], validation[1], names=("X_val", "y_val")):
            raise ValueError("fit: the validation set is empty")
    validate_every = _positive_int(validate_every, "validate_every")
    if patience is not None:
        patience = _positive_int(patience, "patience")

    params = model.parameters()
    if optimizer is None:
        optimizer = SGD(params, lr=0.1)
    history = History()
    batches = _batches(len(X), batch_size, random.Random(seed))
    best: tuple[float, int, dict[str, float]] | None = None
    checks_since_best = 0

    training = Training(model, loss_fn, accuracy_fn, params, l2, optimizer)
    gradients = _compiled_gradients() if checks.flag(compile, "compile", "fit") else eager_gradients
    bar = _progress_bar()(range(total_steps), desc="training", unit="step", disable=not progress, leave=True)
    try:
        for step in bar:
            indices = next(batches)
            snapshot = patience is not None and validation is None
            history.lr.append(optimizer.current_lr)
            batch = ([X[i] for i in indices], [y[i] for i in indices])
            loss_value, batch_accuracy, before = training.step(gradients, *batch, step, snapshot)
            history.loss.append(loss_value)
            postfix = {"loss": f"{loss_value:.4f}"}
            if batch_accuracy is not None:
                history.accuracy.append(batch_accuracy)
                postfix["acc"] = f"{batch_accuracy:.1%}"

            monitored: float | None = None
            if validation is not None and (step + 1) % validate_every == 0:
                val_loss, val_acc = _evaluate(model, validation[0], validation[1], loss_fn, accuracy_fn)
                history.val_step.append(step)
                history.val_loss.append(val_loss)
                if val_acc is not None:
                    history.val_accuracy.append(val_acc)
                postfix["val_loss"] = f"{val_loss:.4f}"
                monitored = val_loss
            elif validation is None:
                monitored = loss_value
            bar.set_postfix(postfix, refresh=False)

            if patience is not None and monitored is not None:
                if best is None or monitored < best[0]:
                    best = (monitored, step, before if before is not None else model.state_dict())
                    checks_since_best = 0
                else:
                    checks_since_best += 1
                    if checks_since_best >= patience:
                        history.stopped_early = True
                        break
    finally:
        bar.close()

    if history.stopped_early and best is not None:
        model.load_state_dict(best[2])
        history.best_step = best[1]
    history.final_loss, history.final_accuracy = _evaluate(model, X, y, loss_fn, accuracy_fn)
    if l2:
        with no_grad():
            history.final_loss += losses_module.l2(params, l2).data
    return history


def _compiled_gradients() -> Gradients:
    from .compiled import CompiledGradients  # the compiler loads only when asked for

    return CompiledGradients()


def _progress_bar() -> Any:
    """tqdm's notebook widget when it can work (Jupyter with ipywidgets), else its text bar.

    ``tqdm.auto`` alone would warn "IProgress not found" in a notebook without ipywidgets
    before falling back; the text bar shows fine there, so go to it directly.
    """
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        from tqdm import tqdm as text_bar

        return text_bar
    from tqdm.auto import tqdm as auto_bar

    return auto_bar


def _evaluate(
    model: Module, X: Sequence[Any], y: Sequence[Any], loss_fn: LossFn, accuracy_fn: Accuracy | None
) -> tuple[float, float | None]:
    with no_grad():
        outputs = [model(x) for x in X]
        value = loss_value(loss_fn, outputs, y).data
    return value, (accuracy_fn(outputs, y) if accuracy_fn is not None else None)
