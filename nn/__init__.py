"""Neural networks built from ``autograd`` scalars: modules, losses, optimizers, data, training.

>>> import valuegrad.nn as nn
>>> model = nn.MLP(2, [16, 16, 1], rng=0)
>>> len(model.parameters())
337
>>> X, y = nn.data.moons(100, seed=0)
>>> len(model(X[0]))
1
"""

import os
from typing import TYPE_CHECKING, Any

from . import activations, init
from .layers import MLP, RBF, Layer, Maxout, Neuron
from .module import Module, set_model_writer

if TYPE_CHECKING:
    from . import data, losses, metrics, optim
    from .serialization import load, load_checkpoint, register
    from .train import History, fit, predict

# Everything but the modules themselves loads on first use (PEP 562), so `import valuegrad.nn`
# costs what building a model needs; `nn.fit`, `nn.optim`, `nn.load`, ... import their module then.
_LAZY_MODULES = ("data", "losses", "metrics", "optim")
_LAZY_NAMES = {
    "History": "train",
    "fit": "train",
    "predict": "train",
    "load": "serialization",
    "load_checkpoint": "serialization",
    "register": "serialization",
}


def _save_model(model: Module, path: str | os.PathLike[str], optimizer: Any = None) -> None:
    """``Module.save``'s writer: serialization imports module, so the package connects the two."""
    from .serialization import save  # loaded on the first save, like nn.load

    save(model, path, optimizer)


set_model_writer(_save_model)


def __getattr__(name: str) -> Any:
    import importlib

    if name in _LAZY_MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'valuegrad.nn' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY_MODULES, *_LAZY_NAMES])


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
