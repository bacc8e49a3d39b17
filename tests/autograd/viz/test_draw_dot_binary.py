"""Finding ``dot``: a system one first, else the graphviz-pure wheel's, else a clear error."""

from __future__ import annotations

import os
import re
import stat
import sys
import time
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from valuegrad.autograd import Value, draw
from valuegrad.autograd.viz import render as dot_binary

posix_only = pytest.mark.skipif(os.name != "posix", reason="fake executables are shell scripts")


def fake_executable(directory: Path, name: str, script: str) -> Path:
    path = directory / name
    # like dot, it lists its formats when asked for -T? (the renderer asks before writing PNG)
    formats = """[ "$1" = "-T?" ] && { echo 'Format: "?" not recognized. Use one of: png svg' >&2; exit 1; }\n"""
    path.write_text("#!/bin/sh\n" + formats + script + "\n", encoding="utf-8")
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
def real_dot_script() -> str:
    """A shell line that runs the bundled graphviz-pure with the script's arguments and input."""
    bundled = dot_binary.bundled_dot()
    assert bundled is not None
    return f'exec "{bundled}" "$@"'


def test_a_system_dot_on_path_comes_first(no_system_dot: Path) -> None:
    fake = fake_executable(no_system_dot, "dot", 'echo used > "${0%/*}/used"; ' + real_dot_script())
    assert dot_binary.find_dot() == fake
    assert "<svg" in draw(Value(1.0)).svg()
    assert (no_system_dot / "used").exists()


@posix_only
def test_a_renderer_that_draws_too_few_nodes_is_a_render_error_naming_it(no_system_dot: Path) -> None:
    # a well-formed SVG that has lost nodes: every node group but the first renamed
    lose_nodes = no_system_dot / "lose_nodes.py"
    lose_nodes.write_text(
        "import sys\n"
        "first, *rest = sys.stdin.read().split('class=\"node\"')\n"
        "print(first + 'class=\"node\"' + rest[0] + ''.join('class=\"lost\"' + p for p in rest[1:]))\n",
        encoding="utf-8",
    )
    script = real_dot_script().replace("exec ", "") + f' | "{sys.executable}" "{lose_nodes}"'
    fake = fake_executable(no_system_dot, "dot", script)
    x = Value(1.0, label="x")
    with pytest.raises(dot_binary.RenderError, match=r"drew 1 node groups for \d+ nodes") as caught:
        draw(x * 2.0).svg()
    assert str(fake) in str(caught.value) and "\n" not in str(caught.value)


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
    recorded = [f for f in metadata.distribution("graphviz-pure").files or () if f.name == found.name]
    assert recorded, "the binary found is the one graphviz-pure's record lists"
    svg = dot_binary.render("digraph { a -> b }", "svg", dot_binary.DotProgram(found)).decode()
    assert svg.count('class="node"') == 2 and svg.count('class="edge"') == 1


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


# ---------------------------------------------------------------- issue 11 items 20-22, issue 10 item 9


@posix_only
def test_a_bare_name_in_valuegrad_dot_is_looked_up_on_path(
    no_system_dot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = fake_executable(no_system_dot, "mydot", real_dot_script())
    monkeypatch.setenv(dot_binary.ENV_VARIABLE, "mydot")
    assert dot_binary.find_dot() == fake
    assert "<svg" in draw(Value(1.0)).svg()
    monkeypatch.setenv(dot_binary.ENV_VARIABLE, "no-such-dot")
    with pytest.raises(dot_binary.DotNotFoundError, match="no such program on PATH"):
        dot_binary.find_dot()


@posix_only
@pytest.mark.parametrize(
    ("printed", "output_format", "fragment"),
    [
        (r"printf '\377\376<svg/>'", "svg", "is not UTF-8"),
        ("echo '<svg><g></svg>'", "svg", "does not parse as XML"),
        ("echo '<html/>'", "svg", "not <svg>"),
        ("echo 'GIF89a'", "png", "PNG signature"),
    ],
)
def test_what_dot_prints_is_checked(
    printed: str, output_format: str, fragment: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(dot_binary.ENV_VARIABLE, str(fake_executable(tmp_path, "dot", f"cat >/dev/null; {printed}")))
    graph = draw(Value(1.0))
    with pytest.raises(dot_binary.RenderError, match=fragment) as caught:
        graph.render(output_format)
    assert "\n" not in str(caught.value)


def test_real_dot_output_passes_the_check(png_renderer: None) -> None:
    graph = draw(Value(1.0, label="x"))
    assert dot_binary.check_output(graph.render("png"), "png").startswith(dot_binary.PNG_SIGNATURE)
    assert "<svg" in graph.svg()


@posix_only
def test_dot_errors_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    script = "cat >/dev/null; printf 'Error: one\\n\\n  Error: two\\n' >&2; exit 1"
    monkeypatch.setenv(dot_binary.ENV_VARIABLE, str(fake_executable(tmp_path, "dot", script)))
    with pytest.raises(dot_binary.RenderError) as caught:
        draw(Value(1.0)).svg()
    assert str(caught.value).endswith("failed (exit 1): Error: one | Error: two")


def _running(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    if not Path("/proc/self").exists():
        return True  # no /proc: a killed orphan is reaped by init quickly, so existing means running
    try:
        return status.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@posix_only
def test_a_hanging_dot_is_timed_out_and_everything_it_started_dies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    script = f"sleep 300 & echo $! > {pids}; echo $$ >> {pids}; sleep 300"
    monkeypatch.setenv(dot_binary.ENV_VARIABLE, str(fake_executable(tmp_path, "dot", script)))
    monkeypatch.setattr(dot_binary, "RENDER_TIMEOUT_SECONDS", 3.0)  # time for a loaded machine to start the script
    started = time.monotonic()
    with pytest.raises(dot_binary.RenderError, match="took more than 3 s"):
        draw(Value(1.0)).svg()
    assert time.monotonic() - started < 30
    started_pids = [int(line) for line in pids.read_text().split()]
    assert len(started_pids) == 2
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in started_pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(pid) for pid in started_pids), "the renderer's child outlived the timeout"


@pytest.fixture
def graphviz_default_binary(monkeypatch: pytest.MonkeyPatch) -> None:
    from graphviz.backend import dot_command

    monkeypatch.setattr(dot_command, "DOT_BINARY", Path("dot"))
    monkeypatch.setattr(dot_binary, "_graphviz_pointed", False)


def test_graphviz_own_methods_use_the_bundled_dot(no_system_dot: Path, graphviz_default_binary: None) -> None:
    graph = draw(Value(1.0, label="x"))
    svg = graph.digraph.pipe(format="svg")
    assert b"<svg" in svg
    assert graph.digraph.pipe(format="png").startswith(dot_binary.PNG_SIGNATURE)
    assert os.environ["PATH"] == str(no_system_dot)  # the user's PATH is left alone


@posix_only
def test_graphviz_keeps_its_own_lookup_when_a_dot_is_on_path(
    no_system_dot: Path, graphviz_default_binary: None
) -> None:
    from graphviz.backend import dot_command

    fake_executable(no_system_dot, "dot", "cat >/dev/null; echo '<svg/>'")
    draw(Value(1.0))
    assert Path(dot_command.DOT_BINARY) == Path("dot")


def _graphviz_pure_requirement() -> Requirement:
    pyproject = (Path(__file__).parents[3] / "pyproject.toml").read_text(encoding="utf-8")
    (line,) = re.findall(r'^\s*"(graphviz-pure[^"]*)",?\s*$', pyproject, flags=re.MULTILINE)
    return Requirement(line)


@pytest.mark.parametrize(
    ("sys_platform", "platform_machine", "has_wheel"),
    [
        ("linux", "x86_64", True),
        ("linux", "aarch64", True),
        ("darwin", "x86_64", True),
        ("darwin", "arm64", True),
        ("win32", "AMD64", True),
        ("win32", "ARM64", True),
        ("emscripten", "wasm32", False),  # Pyodide
        ("linux", "armv7l", False),
        ("linux", "armv6l", False),
        ("linux", "i686", False),
        ("linux", "ppc64le", False),
        ("linux", "s390x", False),
        ("linux", "riscv64", False),
        ("freebsd14", "amd64", False),
    ],
)
def test_graphviz_pure_is_required_only_where_it_has_wheels(
    sys_platform: str, platform_machine: str, has_wheel: bool
) -> None:
    """graphviz-pure 0.2.x has wheels for Linux (glibc >= 2.17 or musl) on x86_64 and aarch64,
    macOS x86_64 and arm64, and Windows AMD64 and ARM64 (checked with pip download --platform)."""
    requirement = _graphviz_pure_requirement()
    assert requirement.marker is not None
    environment = {"sys_platform": sys_platform, "platform_machine": platform_machine}
    assert requirement.marker.evaluate(environment) is has_wheel


@pytest.mark.parametrize(
    ("dot_text", "nodes"),
    [
        ("digraph { a -> b }", 2),  # nodes an edge makes count
        ('digraph { a; b [label="x -> y; z"]; a -> b [label=<<b>q</b> -&gt; ; r>] }', 2),  # labels are one token
        ("digraph { graph [rankdir=LR] node [shape=box] edge [color=red] rankdir=TB }", 0),  # no node statements
        ('digraph g { subgraph cluster_0 { c d:p:n -> e } "q\\"" }', 4),  # ports, clusters, quoted names
        ('digraph { "a" -> a // a comment: x -> y\n /* b -> c */ }', 1),  # a quoted name is the name
        ('digraph { "a" + "b" -> ab; c }', 2),  # "a" + "b" is one string
    ],
)
def test_node_statements_are_counted_as_graphviz_makes_nodes(dot_text: str, nodes: int) -> None:
    assert dot_binary.count_node_statements(dot_text) == nodes
    assert dot_binary.render(dot_text, "svg").decode().count('class="node"') == nodes  # Graphviz agrees
