"""``fit``: the training loop, with a progress bar, validation, early stopping and a history.

One step is: forward every sample of the batch, the loss (plus an optional L2 penalty),
``zero_grad``, ``backward``, ``optimizer.step()``. That is exactly micrograd's demo loop, so
``fit(model, X, y, loss='hinge', l2=1e-4, optimizer=SGD(..., schedule=linear_schedule(1.0, 0.1, 100)),
steps=100)`` reproduces it.
"""

from __future__ import annotations

import math
import random
from typing import Any, Callable, Mapping, NamedTuple, Sequence, Union

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
    settings = _checked_settings(
        model, X, y, loss, accuracy, steps, epochs, batch_size, l2, validation, validate_every, patience, progress, seed
    )
    params = model.parameters()
    if optimizer is None:
        optimizer = SGD(params, lr=0.1)
    training = Training(model, settings.loss_fn, settings.accuracy_fn, params, settings.l2, optimizer)
    # compile is checked only now, as it always was: a model without parameters hears that first (from SGD)
    gradients = _compiled_gradients(training) if checks.flag(compile, "compile", "fit") else eager_gradients
    history = History()
    stopping = _EarlyStopping(settings.patience)
    _run_steps(training, gradients, X, y, settings, history, stopping)
    _finish_history(history, stopping, training, X, y, getattr(gradients, "outputs", None))
    return history


class _FitSettings(NamedTuple):
    """``fit``'s arguments once checked: what the step loop needs, in one argument."""

    loss_fn: LossFn
    accuracy_fn: Accuracy | None
    batch_size: int | None
    total_steps: int
    l2: float
    progress: bool
    seed: int
    validation: tuple[Sequence[Any], Sequence[Any]] | None
    validate_every: int
    patience: int | None


def _checked_settings(
    model: object,
    X: Sequence[Any],
    y: Sequence[Any],
    loss: Union[str, LossFn],
    accuracy: Union[str, Accuracy, None],
    steps: int | None,
    epochs: int | None,
    batch_size: int | None,
    l2: float,
    validation: tuple[Sequence[Any], Sequence[Any]] | None,
    validate_every: int,
    patience: int | None,
    progress: bool,
    seed: int,
) -> _FitSettings:
    """Refuse a bad call before anything trains, in a fixed order (the first mistake is the one named)."""
    if not isinstance(model, Module):
        raise TypeError(f"fit: model must be an nn.Module, got {type(model).__name__}")
    _check_training_set(X, y)
    loss_fn, loss_name = _resolve_loss(loss)
    accuracy_fn = _accuracy_for(accuracy, loss_name)
    batch_size, total_steps = _step_count(steps, epochs, batch_size, len(X))
    l2 = checks.nonnegative(l2, "l2", "fit")
    progress = checks.flag(progress, "progress", "fit")
    seed = checks.integer(seed, "seed", "fit")
    _check_validation_set(validation)
    validate_every = _positive_int(validate_every, "validate_every")
    if patience is not None:
        patience = _positive_int(patience, "patience")
    return _FitSettings(
        loss_fn, accuracy_fn, batch_size, total_steps, l2, progress, seed, validation, validate_every, patience
    )


def _check_training_set(X: object, y: object) -> None:
    """The training data must be trainable (``check_data``) and not empty."""
    if not check_data(X, y):
        raise ValueError("fit: the training set is empty")


def _check_validation_set(validation: object) -> None:
    """A validation set, if given, must be a pair of trainable data and not empty."""
    if validation is None:
        return
    if not (isinstance(validation, (tuple, list)) and len(validation) == 2):
        raise ValueError("fit: validation must be a pair (X_val, y_val) of equal length")
    if not check_data(validation[0], validation[1], names=("X_val", "y_val")):
        raise ValueError("fit: the validation set is empty")


def _accuracy_for(accuracy: object, loss_name: str | None) -> Accuracy | None:
    """The accuracy measure: ``'auto'`` picks the one that fits a named loss (none for a loss function)."""
    if accuracy == "auto":
        return ACCURACY_FOR_LOSS.get(loss_name) if loss_name else None
    if accuracy is None or callable(accuracy):
        return accuracy
    raise ValueError(f"fit: accuracy must be 'auto', None or a function, got {accuracy!r}")


def _step_count(steps: object, epochs: object, batch_size: object, n: int) -> tuple[int | None, int]:
    """The checked batch size and the number of optimizer steps: ``steps``, or ``epochs`` passes over
    ``n`` examples (one step per pass without a batch size), 100 steps if neither is given."""
    if batch_size is not None:
        batch_size = _positive_int(batch_size, "batch_size")
    if steps is not None and epochs is not None:
        raise ValueError("fit: give steps or epochs, not both")
    if epochs is not None:
        per_epoch = 1 if batch_size is None else math.ceil(n / batch_size)
        return batch_size, _positive_int(epochs, "epochs") * per_epoch
    return batch_size, _positive_int(100 if steps is None else steps, "steps")


def _run_steps(
    training: Training,
    gradients: Gradients,
    X: Sequence[Any],
    y: Sequence[Any],
    settings: _FitSettings,
    history: History,
    stopping: _EarlyStopping,
) -> None:
    """The step loop under a progress bar: one optimizer step per batch, its numbers into ``history``,
    until the last step or until early stopping runs out of patience."""
    batches = _batches(len(X), settings.batch_size, random.Random(settings.seed))
    snapshot = settings.patience is not None and settings.validation is None
    bar = _progress_bar()(
        range(settings.total_steps), desc="training", unit="step", disable=not settings.progress, leave=True
    )
    try:
        for step in bar:
            indices = next(batches)
            history.lr.append(training.optimizer.current_lr)
            batch = ([X[i] for i in indices], [y[i] for i in indices])
            loss_value, batch_accuracy, before = training.step(gradients, *batch, step, snapshot)
            history.loss.append(loss_value)
            postfix = {"loss": f"{loss_value:.4f}"}
            if batch_accuracy is not None:
                history.accuracy.append(batch_accuracy)
                postfix["acc"] = f"{batch_accuracy:.1%}"
            monitored = _monitored_loss(training, settings, history, step, loss_value, postfix)
            bar.set_postfix(postfix, refresh=False)
            if stopping.out_of_patience(monitored, step, before, training.model):
                history.stopped_early = True
                break
    finally:
        bar.close()


def _monitored_loss(
    training: Training, settings: _FitSettings, history: History, step: int, loss: float, postfix: dict[str, str]
) -> float | None:
    """The loss early stopping watches after this step: on a validation step the validation loss
    (recorded in ``history`` and the bar's ``postfix``), without a validation set the training loss,
    else None."""
    validation = settings.validation
    if validation is None:
        return loss
    if (step + 1) % settings.validate_every != 0:
        return None
    val_loss, val_acc = _evaluate(training.model, validation[0], validation[1], training.loss_fn, training.accuracy_fn)
    history.val_step.append(step)
    history.val_loss.append(val_loss)
    if val_acc is not None:
        history.val_accuracy.append(val_acc)
    postfix["val_loss"] = f"{val_loss:.4f}"
    return val_loss


class _EarlyStopping:
    """With ``patience``: the best monitored loss so far, its step and parameters, and the checks since."""

    def __init__(self, patience: int | None) -> None:
        self.patience = patience
        self.best: tuple[float, int, dict[str, float]] | None = None
        self.checks_since_best = 0

    def out_of_patience(
        self, monitored: float | None, step: int, before: dict[str, float] | None, model: Module
    ) -> bool:
        """Record this check; True once ``patience`` checks in a row brought no better loss.

        ``before`` holds the parameters the loss was measured with (the step has changed them
        since); without it the model's current ones are kept.
        """
        if self.patience is None or monitored is None:
            return False
        if self.best is None or monitored < self.best[0]:
            self.best = (monitored, step, before if before is not None else model.state_dict())
            self.checks_since_best = 0
            return False
        self.checks_since_best += 1
        return self.checks_since_best >= self.patience


def _finish_history(
    history: History,
    stopping: _EarlyStopping,
    training: Training,
    X: Sequence[Any],
    y: Sequence[Any],
    compiled_outputs: Callable[[Sequence[Any]], list[Any] | None] | None = None,
) -> None:
    """After the loop: back to the best parameters if training stopped early, then the final loss
    (with the L2 penalty, as trained) and accuracy over the whole training set, from the compiled
    forward pass where there is one (``compiled_outputs``; the same numbers as the eager model's)."""
    best = stopping.best
    if history.stopped_early and best is not None:
        training.model.load_state_dict(best[2])
        history.best_step = best[1]
    outputs = compiled_outputs(X) if compiled_outputs is not None else None
    history.final_loss, history.final_accuracy = _evaluate(
        training.model, X, y, training.loss_fn, training.accuracy_fn, outputs
    )
    if training.l2:
        with no_grad():
            history.final_loss += losses_module.l2(training.params, training.l2).data


def _compiled_gradients(training: Training) -> Gradients:
    from .compiled import for_training  # the compiler loads only when asked for

    return for_training(training)


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
    model: Module,
    X: Sequence[Any],
    y: Sequence[Any],
    loss_fn: LossFn,
    accuracy_fn: Accuracy | None,
    outputs: list[Any] | None = None,
) -> tuple[float, float | None]:
    """The loss and accuracy of ``model`` on ``X``, ``y`` (``outputs``: the model's outputs, if known)."""
    with no_grad():
        if outputs is None:
            outputs = [model(x) for x in X]
        value = loss_value(loss_fn, outputs, y).data
    return value, (accuracy_fn(outputs, y) if accuracy_fn is not None else None)
