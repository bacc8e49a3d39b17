"""Rendering DOT text: one interface, ``render(dot_text, fmt) -> bytes``, and the renderers behind it.

A renderer has a ``name``, the ``formats`` it can write and ``run(dot_text, fmt) -> bytes``.
``render`` picks one (the caller's, else ``default_renderer()``), refuses a format it does not
declare, and checks what comes back before anyone sees it: SVG must be UTF-8 XML with an
``<svg>`` root holding one node group per node statement of the DOT (the legend's included),
PNG must start with the PNG signature. Anything else is a ``RenderError`` naming the renderer,
in one line. Nothing downstream depends on one renderer's markup: ``svg_markup.normalize_svg``
evens out what differs.

The renderers here are ``dot`` programs (``DotProgram``). Order of preference: the
``VALUEGRAD_DOT`` environment variable (an explicit choice: a path, or a bare name looked up on
``PATH``), a system ``dot`` on ``PATH``, then the binary of the ``graphviz-pure`` wheel, a
dependency on the platforms it has wheels for -- so ``pip install valuegrad`` alone can render
SVG there, with no apt and no root. If none is found, ``DotNotFoundError`` says what to do.
Under Pyodide (``sys.platform == "emscripten"``) nothing can be run: the renderer is the page's
Graphviz in WebAssembly, registered with ``viz.browser.use(viz)``; without one, ``NoBrowserRendererError``.

A program runs in its own session (process group) with a time limit; on timeout, and whenever
a render ends early (``KeyboardInterrupt``, ``SystemExit``), the whole group is killed in a
``finally``, so nothing it started survives. The library installs no signal handlers (it runs
inside Jupyter); on Linux the program also gets a parent-death signal (``parent_death``), so
it dies even when Python is killed outright.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .dot_syntax import DotSyntaxError, count_node_statements
from .parent_death import parent_death_prefix
from .svg_markup import count_node_groups

__all__ = [
    "DotNotFoundError",
    "DotProgram",
    "NoBrowserRendererError",
    "RenderError",
    "Renderer",
    "check_output",
    "count_node_statements",
    "default_renderer",
    "find_dot",
    "let_graphviz_find_dot",
    "lr_ranks_follow_declaration",
    "render",
    "run_dot",
]

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
    """A renderer failed, timed out, or wrote something that is not the picture asked for; one line."""


class NoBrowserRendererError(RenderError, DotNotFoundError):
    """Under Pyodide, no page has registered Graphviz in WebAssembly (``viz.browser.use``)."""


BROWSER_HINT = (
    "no Graphviz in this browser: Pyodide cannot run a 'dot' program; a page must load viz.js "
    "(@viz-js/viz), `await Viz.instance()`, and pass it to valuegrad.autograd.viz.browser.use(viz) "
    "before drawing (the documentation's playground does). The DOT text is still there: graph.source"
)


class Renderer(Protocol):
    """DOT text in, bytes out, for the formats the renderer declares."""

    @property
    def name(self) -> str: ...

    @property
    def formats(self) -> frozenset[str]: ...

    def run(self, dot_text: str, output_format: str) -> bytes: ...


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


_FORMAT_LIST = re.compile(r"Use one of:([^\n]*)")
_program_formats: dict[str, frozenset[str]] = {}


@dataclass(frozen=True)
class DotProgram:
    """A ``dot`` executable: Graphviz's own (any version), graphviz-pure's, or a stand-in such as viz.js."""

    path: Path

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def formats(self) -> frozenset[str]:
        """What the program says it writes (``dot -T?`` lists them), asked once per program.

        Every ``dot`` writes SVG (and DOT), so only other formats are worth a question."""
        if self.name not in _program_formats:
            _, listing = self._execute("digraph {}", "?")
            found = _FORMAT_LIST.search(listing.decode("utf-8", "replace"))
            words = found.group(1).split() if found else []
            _program_formats[self.name] = frozenset({"svg", "dot", *(word.partition(":")[0] for word in words)})
        return _program_formats[self.name]

    def run(self, dot_text: str, output_format: str) -> bytes:
        """What the program prints for ``-T{output_format}``, unchecked; a failure is a RenderError."""
        returncode, output = self._execute(dot_text, output_format)
        if returncode != 0 or not output:
            message = _one_line(output.decode("utf-8", "replace"))
            raise RenderError(f"{self.path} -T{output_format} failed (exit {returncode}): {message}")
        return output

    def _execute(self, dot_text: str, output_format: str) -> tuple[int, bytes]:
        """(exit code, stdout), or (exit code, stderr) when it failed; time-limited, nothing left running."""
        executable = self.path
        try:
            # Its own session: on timeout the whole group goes, not just dot (a wrapper script's children too).
            process = subprocess.Popen(
                [*parent_death_prefix(), str(executable), f"-T{output_format}"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=os.name == "posix",
            )
        except OSError as error:
            raise RenderError(f"could not run {executable}: {error.strerror or error}") from None
        try:
            output, errors = process.communicate(dot_text.encode("utf-8"), timeout=RENDER_TIMEOUT_SECONDS)
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
        failed = process.returncode != 0 or not output
        return process.returncode, errors if failed else output


browser_renderer: Renderer | None = None  # under Pyodide: set by viz.browser.use(viz)


def default_renderer() -> Renderer:
    """The ``dot`` program ``find_dot`` chooses; under Pyodide, the page's viz.js (``viz.browser``)."""
    if sys.platform == "emscripten":
        if browser_renderer is None:
            raise NoBrowserRendererError(BROWSER_HINT)
        return browser_renderer
    return DotProgram(find_dot())


def render(dot_text: str, output_format: str, renderer: Renderer | None = None) -> bytes:
    """Render ``dot_text`` to ``output_format`` with ``renderer`` (default: ``default_renderer()``); checked."""
    chosen = renderer if renderer is not None else default_renderer()
    if output_format not in ("svg", "dot") and output_format not in chosen.formats:
        writes = ", ".join(sorted(chosen.formats))
        raise RenderError(f"{chosen.name} cannot write {output_format!r} (it writes {writes}); choose another format")
    data = check_output(chosen.run(dot_text, output_format), output_format, chosen.name)
    if output_format == "svg":
        try:
            expected = count_node_statements(dot_text)
        except DotSyntaxError as error:
            raise RenderError(f"{chosen.name} drew DOT text valuegrad cannot check: {error}") from None
        found = count_node_groups(data.decode("utf-8"))
        if expected != found:
            raise RenderError(
                f"{chosen.name} drew {found} node groups for {expected} nodes: its SVG is incomplete; "
                f"try another renderer (set {ENV_VARIABLE})"
            )
    return data


# Two clusters side by side in a cluster (as neurons in a layer), left to right: which is on top?
_ORDER_PROBE = (
    "digraph { rankdir=LR newrank=true ordering=out;"
    " subgraph cluster_p { subgraph cluster_a { a } subgraph cluster_b { b } } }"
)
_ORDER_PROBE_Y = re.compile(r"<title>([ab])</title>.*?\by=\"(-?[\d.]+)\"", re.S)
_declaration_order: dict[str, bool] = {}


def lr_ranks_follow_declaration(renderer: Renderer | None = None) -> bool:
    """Whether ``renderer`` lists a left-to-right rank top down in declaration order.

    Graphviz lays out LR by rotating a top-down layout. For clusters nested in a cluster (neurons
    in a layer) and their nodes, Graphviz 2.42/2.43 keeps the declared order top down; the 12-16
    line and graphviz-pure list it bottom up. Drawings that promise
    a natural order (neuron 0 above neuron 1) declare accordingly; this asks the renderer once
    (one tiny layout) and remembers. With no renderer, the answer for current Graphviz (False).
    """
    try:
        chosen = renderer if renderer is not None else default_renderer()
    except DotNotFoundError:
        return False
    if chosen.name not in _declaration_order:
        try:
            svg = chosen.run(_ORDER_PROBE, "svg").decode("utf-8", "replace")
        except RenderError:
            return False
        heights = {name: float(y) for name, y in _ORDER_PROBE_Y.findall(svg)}
        _declaration_order[chosen.name] = heights.get("a", 0.0) < heights.get("b", 0.0)
    return _declaration_order[chosen.name]


def run_dot(source: str, output_format: str) -> bytes:
    """Render DOT ``source`` to ``output_format`` with the default renderer; the checked bytes."""
    return render(source, output_format)


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
