"""``python -m valuegrad.autograd draw|grad``: end to end in a subprocess, and in-process for the many error paths."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from valuegrad.autograd import Value, draw
from valuegrad.autograd.cli import main
from valuegrad.autograd.viz import render as dot_binary

SVG = "{http://www.w3.org/2000/svg}"
NEURON = ["tanh(w*x + b)", "x=2", "w=-3", "b=6.88"]
# The child runs in a temporary directory: give it this checkout's package, not whatever is installed.
SOURCE_PATH = os.pathsep.join(
    filter(None, [str(Path(__file__).resolve().parents[2] / "src"), os.environ.get("PYTHONPATH")])
)


def run_module(
    *arguments: str, cwd: Path, env: dict[str, str] | None = None, module: str = "valuegrad.autograd", **options: object
) -> subprocess.CompletedProcess[str]:
    streams: dict[str, object] = {"capture_output": True} if "stdout" not in options else {"stderr": subprocess.PIPE}
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", module, *arguments],
        cwd=cwd,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": SOURCE_PATH, **(env or {})},
        check=False,
        **streams,
        **options,
    )


def reference_neuron() -> Value:
    x, w, b = Value(2.0, label="x"), Value(-3.0, label="w"), Value(6.88, label="b")
    out = (w * x + b).tanh()
    out.label = "f"
    out.backward()
    return out


# ---------------------------------------------------------------- end to end (subprocess)


def test_draw_svg_end_to_end(tmp_path: Path) -> None:
    result = run_module("draw", *NEURON, "-o", "graph.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote graph.svg" in result.stdout
    root = ET.fromstring((tmp_path / "graph.svg").read_text(encoding="utf-8"))
    groups = [g.get("class") for g in root.iter(f"{SVG}g")]
    assert groups.count("node") == 9  # 4 values in, 3 ops, 2 intermediate values... and the output
    assert groups.count("edge") == 8


def test_draw_png_and_dot_end_to_end(tmp_path: Path, png_renderer: None) -> None:
    png = run_module("draw", *NEURON, "--format", "png", "-o", "g.png", "--edge-labels", cwd=tmp_path)
    assert png.returncode == 0, png.stderr
    assert (tmp_path / "g.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    dot = run_module("draw", *NEURON, "--format", "dot", "-o", "-", "--edge-labels", cwd=tmp_path)
    assert dot.returncode == 0, dot.stderr
    assert dot.stdout == draw(reference_neuron(), edge_labels=True).source


def test_grad_end_to_end_prints_the_value_and_every_partial(tmp_path: Path) -> None:
    result = run_module("grad", *NEURON, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = reference_neuron()
    (w, x), b = out.parents[0].parents[0].parents, out.parents[0].parents[1]
    lines = result.stdout.splitlines()
    assert lines[1] == f"f = {out.data!r}"
    assert lines[2:] == [f"df/dx = {x.grad!r}", f"df/dw = {w.grad!r}", f"df/db = {b.grad!r}"]


def test_hostile_expression_end_to_end_is_a_one_line_error_with_a_caret(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    result = run_module("grad", f"__import__('os').system('touch {marker}')", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    message, _expression_line, carets = result.stderr.splitlines()
    assert message.startswith("python -m valuegrad.autograd: error: attribute access is not allowed")
    assert carets.strip().startswith("^")
    assert not marker.exists()


# ---------------------------------------------------------------- in-process


def test_grad_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grad", "x*y + 1/z", "x=2", "y=3", "z=0", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document == {
        "expression": "x*y + 1/z",
        "at": {"x": 2.0, "y": 3.0, "z": 0.0},
        "value": "inf",
        "gradient": {"x": 3.0, "y": 2.0, "z": "-inf"},
    }


def test_grad_of_hypot(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grad", "hypot(x, y)", "x=3", "y=4"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["f = 5.0", "df/dx = 0.6", "df/dy = 0.8"]
    assert main(["grad", "hypot(x)", "x=3"]) == 2
    assert "hypot() takes 2 arguments: hypot(x, y)" in capsys.readouterr().err


def test_help_lists_every_function_with_its_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["grad", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "hypot, leaky_relu" in shown and "two arguments: hypot(x, y)" in shown
    assert "any number of arguments: logsumexp(x, ...) and max(x, ...)" in shown


def test_constant_expressions_have_a_value_and_no_partials(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grad", "2 + 3"]) == 0
    assert capsys.readouterr().out.splitlines()[1:] == ["f = 5.0"]


def test_default_output_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["draw", "x*x", "x=3", "--format", "dot"]) == 0
    assert (tmp_path / "graph.dot").read_text(encoding="utf-8").startswith("digraph valuegrad {")


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["grad", "tanh(w*x + b)", "x=abc", "w=1", "b=1"], "must be a number"),
        (["grad", "tanh(w*x + b)", "x=1", "w=1"], "no value for 'b'"),
        (["grad", "x", "x=1", "x=2"], "given a value twice"),
        (["grad", "x", "x=1", "y=2"], "does not appear"),
        (["grad", "x", "x"], "expected name=value"),
        (["grad", "x[0]", "x=1"], "subscripts"),
        (["grad", "foo(x)", "x=1"], "unknown function"),
        (["grad", "(" * 60 + "x" + ")" * 60, "x=1"], "nested more than"),
        (["draw", "x", "x=1", "-o", "g.png", "--format", "svg"], "contradicts"),
        (["draw", "x" + "+x" * 300, "x=1", "--format", "dot"], "max_nodes"),
        (["draw", "x", "x=1", "--precision", "-2", "--format", "dot"], "precision"),
    ],
)
def test_bad_input_exits_2_with_one_clear_error(
    arguments: list[str],
    fragment: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(arguments) == 2
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith("python -m valuegrad.autograd: error:") and fragment in first
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["frobnicate"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert (
        err.count("\n") == 1 and "invalid choice" in err and err.endswith("(see python -m valuegrad.autograd --help)\n")
    )
    with pytest.raises(SystemExit) as caught:
        main(["draw", "x", "--precision", "many"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m valuegrad.autograd draw: error: argument --precision") and err.count("\n") == 1


def test_missing_dot_exits_1_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(dot_binary.ENV_VARIABLE, raising=False)
    monkeypatch.setattr(dot_binary, "bundled_dot", lambda: None)
    assert main(["draw", *NEURON, "-o", "g.svg"]) == 1
    err = capsys.readouterr().err
    assert "pip install graphviz-pure" in err and "Traceback" not in err
    assert main(["draw", *NEURON, "-o", "g.dot"]) == 0  # DOT output needs no dot
    assert (tmp_path / "g.dot").exists()


def test_unwritable_destination_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draw", "x", "x=1", "-o", str(tmp_path / "missing" / "g.dot")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["draw", "x", "x=1", "-o", str(tmp_path)]) == 1
    assert capsys.readouterr().err == (
        f"python -m valuegrad.autograd: error: cannot write {tmp_path}: it is a directory; give a file name\n"
    )


# ---------------------------------------------------------------- files and streams (issue 11 items 1-3, 19, 20)

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, devices and shell-script renderers are POSIX")


def test_an_empty_output_name_is_bad_input_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["draw", *NEURON, "-o", ""]) == 2
    assert (
        capsys.readouterr().err
        == "python -m valuegrad.autograd: error: -o needs a file name, or '-' for standard output\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("dir.html/", "-o 'dir.html/' names a directory; give a file name, e.g. dir.html/graph.svg"),
        ("pictures/", "-o 'pictures/' names a directory; give a file name, e.g. pictures/graph.svg"),
        (".", "-o '.' names a directory"),
        ("sub/..", "-o 'sub/..' names a directory"),
        (".html", "-o '.html' is only an extension; give a file name, e.g. graph.html"),
        (".svg", "-o '.svg' is only an extension; give a file name, e.g. graph.svg"),
        (".PNG", "-o '.PNG' is only an extension"),
        ("sub/.dot", "-o 'sub/.dot' is only an extension; give a file name, e.g. graph.dot"),
        (".gv", "-o '.gv' is only an extension"),
    ],
)
def test_an_output_name_that_is_a_directory_or_only_an_extension_is_refused_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], output: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    assert main(["draw", *NEURON, "-o", output], prog="valuegrad") == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith(f"valuegrad: error: {message}")
    assert captured.err.count("\n") == 1
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["sub"]


def test_dash_writes_the_svg_to_standard_output_and_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["draw", *NEURON, "-o", "-"]) == 0
    captured = capsysbinary.readouterr()
    root = ET.fromstring(captured.out)
    assert root.tag == f"{SVG}svg" and captured.err == b""
    assert list(tmp_path.iterdir()) == []
    assert main(["draw", *NEURON, "-o", "-", "--format", "dot"]) == 0
    assert capsysbinary.readouterr().out.lstrip().startswith(b"digraph")


def test_the_help_says_what_dash_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["draw", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "'-' writes the picture to standard output (SVG unless --format says otherwise" in text


@posix_only
def test_drawing_to_dev_null_leaves_it_a_device(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["draw", *NEURON, "--format", "dot", "-o", "/dev/null"]) == 0
    assert "wrote /dev/null" in capsys.readouterr().out
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@posix_only
def test_drawing_to_a_fifo_without_a_reader_is_one_line_and_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "picture"
    os.mkfifo(fifo)
    assert main(["draw", *NEURON, "--format", "dot", "-o", str(fifo)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "FIFO with no reader" in err
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["picture"]


@posix_only
def test_drawing_through_a_symlink_updates_its_target(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real.dot"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.dot"
    link.symlink_to(real)
    assert main(["draw", *NEURON, "-o", str(link)]) == 0
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == draw(reference_neuron()).source


@posix_only
def test_a_renderer_printing_garbage_for_png_is_exit_1_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    lists_formats = """[ "$1" = "-T?" ] && { echo 'Use one of: png svg' >&2; exit 1; }\n"""
    fake.write_text("#!/bin/sh\n" + lists_formats + "cat >/dev/null\nprintf '\\377\\376garbage'\n", encoding="utf-8")
    fake.chmod(0o755)
    monkeypatch.setenv(dot_binary.ENV_VARIABLE, str(fake))
    monkeypatch.chdir(tmp_path)
    assert main(["draw", *NEURON, "-o", "g.png"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not PNG" in err and "Traceback" not in err
    assert main(["draw", *NEURON, "-o", "g.svg"]) == 1
    assert "is not SVG" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]


@posix_only
@pytest.mark.parametrize("module", ["valuegrad.autograd", "valuegrad"])
@pytest.mark.parametrize("command", [["grad", *NEURON], ["draw", *NEURON, "--format", "dot", "-o", "-"]])
def test_a_closed_pipe_ends_quietly(module: str, command: list[str], tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has gone before anything is written, like `| head -c 0`
    try:
        result = run_module(*command, cwd=tmp_path, module=module, stdout=write_end)
    finally:
        os.close(write_end)
    assert (result.returncode, result.stderr) == (1, "")


@posix_only
@pytest.mark.skipif(not os.access("/dev/full", os.W_OK), reason="/dev/full is not writable here")
def test_a_full_standard_output_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        result = run_module("grad", *NEURON, cwd=tmp_path, stdout=full)
    assert result.returncode == 1
    assert result.stderr == (
        "python -m valuegrad.autograd: error: cannot write to standard output: No space left on device\n"
    )


def test_draw_writes_an_html_page(tmp_path: Path) -> None:
    result = run_module("draw", *NEURON, "-o", "graph.html", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "graph.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
