"""Finding ``dot``: a system one first, else the graphviz-pure wheel's, else a clear error."""

from __future__ import annotations

import os
import stat
from importlib import metadata
from pathlib import Path

import pytest

from valuegrad.autograd import Value, draw
from valuegrad.autograd import _dot_binary as dot_binary


def fake_executable(directory: Path, name: str, script: str) -> Path:
    path = directory / name
    path.write_text("#!/bin/sh\n" + script + "\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def no_system_dot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv(dot_binary.ENV_VARIABLE, raising=False)
    return empty


@pytest.mark.skipif(os.name != "posix", reason="fake executables are shell scripts")
def test_a_system_dot_on_path_comes_first(no_system_dot: Path) -> None:
    fake = fake_executable(no_system_dot, "dot", "cat >/dev/null; echo '<svg>fake</svg>'")
    assert dot_binary.find_dot() == fake
    assert draw(Value(1.0)).svg() == "<svg>fake</svg>\n"


def test_without_a_system_dot_the_bundled_graphviz_pure_is_used(no_system_dot: Path) -> None:
    found = dot_binary.find_dot()
    assert found.name.startswith("graphviz-pure")
    assert os.access(found, os.X_OK)
    assert "<svg" in draw(Value(1.0)).svg()


def test_the_bundled_binary_is_found_through_package_metadata(
    no_system_dot: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(dot_binary, "_scripts_directories", lambda: [tmp_path])
    found = dot_binary.bundled_dot()
    assert found is not None and found.name.startswith("graphviz-pure")


def test_nothing_found_is_a_clear_error(no_system_dot: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def missing(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(dot_binary, "_scripts_directories", lambda: [tmp_path])
    monkeypatch.setattr(metadata, "distribution", missing)
    with pytest.raises(dot_binary.DotNotFoundError, match="pip install graphviz-pure"):
        dot_binary.find_dot()
    graph = draw(Value(1.0, label="x"))
    assert graph.source  # drawing itself never needs dot
    with pytest.raises(dot_binary.DotNotFoundError):
        graph.svg()


def test_an_explicit_choice_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(dot_binary.ENV_VARIABLE, str(tmp_path / "nope"))
    with pytest.raises(dot_binary.DotNotFoundError, match="VALUEGRAD_DOT"):
        dot_binary.find_dot()


@pytest.mark.skipif(os.name != "posix", reason="fake executables are shell scripts")
def test_a_failing_dot_is_reported_not_a_traceback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = fake_executable(tmp_path, "dot", "cat >/dev/null; echo 'Error: boom' >&2; exit 3")
    monkeypatch.setenv(dot_binary.ENV_VARIABLE, str(broken))
    graph = draw(Value(1.0))
    with pytest.raises(dot_binary.RenderError, match="boom"):
        graph.svg()
    bundle = graph._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "boom" in bundle["text/plain"].splitlines()[0]
