"""``Module``: the base class that finds a model's parameters, names them, and tags them for drawing.

A module's public attributes define its structure, in the order they were set:

* a ``Value`` is a parameter (``self.b``), a list of ``Value``s is a row of them (``self.w``);
* a ``Module`` is a child (``self.head``), a list of ``Module``s is a row of children (``self.layers``).

Attributes whose names start with ``_`` are ignored: keep a cached ``Value`` that is not a
parameter under such a name. Paths and labels are given when an attribute is set, so build a
list first and assign it whole (``self.layers = [...]``), as the built-in modules do;
``named_parameters()`` itself always walks the lists as they are now.

From that, ``named_parameters()`` gives dotted names such as ``layers.0.neurons.3.w.1`` in a
stable order, and every module knows its dotted *path* from the root (``MLP.layers.0.neurons.3``).
Parameters are tagged with ``module_path`` (their owner's path) and ``label`` (``w0``, ``w1``, ...,
``b``); modules tag the values their forward pass creates with their path, so a drawing can
cluster nodes neuron by neuron and layer by layer. Attaching a module to a parent re-roots its
paths under the parent's (``Net.body.layers.0``).
"""

from __future__ import annotations

import math
import os
from typing import Any, Iterator, Mapping

from valuegrad.autograd import Value


class Module:
    """Base class for everything in ``nn`` that holds parameters.

    Subclasses set their parameters and submodules as attributes and define ``forward``
    (or ``__call__`` directly, as the built-in modules do, to save a call per sample).
    """

    _path: str

    def __init__(self) -> None:
        object.__setattr__(self, "_path", type(self).__name__)

    # ------------------------------------------------------------ structure

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if name.startswith("_"):
            return
        path = self.path
        if isinstance(value, Module):
            value._set_path(f"{path}.{name}")
        elif isinstance(value, Value):
            _tag_parameter(value, path, name)
        elif isinstance(value, (list, tuple)) and value:
            if all(isinstance(item, Module) for item in value):
                for i, item in enumerate(value):
                    item._set_path(f"{path}.{name}.{i}")
            elif all(isinstance(item, Value) for item in value):
                for i, item in enumerate(value):
                    _tag_parameter(item, path, f"{name}{i}")

    @property
    def path(self) -> str:
        """This module's dotted path from the root module, starting with the root's class name."""
        try:
            return self._path
        except AttributeError:  # a subclass that did not call super().__init__()
            object.__setattr__(self, "_path", type(self).__name__)
            return self._path

    def _set_path(self, path: str) -> None:
        """Re-root this module (and everything under it) at ``path``, re-tagging parameters."""
        object.__setattr__(self, "_path", path)
        for name, member in self._members():
            if isinstance(member, Module):
                member._set_path(f"{path}.{name}")
            elif isinstance(member, Value):
                _tag_parameter(member, path, name)
            elif all(isinstance(item, Module) for item in member):
                for i, item in enumerate(member):
                    item._set_path(f"{path}.{name}.{i}")
            else:
                for i, item in enumerate(member):
                    _tag_parameter(item, path, f"{name}{i}")

    def _members(self) -> Iterator[tuple[str, Any]]:
        """Public attributes that are parameters, submodules, or non-empty lists of either."""
        for name, member in vars(self).items():
            if name.startswith("_"):
                continue
            if _is_member(member):
                yield name, member

    def children(self) -> Iterator[tuple[str, Module]]:
        """Direct submodules with their attribute names (``layers.0``, ``layers.1``, ...)."""
        for name, member in self._members():
            if isinstance(member, Module):
                yield name, member
            elif not isinstance(member, Value) and isinstance(member[0], Module):
                for i, item in enumerate(member):
                    yield f"{name}.{i}", item

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """``(dotted name, parameter)`` pairs in a stable order; a shared parameter appears once."""
        seen: set[int] = set()
        for name, p in self._named_parameters(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _named_parameters(self, prefix: str) -> Iterator[tuple[str, Value]]:
        for name, member in self._members():
            full = f"{prefix}{name}"
            if isinstance(member, Value):
                yield full, member
            elif isinstance(member, Module):
                yield from member._named_parameters(f"{full}.")
            else:
                for i, item in enumerate(member):
                    if isinstance(item, Value):
                        yield f"{full}.{i}", item
                    else:
                        yield from item._named_parameters(f"{full}.{i}.")

    def parameters(self) -> list[Value]:
        """Every parameter once, in the order of ``named_parameters()``."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """How many scalar parameters the model has (``MLP(2, [16, 16, 1])`` has 337)."""
        return len(self.parameters())

    def zero_grad(self) -> None:
        """Set every parameter's ``.grad`` to 0 (gradients accumulate across ``backward()`` calls)."""
        for p in self.parameters():
            p.grad = 0.0

    # --------------------------------------------------------------- calling

    def forward(self, *args: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward() (or __call__)")

    def __call__(self, *args: Any) -> Any:
        return self.forward(*args)

    # ---------------------------------------------------------------- state

    def state_dict(self) -> dict[str, float]:
        """Parameter values by dotted name, as plain floats (what a model file stores)."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Copy values from ``state`` into the parameters, checking it fits this model exactly.

        Raises ``ValueError`` (changing nothing) if names are missing or unexpected, or a value
        is not a finite real number.
        """
        if not isinstance(state, Mapping):
            raise ValueError(f"load_state_dict takes a mapping of name -> number, got {type(state).__name__}")
        named = dict(self.named_parameters())
        missing = [n for n in named if n not in state]
        unexpected = [n for n in state if n not in named]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {len(missing)} parameter(s) ({_some(missing)})")
            if unexpected:
                parts.append(f"{len(unexpected)} unexpected parameter(s) ({_some(unexpected)})")
            raise ValueError(
                f"state does not fit this {type(self).__name__} with {len(named)} parameters: " + "; ".join(parts)
            )
        values: dict[str, float] = {}
        for name in named:
            raw = state[name]
            if isinstance(raw, bool) or not isinstance(raw, (int, float)):
                raise ValueError(f"parameter {name!r} must be a number, got {type(raw).__name__} {raw!r}")
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(f"parameter {name!r} is {value}; a model file must hold finite numbers only")
            values[name] = value
        for name, p in named.items():
            p.data = values[name]

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module's architecture (for model files)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not describe its architecture, so it cannot be saved as a model file; "
            "define config() and register the class with nn.serialization.register, "
            "or save state_dict() yourself"
        )

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write this model (architecture and parameters) as JSON, atomically; ``nn.load`` reads it back."""
        from valuegrad.nn.serialization import save

        save(self, path)

    def __repr__(self) -> str:
        try:
            arguments = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        except NotImplementedError:
            arguments = ""
        return f"{type(self).__name__}({arguments})"


def _is_member(x: object) -> bool:
    """A parameter, a submodule, or a non-empty row that is all parameters or all submodules."""
    if isinstance(x, (Module, Value)):
        return True
    if not isinstance(x, (list, tuple)) or not x:
        return False
    return all(isinstance(item, Module) for item in x) or all(isinstance(item, Value) for item in x)


def _tag_parameter(p: Value, path: str, label: str) -> None:
    p.module_path = path
    p.label = label


def _some(names: list[str], limit: int = 3) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (", ..." if len(names) > limit else "")
