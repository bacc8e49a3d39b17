"""How nn's modules load one another at run time, now that module and serialization, and train and
compiled, no longer import each other both ways (tests/test_architecture.py checks the imports)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import valuegrad.nn as nn
from valuegrad.nn import serialization

REPO = Path(__file__).resolve().parents[2]


def run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_model_save_loads_serialization_on_the_first_save(tmp_path: Path) -> None:
    code = (
        "import sys, valuegrad.nn as nn\n"
        "loaded = lambda: 'valuegrad.nn.serialization' in sys.modules\n"
        "before = loaded()\n"
        f"nn.MLP(2, [1], rng=0).save({str(tmp_path / 'm.json')!r})\n"
        "print(before, loaded())"
    )
    assert run(code) == "False True"


def test_a_module_imported_by_its_own_path_saves_too(tmp_path: Path) -> None:
    """Python runs valuegrad.nn's __init__ (which hands Module.save its writer) before any nn module."""
    code = (
        "from valuegrad.nn.layers import MLP\n"
        f"MLP(2, [1], rng=0).save({str(tmp_path / 'm.json')!r})\n"
        "from valuegrad.nn.serialization import load\n"
        f"print(load({str(tmp_path / 'm.json')!r}))"
    )
    assert run(code).startswith("MLP(nin=2")


def test_model_save_writes_what_serialization_save_writes(tmp_path: Path) -> None:
    model = nn.MLP(2, [3, 1], rng=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.01)
    model.save(tmp_path / "method.json", optimizer)
    serialization.save(model, tmp_path / "function.json", optimizer)
    assert (tmp_path / "method.json").read_bytes() == (tmp_path / "function.json").read_bytes()


def test_train_loads_the_compiler_only_when_asked() -> None:
    code = (
        "import sys, valuegrad.nn as nn\n"
        "X, y = nn.data.xor()\n"
        "nn.fit(nn.MLP(2, [2, 1], rng=0), X, y, steps=2, progress=False)\n"
        "eager = 'valuegrad.nn.compiled' in sys.modules\n"
        "nn.fit(nn.MLP(2, [2, 1], rng=0), X, y, steps=2, progress=False, compile=True)\n"
        "print(eager, 'valuegrad.nn.compiled' in sys.modules)"
    )
    assert run(code) == "False True"
