"""How the command line trains each dataset: data, output width, loss and optimizer.

Two-class sets follow micrograd's demo: a linear score, hinge loss plus a 1e-4 L2 penalty,
full-batch SGD with the learning rate falling linearly to a tenth of its start. Multi-class
sets use cross-entropy on logits with Adam.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from ..autograd import Value
from . import data
from .optim import SGD, Adam, Optimizer, linear_schedule

__all__ = ["RECIPES", "Recipe"]


@dataclass(frozen=True)
class Recipe:
    """Everything the CLI needs to know about one dataset."""

    name: str
    make: Callable[..., tuple[list[list[float]], list[Any]]]
    sized: bool  # takes n / noise / seed arguments
    nin: int
    nout: int
    loss: str
    l2: float
    optimizer: str  # 'sgd' or 'adam'
    lr: float
    hidden: tuple[int, ...]
    activation: str = "relu"
    noise: float = 0.1

    @property
    def fixed_size(self) -> int:
        """How many points a fixed dataset (xor, encoder) has."""
        return len(self.make()[0])

    def load(self, samples: int, noise: float | None, seed: int) -> tuple[list[list[float]], list[Any]]:
        if not self.sized:
            return self.make()
        return self.make(n=samples, noise=self.noise if noise is None else noise, seed=seed)

    def make_optimizer(self, params: list[Value], lr: float, steps: int) -> Optimizer:
        if self.optimizer == "adam":
            return Adam(params, lr=lr)
        return SGD(params, lr=lr, schedule=linear_schedule(lr, lr * 0.1, steps))


def _classes(X: Any) -> Any:
    """The encoder's targets as class indices: which of the 8 codes each input is."""
    return [row.index(1.0) for row in X]


def _encoder() -> tuple[list[list[float]], list[int]]:
    X, _ = data.encoder_8_3_8()
    return X, _classes(X)


RECIPES: dict[str, Recipe] = {
    "moons": Recipe("moons", data.moons, True, 2, 1, "hinge", 1e-4, "sgd", 1.0, (16, 16), noise=0.1),
    "circles": Recipe("circles", data.circles, True, 2, 1, "hinge", 1e-4, "sgd", 1.0, (16, 16), noise=0.05),
    "spiral": Recipe("spiral", data.spiral, True, 2, 3, "cross_entropy", 0.0, "adam", 0.05, (16, 16), noise=0.2),
    "xor": Recipe("xor", data.xor, False, 2, 1, "hinge", 0.0, "sgd", 0.5, (4,), activation="tanh"),
    "encoder": Recipe("encoder", _encoder, False, 8, 8, "cross_entropy", 0.0, "adam", 0.1, (3,), activation="tanh"),
}
