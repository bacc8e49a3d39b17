"""Finding a Graphviz ``dot`` executable and running it.

Order of preference: the ``VALUEGRAD_DOT`` environment variable (an explicit
choice), a system ``dot`` on ``PATH``, then the binary of the ``graphviz-pure``
wheel, which is a dependency -- so ``pip install valuegrad`` alone can render SVG,
with no apt and no root. If none is found, ``DotNotFoundError`` says what to do.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

__all__ = ["DotNotFoundError", "RenderError", "find_dot", "run_dot"]

ENV_VARIABLE = "VALUEGRAD_DOT"
BUNDLED_DISTRIBUTION = "graphviz-pure"
_BUNDLED_NAMES = ("graphviz-pure", "graphviz-pure.exe", "dot", "dot.exe")
RENDER_TIMEOUT_SECONDS = 120.0

INSTALL_HINT = (
    "no Graphviz 'dot' executable found: `pip install graphviz-pure` (bundled with valuegrad), "
    "install Graphviz from your package manager, or set VALUEGRAD_DOT=/path/to/dot"
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


def find_dot() -> Path:
    """The ``dot`` executable to use, or ``DotNotFoundError`` explaining how to install one."""
    explicit = os.environ.get(ENV_VARIABLE)
    if explicit:
        path = Path(explicit)
        if not _is_executable(path):
            raise DotNotFoundError(f"{ENV_VARIABLE}={explicit!r} is not an executable file; fix or unset it")
        return path
    found = system_dot() or bundled_dot()
    if found is None:
        raise DotNotFoundError(INSTALL_HINT)
    return found


def run_dot(source: str, output_format: str) -> bytes:
    """Render DOT ``source`` to ``output_format`` ('svg', 'png', ...) and return the bytes."""
    executable = find_dot()
    try:
        completed = subprocess.run(
            [str(executable), f"-T{output_format}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=RENDER_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise RenderError(
            f"{executable} took more than {RENDER_TIMEOUT_SECONDS:.0f} s; draw a smaller graph (collapse=...)"
        ) from None
    except OSError as error:
        raise RenderError(f"could not run {executable}: {error}") from None
    if completed.returncode != 0 or not completed.stdout:
        errors = completed.stderr.decode("utf-8", "replace").strip() or "no error output"
        raise RenderError(f"{executable} -T{output_format} failed (exit {completed.returncode}): {errors}")
    return completed.stdout
