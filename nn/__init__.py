"""Neural networks built from ``autograd`` scalars: modules, losses, optimizers, data, training.

>>> import valuegrad.nn as nn
>>> model = nn.MLP(2, [16, 16, 1], rng=0)
>>> len(model.parameters())
337
>>> X, y = nn.data.moons(100, seed=0)
>>> len(model(X[0]))
1
"""

from typing import TYPE_CHECKING, Any

from valuegrad.nn import activations, data, init, losses, metrics, optim
from valuegrad.nn.layers import MLP, RBF, Layer, Maxout, Neuron
from valuegrad.nn.module import Module
from valuegrad.nn.train import History, fit, predict

if TYPE_CHECKING:
    from valuegrad.nn.serialization import load, load_checkpoint, register


def __getattr__(name: str) -> Any:
    # Model files (json, the atomic writer, tempfile) load on first use: `import valuegrad.nn` stays light.
    if name in ("load", "load_checkpoint", "register"):
        from valuegrad.nn import serialization

        return getattr(serialization, name)
    raise AttributeError(f"module 'valuegrad.nn' has no attribute {name!r}")


__all__ = [
    "MLP",
    "RBF",
    "History",
    "Layer",
    "Maxout",
    "Module",
    "Neuron",
    "activations",
    "data",
    "fit",
    "init",
    "load",
    "load_checkpoint",
    "losses",
    "metrics",
    "optim",
    "predict",
    "register",
]
