"""Renderer processes die with the Python process that started them (Linux).

A ``dot`` runs in its own session, and the library kills that group in a ``finally`` when a
render ends in any way Python sees (a timeout, ``KeyboardInterrupt``, ``SystemExit``). When
Python itself is killed outright (``SIGKILL``, the out-of-memory killer, a Jupyter kernel
restart that will not wait), no ``finally`` runs: on Linux the kernel's parent-death signal
covers that case, so ``dot`` gets ``SIGKILL`` as soon as its parent goes.

That signal must be asked for *in the child*, between ``fork`` and ``exec``. A Python
``preexec_fn`` could do it, but it is unsafe in a process with threads (Jupyter has several)
and refused in subinterpreters; so the library never uses one. Instead the program is started
through a tiny wrapper that sets the signal and then ``exec``\\ s ``dot`` under the same process
id (so the group and the pipes are unchanged):

* ``setpriv --pdeathsig KILL -- dot ...`` (util-linux 2.33 or later, on nearly every Linux
  system; checked once per process), else
* this interpreter running a few lines that call ``prctl(PR_SET_PDEATHSIG, SIGKILL)`` through
  ``ctypes``, check that the parent is still the one that started them (closing the window in
  which it could die before the signal was set), and ``exec`` the program. It costs one
  interpreter start (some 40 ms) per render.

Elsewhere (macOS, Windows) there is no parent-death signal: the ``finally`` is all there is.
The signal is tied to the *thread* that started the child; the library starts ``dot`` from the
thread that waits for it, so that thread outlives it. A setuid ``dot`` would drop the signal.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

__all__ = ["parent_death_prefix"]

# Runs as ``python -I -S -c WRAPPER PARENT_PID PROGRAM ARGS...``: PR_SET_PDEATHSIG is 1, SIGKILL 9.
WRAPPER = """\
import ctypes, os, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, 9)
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    os._exit(137)
try:
    os.execv(sys.argv[2], sys.argv[2:])
except OSError as error:
    sys.stderr.write(f"could not run {sys.argv[2]}: {error.strerror or error}\\n")
    os._exit(127)
"""

_setpriv: list[str] | None = None
_setpriv_checked = False


def _working_setpriv() -> list[str] | None:
    """``setpriv --pdeathsig KILL --`` if this system's setpriv knows the option (asked once)."""
    global _setpriv, _setpriv_checked
    if not _setpriv_checked:
        found = shutil.which("setpriv")
        if found is not None:
            words = [found, "--pdeathsig", "KILL", "--"]
            try:
                probe = subprocess.run([*words, found, "--version"], capture_output=True, timeout=10, check=False)
            except (OSError, subprocess.SubprocessError):
                probe = None
            _setpriv = words if probe is not None and probe.returncode == 0 else None
        _setpriv_checked = True
    return _setpriv


def parent_death_prefix() -> list[str]:
    """The words to put before a program's argv so that it dies with this process; [] where impossible."""
    if not sys.platform.startswith("linux"):
        return []
    setpriv = _working_setpriv()
    if setpriv is not None:
        return setpriv
    if not sys.executable:  # embedded Python with no interpreter to run the wrapper
        return []
    return [sys.executable, "-I", "-S", "-c", WRAPPER, str(os.getpid())]
