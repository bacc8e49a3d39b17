"""Model files: JSON holding a format tag, a version, the architecture and every parameter.

::

    {"format": "valuegrad-model", "version": 1,
     "architecture": {"class": "MLP", "config": {"nin": 2, "sizes": [16, 16, 1], ...}},
     "parameters": {"layers.0.neurons.0.w.0": 0.123, ...}}

``save`` writes atomically (a temporary file, then ``os.replace``), so a crash never leaves a
half-written model. ``load`` rebuilds the model from the file alone and checks everything on
the way: a truncated, malformed, foreign or wrong-shaped file, or one holding nan or inf, raises
``ValueError`` naming the file and what is wrong, and the file itself is only ever read. There
is no pickle and nothing from the file is ever executed: classes are looked up by name in a
registry of known module types.
"""

from __future__ import annotations

import inspect
import json
import math
import os
from typing import Any

from valuegrad.autograd._files import write_text_atomic
from valuegrad.nn.layers import MLP, RBF, Layer, Maxout, Neuron
from valuegrad.nn.module import Module

__all__ = ["FORMAT", "VERSION", "load", "register", "save"]

FORMAT = "valuegrad-model"
VERSION = 1

_REGISTRY: dict[str, type[Module]] = {}


def register(cls: type[Module]) -> type[Module]:
    """Let ``nn.load`` rebuild ``cls`` by name (it must define ``config()``); usable as a decorator."""
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise TypeError(f"register takes an nn.Module subclass, got {cls!r}")
    _REGISTRY[cls.__name__] = cls
    return cls


for _cls in (Neuron, Maxout, RBF, Layer, MLP):
    register(_cls)


def save(model: Module, path: str | os.PathLike[str]) -> None:
    """Write ``model`` to ``path`` as a JSON model file, atomically."""
    if not isinstance(model, Module):
        raise TypeError(f"save: expected an nn.Module, got {type(model).__name__}")
    name = type(model).__name__
    if _REGISTRY.get(name) is not type(model):
        raise ValueError(
            f"save: {name} is not a registered module type, so nn.load could not rebuild it; "
            "decorate the class with @nn.serialization.register (and define config()), or save state_dict() yourself"
        )
    state = model.state_dict()
    bad = [n for n, v in state.items() if not math.isfinite(v)]
    if bad:
        raise ValueError(
            f"save: parameter {bad[0]!r} is {state[bad[0]]} ({len(bad)} non-finite in all); "
            "the model has diverged -- a model file holds finite numbers only"
        )
    document = {
        "format": FORMAT,
        "version": VERSION,
        "architecture": {"class": name, "config": model.config()},
        "parameters": state,
    }
    write_text_atomic(path, json.dumps(document, indent=1, allow_nan=False) + "\n")


def _reject_constant(token: str) -> float:
    raise ValueError(f"it holds {token}, which is not a number JSON allows; a model file holds finite numbers only")


def load(path: str | os.PathLike[str]) -> Module:
    """Rebuild the model saved at ``path`` (architecture and parameters)."""
    where = os.fspath(path)

    def fail(what: str) -> ValueError:
        return ValueError(f"{where} is not a valid valuegrad model file: {what}")

    with open(where, "rb") as file:
        raw = file.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise fail("it is not UTF-8 text (is it a binary file?)") from None
    if not text.strip():
        raise fail("it is empty")
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        hint = " (the file looks truncated)" if error.pos >= len(text.rstrip()) else ""
        raise fail(f"malformed JSON at line {error.lineno} column {error.colno}: {error.msg}{hint}") from None
    except ValueError as error:
        raise fail(str(error)) from None
    except RecursionError:
        raise fail("its JSON is nested too deeply") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise fail(f'it has no "format": "{FORMAT}" tag, so it is some other JSON file')
    version = document.get("version")
    if version != VERSION or isinstance(version, bool):
        raise fail(f"format version {version!r} is not supported (this valuegrad reads version {VERSION})")
    architecture = document.get("architecture")
    if not isinstance(architecture, dict) or not isinstance(architecture.get("config"), dict):
        raise fail('"architecture" must be an object with "class" and "config"')
    class_name = architecture.get("class")
    cls = _REGISTRY.get(class_name) if isinstance(class_name, str) else None
    if cls is None:
        known = ", ".join(sorted(_REGISTRY))
        raise fail(f"unknown module class {class_name!r} (known: {known})")
    config = architecture["config"]
    parameters = document.get("parameters")
    if not isinstance(parameters, dict):
        raise fail('"parameters" must be an object mapping parameter names to numbers')
    # Every width or count in an architecture is at most the number of parameters it implies;
    # checking that first stops a doctored file from making us build a gigantic model.
    oversized = [v for v in _integers(config) if v > len(parameters)]
    if oversized:
        held = len(parameters)
        raise fail(f"its architecture asks for size {oversized[0]} but the file holds only {held} parameters")
    try:
        build: Any = cls  # a registered class: its config() keys are its constructor's keywords
        model = build(**config, rng=0) if _takes_rng(cls) else build(**config)
    except (TypeError, ValueError) as error:
        raise fail(f"its {class_name} architecture is invalid: {error}") from None
    try:
        model.load_state_dict(parameters)
    except ValueError as error:
        raise fail(f"its parameters do not fit the architecture: {error}") from None
    return model


def _takes_rng(cls: type[Module]) -> bool:
    return "rng" in inspect.signature(cls.__init__).parameters


def _integers(config: Any) -> list[int]:
    """Every int anywhere in a (JSON) config."""
    if isinstance(config, bool):
        return []
    if isinstance(config, int):
        return [config]
    if isinstance(config, dict):
        return [i for v in config.values() for i in _integers(v)]
    if isinstance(config, list):
        return [i for v in config for i in _integers(v)]
    return []
