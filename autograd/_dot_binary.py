"""Finding a Graphviz ``dot`` executable and running it.

Order of preference: the ``VALUEGRAD_DOT`` environment variable (an explicit
choice: a path, or a bare name looked up on ``PATH``), a system ``dot`` on
``PATH``, then the binary of the ``graphviz-pure`` wheel, a dependency on the
platforms it has wheels for -- so ``pip install valuegrad`` alone can render SVG
there, with no apt and no root. If none is found, ``DotNotFoundError`` says what to do.

``dot`` runs in its own session (process group) with a time limit; on timeout the
whole group is killed, so nothing it started survives. Its output is checked before
anyone sees it: SVG must be UTF-8 XML with an ``<svg>`` root, PNG must start with
the PNG signature; anything else is a ``RenderError``. Error messages are one line.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from pathlib import Path

__all__ = ["DotNotFoundError", "RenderError", "check_output", "find_dot", "let_graphviz_find_dot", "run_dot"]

ENV_VARIABLE = "VALUEGRAD_DOT"
BUNDLED_DISTRIBUTION = "graphviz-pure"
_BUNDLED_NAMES = ("graphviz-pure", "graphviz-pure.exe", "dot", "dot.exe")
RENDER_TIMEOUT_SECONDS = 120.0
MESSAGE_LIMIT = 400  # characters of dot's error output quoted in a RenderError
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

INSTALL_HINT = (
    "no Graphviz 'dot' executable found: install Graphviz (apt/dnf/brew/conda install graphviz), "
    "or `pip install graphviz-pure` (Linux, macOS, Windows on x86-64 or ARM64), or set VALUEGRAD_DOT=/path/to/dot"
)


class DotNotFoundError(RuntimeError):
    """No ``dot`` executable could be found; the message says how to get one."""


class RenderError(RuntimeError):
    """``dot`` ran but failed (or timed out); the message carries its error output."""


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _scripts_directories() -> list[Path]:
    """Where console scripts of this interpreter's packages live (a venv's ``bin``, ``Scripts``)."""
    directories = [Path(sys.executable).parent]
    with contextlib.suppress(KeyError, TypeError):  # an unusual install scheme has no "scripts"
        directories.append(Path(sysconfig.get_path("scripts")))
    return directories


def _bundled_from_metadata() -> Path | None:
    """The executable listed in the installed ``graphviz-pure`` distribution's file record."""
    from importlib import metadata  # slow to import; only needed when the fast checks failed

    try:
        distribution = metadata.distribution(BUNDLED_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    for file in distribution.files or ():
        if file.name in _BUNDLED_NAMES:
            candidate = Path(str(distribution.locate_file(file))).resolve()
            if _is_executable(candidate):
                return candidate
    return None


def bundled_dot() -> Path | None:
    """The ``graphviz-pure`` binary next to this interpreter, or found through its metadata."""
    for directory in _scripts_directories():
        for name in _BUNDLED_NAMES[:2]:
            candidate = directory / name
            if _is_executable(candidate):
                return candidate
    return _bundled_from_metadata()


def system_dot() -> Path | None:
    """A ``dot`` on ``PATH``, if there is one."""
    found = shutil.which("dot")
    return Path(found) if found else None


def _explicit_dot(explicit: str) -> Path:
    """``VALUEGRAD_DOT``: a path to an executable, or a bare name (``dot``) found on ``PATH``."""
    separators = [os.sep] + ([os.altsep] if os.altsep else [])
    if not any(separator in explicit for separator in separators):
        found = shutil.which(explicit)
        if found is None:
            raise DotNotFoundError(
                f"{ENV_VARIABLE}={explicit!r}: no such program on PATH; give a full path or unset it"
            )
        return Path(found)
    path = Path(explicit).expanduser()
    if not _is_executable(path):
        raise DotNotFoundError(f"{ENV_VARIABLE}={explicit!r} is not an executable file; fix or unset it")
    return path


def find_dot() -> Path:
    """The ``dot`` executable to use, or ``DotNotFoundError`` explaining how to install one."""
    explicit = os.environ.get(ENV_VARIABLE)
    if explicit:
        return _explicit_dot(explicit)
    found = system_dot() or bundled_dot()
    if found is None:
        raise DotNotFoundError(INSTALL_HINT)
    return found


def _one_line(text: str) -> str:
    """``text`` with its lines joined and cut to ``MESSAGE_LIMIT`` characters, for a one-line error."""
    joined = " | ".join(line.strip() for line in text.splitlines() if line.strip()) or "no error output"
    return joined if len(joined) <= MESSAGE_LIMIT else joined[: MESSAGE_LIMIT - 1] + "…"


def check_output(data: bytes, output_format: str, executable: object = "dot") -> bytes:
    """``data`` if it looks like ``output_format`` ('svg': UTF-8 XML with an <svg> root; 'png': the signature).

    Other formats are passed through unchecked. A ``RenderError`` names what is wrong.
    """
    problem = None
    if output_format == "png" and not data.startswith(PNG_SIGNATURE):
        problem = f"does not start with the PNG signature (starts {data[:8]!r})"
    elif output_format == "svg":
        problem = _svg_problem(data)
    if problem is not None:
        raise RenderError(
            f"{executable} -T{output_format} printed something that is not {output_format.upper()}: {problem}"
        )
    return data


def _svg_problem(data: bytes) -> str | None:
    import xml.etree.ElementTree as ElementTree  # only when rendering: keeps the import of autograd fast

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return f"byte {error.start} ({data[error.start : error.start + 1]!r}) is not UTF-8"
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as error:
        return f"it does not parse as XML ({error})"
    if root.tag.rpartition("}")[2] != "svg":
        return f"its root element is <{root.tag[:60]}>, not <svg>"
    return None


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """Kill ``process`` and everything it started (its process group, where there is one)."""
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()


def run_dot(source: str, output_format: str) -> bytes:
    """Render DOT ``source`` to ``output_format`` ('svg', 'png', ...) and return the checked bytes."""
    executable = find_dot()
    try:
        # Its own session: on timeout the whole group goes, not just dot (a wrapper script's children too).
        process = subprocess.Popen(
            [str(executable), f"-T{output_format}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=os.name == "posix",
        )
    except OSError as error:
        raise RenderError(f"could not run {executable}: {error.strerror or error}") from None
    try:
        output, errors = process.communicate(source.encode("utf-8"), timeout=RENDER_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        with contextlib.suppress(subprocess.TimeoutExpired):  # a child that left the group may hold the pipes
            process.communicate(timeout=5)
        raise RenderError(
            f"{executable} took more than {RENDER_TIMEOUT_SECONDS:g} s; draw a smaller graph (collapse=...)"
        ) from None
    except BaseException:  # KeyboardInterrupt, ...: leave nothing running
        _kill_group(process)
        process.wait()
        raise
    finally:
        if os.name == "posix":  # anything dot left behind in its session is ours to stop
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
    if process.returncode != 0 or not output:
        message = _one_line(errors.decode("utf-8", "replace"))
        raise RenderError(f"{executable} -T{output_format} failed (exit {process.returncode}): {message}")
    return check_output(output, output_format, executable)


_graphviz_pointed = False


def let_graphviz_find_dot() -> None:
    """Make the ``graphviz`` package's own methods (``Digraph.pipe``, ``render``, ``view``) find a dot.

    graphviz runs the program ``graphviz.backend.dot_command.DOT_BINARY`` (``dot``, looked up on
    ``PATH``) and has no public setting for it. Where that lookup fails -- typically only the
    graphviz-pure wheel is installed, and its binary is named ``graphviz-pure``, so even ``PATH``
    could not help -- point it at the dot found here. Nothing changes if a ``dot`` is on ``PATH``
    (graphviz finds it itself), if someone already changed ``DOT_BINARY``, or if no dot exists.
    The user's environment (``PATH``) is never touched.
    """
    global _graphviz_pointed
    if _graphviz_pointed or shutil.which("dot") is not None:
        return
    from graphviz.backend import dot_command

    if Path(dot_command.DOT_BINARY) != Path("dot"):
        return
    try:
        found = find_dot()
    except DotNotFoundError:
        return  # drawing never needs dot; graphviz will say ExecutableNotFound if asked to render
    dot_command.DOT_BINARY = found
    _graphviz_pointed = True
