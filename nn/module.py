"""``Module``: the base class that finds a model's parameters, names them, and scopes its calls.

As in PyTorch, a module defines ``forward`` and is called: ``Module.__call__`` runs ``forward``
inside a fresh scope (as ``autograd.scope(label, key=self)`` would open, only cheaper), so every
node the call makes carries the module's scope (``v.scope``, nested in its parent's) and a
drawing can group nodes module by module without any tag written by hand. ``call_all`` calls
a list of modules on one input (a layer's units) the same way.

A module's public attributes define its structure, in the order they were set:

* a ``Value`` is a parameter (``self.b``), a list of ``Value``s is a row of them (``self.w``);
* a ``Module`` is a child (``self.head``), a list of ``Module``s is a row of children (``self.layers``).

Attributes whose names start with ``_`` are ignored: keep a cached ``Value`` that is not a
parameter under such a name. Paths and labels are given when an attribute is set, so build a
list first and assign it whole (``self.layers = [...]``), as the built-in modules do;
``named_parameters()`` itself always walks the lists as they are now.

Names: ``named_parameters()`` gives dotted names such as ``layers.0.neurons.3.w.1``; each module
knows its dotted ``path`` from the root (``MLP.layers.0.neurons.3``, used in error messages) and
its human ``label`` (``'MLP'``, ``'layer 0'``, ``'neuron 3'``; 0-based like the parameter names),
the label its calls' scope carries. A parameter is marked by ``module_path`` (its owner's path)
and ``label`` (``w0``, ``w1``, ..., ``b``): it is made outside any call, so that is how a
drawing knows it is a parameter and which module owns it. Attaching a module to a parent re-roots
its paths and labels under the parent's (``Net.body.layers.0``).
"""

from __future__ import annotations

import os
from _thread import get_ident
from typing import Any, Callable, Iterator, Mapping, Sequence, Union

from ..autograd import Value, zero_grad
from ..autograd.core import checks
from ..autograd.core.modes import STATE, Scope, owned_state

_new_scope = object.__new__  # Scope's slots are filled here: its constructor's check costs more than the rest
_NOTHING: Any = object()  # the default of __call__'s first argument, so forward() may take none


class Module:
    """Base class for everything in ``nn`` that holds parameters: subclasses define ``forward``."""

    _path: str
    _label: str

    def __init__(self) -> None:
        object.__setattr__(self, "_path", type(self).__name__)
        object.__setattr__(self, "_label", type(self).__name__)

    # ------------------------------------------------------------ structure

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if not name.startswith("_") and _is_member(value):
            self._attach(name, value)

    def _attach(self, name: str, member: Any) -> None:
        """Give ``member`` (set as attribute ``name``) its path, label or parameter tags under this module."""
        path = self.path
        if isinstance(member, Module):
            member._set_path(f"{path}.{name}", name)
        elif isinstance(member, Value):
            _tag_parameter(member, path, name)
        elif isinstance(member[0], Module):
            singular = name[:-1] if len(name) > 1 and name.endswith("s") else name
            for i, item in enumerate(member):
                item._set_path(f"{path}.{name}.{i}", f"{singular} {i}")
        else:
            for i, item in enumerate(member):
                _tag_parameter(item, path, f"{name}{i}")

    @property
    def path(self) -> str:
        """This module's dotted path from the root module, starting with the root's class name."""
        try:
            return self._path
        except AttributeError:  # a subclass that did not call super().__init__()
            Module.__init__(self)
            return self._path

    @property
    def label(self) -> str:
        """This module's human name in its parent (``'layer 0'``, ``'neuron 3'``; the root: its class)."""
        self.path  # noqa: B018 - sets the defaults for a subclass that skipped super().__init__()
        return self._label

    def __setstate__(self, state: dict[str, Any]) -> None:
        """After pickle or deepcopy: restore the attributes, then re-tag the parameters (their owner's
        path lives in a side table keyed by the Value, which a copy does not carry)."""
        self.__dict__.update(state)
        for name, member in self._members():
            self._attach(name, member)

    def _set_path(self, path: str, label: str) -> None:
        """Re-root this module (and everything under it) at ``path``, re-tagging parameters."""
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_label", label)
        for name, member in self._members():
            self._attach(name, member)

    def _members(self) -> Iterator[tuple[str, Any]]:
        """Public attributes that are parameters, submodules, or non-empty lists of either."""
        for name, member in vars(self).items():
            if not name.startswith("_") and _is_member(member):
                yield name, member

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct submodules with their names (``head``; ``layers.0``, ``layers.1``, ...)."""
        for name, member in self._members():
            if isinstance(member, Module):
                yield name, member
            elif not isinstance(member, Value) and isinstance(member[0], Module):
                for i, item in enumerate(member):
                    yield f"{name}.{i}", item

    def children(self) -> Iterator[Module]:
        """Direct submodules, in the order of ``named_children()``."""
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module (named ``prefix``) and every submodule below it, depth first, each once."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            below = [(f"{name}.{child}" if name else child, m) for child, m in module.named_children()]
            stack.extend(reversed(below))

    def modules(self) -> Iterator[Module]:
        """This module and every submodule, in the order of ``named_modules()``."""
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """``(dotted name, parameter)`` pairs in attribute order; a shared parameter appears once."""
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
        """Reset every parameter's gradient, as ``autograd.zero_grad`` does (gradients accumulate)."""
        zero_grad(self.parameters())

    # --------------------------------------------------------------- calling

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, x: Any = _NOTHING, /, *more: Any) -> Any:
        # A fresh scope per call: two calls of one module share the key but are told apart.
        # Opened in place on this thread's State (see _modes), not with scope(): a ContextVar
        # set/reset pair would cost more than the rest of a call, 3,700 calls per moons step.
        state = STATE.get()
        if state.thread != get_ident():
            state = owned_state()
        parent = state.scope
        opened = _new_scope(Scope)
        opened.label, opened.parent, opened.key = self._label, parent, self
        state.scope = opened
        try:
            if more:
                return self.forward(x, *more)
            # One argument without *args: CPython then runs forward without a C-level call.
            return self.forward(x) if x is not _NOTHING else self.forward()
        finally:
            state.scope = parent

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
            try:
                values[name] = checks.real(state[name], f"parameter {name!r}")
            except TypeError as error:
                raise ValueError(str(error)) from None
        for name, p in named.items():
            p.data = values[name]

    @classmethod
    def implied_parameters(cls, config: Mapping[str, Any]) -> int | None:
        """How many parameters ``cls(**config)`` would have, computed from ``config`` alone.

        ``nn.load`` compares it with the file's parameters before building anything, so a
        doctored file cannot make it allocate a huge model. None means unknown (then a file is
        only checked for sizes larger than its parameter count); built-in classes override it.
        """
        return None

    def config(self) -> dict[str, Any]:
        """The constructor arguments that rebuild this module's architecture (for model files)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not describe its architecture, so it cannot be saved as a model file; "
            "define config() and register the class with nn.serialization.register, "
            "or save state_dict() yourself"
        )

    def save(self, path: str | os.PathLike[str], optimizer: Any = None) -> None:
        """Write this model (and ``optimizer``'s state, to resume training) as JSON, atomically.

        ``nn.load`` reads the model back; ``nn.load_checkpoint`` the model and its optimizer.
        The writer is ``nn.serialization.save``, handed over by the ``nn`` package (``set_model_writer``).
        """
        if _model_writer is None:  # only while valuegrad.nn/__init__.py itself is still running
            raise RuntimeError("Module.save: valuegrad.nn has not finished loading; save after `import valuegrad.nn`")
        _model_writer(self, path, optimizer)

    def __repr__(self) -> str:
        try:
            arguments = ", ".join(f"{k}={v!r}" for k, v in self.config().items())
        except NotImplementedError:
            arguments = ""
        return f"{type(self).__name__}({arguments})"


#: What ``Module.save`` calls: ``(model, path, optimizer)``, writing a model file.
ModelWriter = Callable[[Module, Union[str, os.PathLike[str]], Any], None]
_model_writer: ModelWriter | None = None


def set_model_writer(writer: ModelWriter) -> None:
    """Give ``Module.save`` the function that writes model files; ``nn/__init__.py`` does, on import.

    That function is ``serialization.save``, and serialization imports this module (directly, and
    through layers and optim), so this module does not import serialization, not even inside
    ``save``: that would close a circle of imports. The ``nn`` package, which imports both sides,
    connects them instead, with a writer that loads serialization on the first save (so that
    ``import valuegrad.nn`` stays light). Python runs a package's ``__init__`` before any of its
    modules can be imported, so the writer is in place before any model exists.
    """
    global _model_writer
    _model_writer = writer


_module_call = Module.__call__


def call_all(modules: Sequence[Module], x: Any) -> list[Any]:
    """``[m(x) for m in modules]``: the same nodes, scopes and errors, one State lookup for the lot.

    A layer's units make nine in ten module calls of a training step; calling their
    ``forward`` here saves each unit the call through ``__call__`` (4 % of a moons step,
    median of 40 paired blocks). ``test_call_all_equals_calling_each_module`` holds the two together.
    A module whose class overrides ``__call__`` is called through it.
    """
    state = STATE.get()
    if state.thread != get_ident():
        state = owned_state()
    parent = state.scope
    outputs = []
    plain: type = Module  # the last class seen whose __call__ is Module's (checked once per class)
    try:
        for module in modules:
            if module.__class__ is not plain:
                if module.__class__.__call__ is not _module_call:
                    state.scope = parent
                    outputs.append(module(x))
                    continue
                plain = module.__class__
            opened = _new_scope(Scope)
            opened.label, opened.parent, opened.key = module._label, parent, module
            state.scope = opened
            outputs.append(module.forward(x))
    finally:
        state.scope = parent
    return outputs


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
