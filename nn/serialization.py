"""Model files: JSON holding a format tag, a version, the architecture and every parameter.

::

    {"format": "valuegrad-model", "version": 2,
     "architecture": {"class": "MLP", "config": {"nin": 2, "sizes": [16, 16, 1], ...}},
     "parameters": {"layers.0.neurons.0.w.0": 0.123, ...},
     "optimizer": {"class": "SGD", "state": {...}}}          (only when saved with one)

Version 2 names a layer's unit by its class (``"unit": "Maxout"``) and may carry the optimizer's
state; version 1 files (``"unit": "maxout"``, no optimizer) still load.

``save`` writes atomically (a temporary file, then ``os.replace``), so a crash never leaves a
half-written model. ``load`` rebuilds the model from the file alone and checks everything on
the way, before building anything: the parameter count the architecture implies (a closed form
per class) must equal the file's, so loading takes time in proportion to the file's size. A
truncated, malformed, foreign, over-nested or wrong-shaped file, or one holding nan, inf or a
number too large for a float, raises ``ValueError`` naming the file and what is wrong, and the
file itself is only ever read. A file over ``MAX_FILE_BYTES`` (32 MiB: some 300,000 parameters
with Adam's state, far beyond what a scalar engine trains) is refused by its size, before any
of it is parsed. Optimizer state is held to each optimizer's invariants (``nn.optim``): finite
buffers as long as the parameter list, Adam's ``v`` >= 0, ``steps`` a whole number in
[0, ``nn.optim.MAX_STEPS``]; so whatever loads takes its next training step without an error.
There is no pickle and nothing from the file is ever executed: classes are looked up by name
in a registry of known module types.
"""

from __future__ import annotations

import inspect
import json
import math
import os
from typing import Any, NamedTuple

from ..autograd.core.files import write_text_atomic
from .layers import MLP, RBF, Layer, Maxout, Neuron
from .module import Module
from .optim import Optimizer, optimizer_from_state

__all__ = ["FORMAT", "MAX_FILE_BYTES", "VERSION", "Checkpoint", "load", "load_checkpoint", "register", "save"]

FORMAT = "valuegrad-model"
VERSION = 2
#: Versions ``load`` reads: 1 (before unit classes and optimizer state) and 2.
READABLE_VERSIONS = (1, 2)
#: How deep a config may nest lists and objects (MLP's is 2: its ``sizes`` list).
MAX_CONFIG_DEPTH = 16
#: The largest model file ``load`` reads, in bytes; a larger one is refused before it is parsed.
MAX_FILE_BYTES = 32 * 2**20
#: Version 1 named a layer's unit in lower case.
_VERSION_1_UNITS = {"neuron": "Neuron", "maxout": "Maxout", "rbf": "RBF"}

_REGISTRY: dict[str, type[Module]] = {}


def register(cls: type[Module]) -> type[Module]:
    """Let ``nn.load`` rebuild ``cls`` by name (it must define ``config()``); usable as a decorator."""
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register takes an nn.Module subclass, got {cls!r}")
    _REGISTRY[cls.__name__] = cls
    return cls


for _cls in (Neuron, Maxout, RBF, Layer, MLP):
    register(_cls)


def _registered(cls: type) -> bool:
    return _REGISTRY.get(cls.__name__) is cls


def save(model: Module, path: str | os.PathLike[str], optimizer: Optimizer | None = None) -> None:
    """Write ``model`` (and, to resume training later, ``optimizer``'s state) to ``path``, atomically."""
    if not isinstance(model, Module):
        raise TypeError(f"save: expected an nn.Module, got {type(model).__name__}")
    name = type(model).__name__
    classes = [type(model), *([type(model.neurons[0])] if isinstance(model, Layer) else [])]
    for cls in classes:
        if not _registered(cls):
            raise ValueError(
                f"save: {cls.__name__} is not a registered module type, so nn.load could not rebuild it; "
                "decorate the class with @nn.serialization.register (and define config()), "
                "or save state_dict() yourself"
            )
    config = model.config()
    state = model.state_dict()
    bad = [n for n, v in state.items() if not math.isfinite(v)]
    if bad:
        raise ValueError(
            f"save: parameter {bad[0]!r} is {state[bad[0]]} ({len(bad)} non-finite in all); "
            "the model has diverged -- a model file holds finite numbers only"
        )
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": {"class": name, "config": config},
        "parameters": state,
    }
    if optimizer is not None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"save: optimizer must be an nn.optim optimizer, got {type(optimizer).__name__}")
        params = model.parameters()
        if len(optimizer.params) != len(params) or any(a is not b for a, b in zip(optimizer.params, params)):
            raise ValueError("save: the optimizer does not hold this model's parameters (in model.parameters() order)")
        document["optimizer"] = {"class": type(optimizer).__name__, "state": optimizer.state_dict()}
    write_text_atomic(path, json.dumps(document, indent=1, allow_nan=False) + "\n")


class Checkpoint(NamedTuple):
    """A model file's model, and its optimizer (None if it was saved without one)."""

    model: Module
    optimizer: Optimizer | None


def load(path: str | os.PathLike[str]) -> Module:
    """Rebuild the model saved at ``path`` (architecture and parameters)."""
    return load_checkpoint(path).model


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """The model saved at ``path`` and its optimizer, ready to resume training with ``nn.fit``."""
    where = os.fspath(path)

    def fail(what: str) -> ValueError:
        return ValueError(f"{where} is not a valid valuegrad model file: {what}")

    document = _parse(_read(where, fail), fail)
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise fail(f'it has no "format": "{FORMAT}" tag, so it is some other JSON file')
    version = document.get("version")
    if isinstance(version, bool) or version not in READABLE_VERSIONS:
        raise fail(f"format version {_short(version)} is not supported (this valuegrad reads versions 1 and 2)")
    architecture = document.get("architecture")
    if not isinstance(architecture, dict) or not isinstance(architecture.get("config"), dict):
        raise fail('"architecture" must be an object with "class" and "config"')
    class_name = architecture.get("class")
    cls = _REGISTRY.get(class_name) if isinstance(class_name, str) else None
    if cls is None:
        raise fail(f"unknown module class {_short(class_name)} (known: {', '.join(sorted(_REGISTRY))})")
    parameters = document.get("parameters")
    if not isinstance(parameters, dict):
        raise fail('"parameters" must be an object mapping parameter names to numbers')
    config = _checked_config(architecture["config"], len(parameters), version, fail)
    try:
        implied = cls.implied_parameters(config)
    except (KeyError, TypeError, ValueError) as error:
        missing = f"it has no {error}" if isinstance(error, KeyError) else str(error)
        raise fail(f"its {class_name} architecture is invalid: {missing}") from None
    if implied is not None and implied != len(parameters):
        raise fail(
            f"its parameters do not fit the architecture: {class_name} with this config has {implied} "
            f"parameters but the file holds {len(parameters)}"
        )
    try:
        build: Any = cls  # a registered class: its config() keys are its constructor's keywords
        model = build(**config, rng=0) if _takes_rng(cls) else build(**config)
    except (TypeError, ValueError) as error:
        raise fail(f"its {class_name} architecture is invalid: {error}") from None
    try:
        model.load_state_dict(parameters)
    except ValueError as error:
        raise fail(f"its parameters do not fit the architecture: {error}") from None
    optimizer = None
    if "optimizer" in document:
        try:
            optimizer = optimizer_from_state(document["optimizer"], model)
        except (TypeError, ValueError) as error:
            raise fail(f"its optimizer state is invalid: {error}") from None
    return Checkpoint(model, optimizer)


def _read(where: str, fail: Any) -> bytes:
    """The file's bytes, refused by its size first: never more than ``MAX_FILE_BYTES`` are read."""
    with open(where, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size > MAX_FILE_BYTES:
            raise fail(f"it is {size} bytes, more than the {MAX_FILE_BYTES} bytes a model file may hold")
        chunks = [file.read(size + 1)]  # a regular file whole, and one byte more if it has grown
        held = len(chunks[0])
        while held > size and held <= MAX_FILE_BYTES:  # a pipe (size 0) or a growing file: read on
            chunk = file.read(min(2**20, MAX_FILE_BYTES + 1 - held))
            if not chunk:
                break
            chunks.append(chunk)
            held += len(chunk)
    if held > MAX_FILE_BYTES:
        raise fail(f"it is over {MAX_FILE_BYTES} bytes, more than a model file may hold")
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _parse(raw: bytes, fail: Any) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("it is not UTF-8 text (is it a binary file?)") from None
    if not text.strip():
        raise fail("it is empty")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        hint = " (the file looks truncated)" if error.pos >= len(text.rstrip()) else ""
        raise fail(f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}{hint}") from None
    except ValueError as error:  # our constants, or an integer with more digits than Python parses
        raise fail(str(error)) from None
    except RecursionError:
        raise fail("its JSON is nested too deeply") from None


def _reject_constant(token: str) -> float:
    raise ValueError(f"it holds {token}, which is not a number JSON allows; a model file holds finite numbers only")


def _checked_config(config: dict[str, Any], held: int, version: int, fail: Any) -> dict[str, Any]:
    """``config`` with unit names resolved, after an iterative walk (no recursion) of everything in it.

    No width or count can exceed the number of parameters it implies: checking every integer
    against the file's parameter count first keeps the closed forms' arithmetic small.
    """
    stack: list[tuple[Any, int]] = [(config, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_CONFIG_DEPTH:
            raise fail(f"its architecture is nested more than {MAX_CONFIG_DEPTH} deep")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, int) and not isinstance(item, bool) and item > held:
            raise fail(f"its architecture asks for size {_short(item)} but the file holds only {held} parameters")
    resolved = dict(config)
    unit = config.get("unit")
    if "unit" in config and not isinstance(unit, str):
        raise fail(f'its "unit" must name a unit class, got {_short(unit)}')
    if isinstance(unit, str):
        name = _VERSION_1_UNITS.get(unit, unit) if version == 1 else unit
        if name not in _REGISTRY:
            raise fail(f"unknown unit class {_short(unit)} (known: {', '.join(sorted(_REGISTRY))})")
        resolved["unit"] = _REGISTRY[name]
    return resolved


def _short(x: object) -> str:
    """``repr(x)``, shortened: a file may hold a 4,000-digit number or a huge string."""
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 64:
        return f"a number of about {round(x.bit_length() * math.log10(2))} digits"
    text = repr(x)
    return text if len(text) <= 60 else text[:57] + "..."


def _takes_rng(cls: type[Module]) -> bool:
    return "rng" in inspect.signature(cls.__init__).parameters
