"""Writing files without ever destroying what the user pointed us at.

* A new path or an existing **regular file** is written atomically: a temporary file
  in the same directory, flushed and fsynced, then ``os.replace``d over the target. A
  reader never sees half a file; if writing fails the temporary file is removed and the
  old file is left exactly as it was. Its permission bits are kept.
* A **symbolic link** is followed: the file it points to is replaced atomically and the
  link stays a link (a dangling link gets its target created).
* An existing **non-regular file** -- a FIFO, ``/dev/null``, ``/dev/full``, a terminal
  -- is *written through*, as a shell's ``>`` would: it is never replaced by a regular
  file. ``/dev/null`` discards the data, ``/dev/full`` fails with ENOSPC, and a FIFO
  receives the data. A FIFO that nobody is reading is an error at once (it is opened
  non-blocking first), not a hang. Sockets and directories are refused.
* An empty path is a ``ValueError``, before anything is created.

Errors are ``OSError``s whose message names the file and says what went wrong.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from typing import IO, Callable

__all__ = ["write_atomic", "write_bytes_atomic", "write_text_atomic"]

Writer = Callable[[IO[bytes]], object]


def _failure(error_number: int, target: str, what: str) -> OSError:
    """An OSError of the right subclass (FileNotFoundError, IsADirectoryError, ...) with a one-line message."""
    return OSError(error_number, f"cannot write {target}: {what}")


def write_atomic(path: str | os.PathLike[str], write: Writer) -> None:
    """Call ``write(file)`` with a binary file that ends up as ``path`` (see the module docstring)."""
    target = os.fspath(path)
    if not isinstance(target, str):
        raise TypeError(f"a path must be text, got {type(target).__name__}")
    if not target:
        raise ValueError("cannot write to an empty path: give a file name")
    try:
        status = os.stat(target)  # follows links, as the kernel will
    except FileNotFoundError:
        status = None
    except OSError as error:  # a loop of links, a component that is not a directory, ...
        raise _failure(error.errno or errno.EINVAL, target, error.strerror or str(error)) from None
    if status is not None and not stat.S_ISREG(status.st_mode):
        if _write_through(target, status, write):
            return
        status = None  # it vanished meanwhile: create it
    _replace(target, status, write)


def _write_through(target: str, status: os.stat_result, write: Writer) -> bool:
    """Write into an existing special file; False if it has gone (or become a regular file) meanwhile."""
    if stat.S_ISDIR(status.st_mode):
        raise _failure(errno.EISDIR, target, "it is a directory; give a file name")
    if stat.S_ISSOCK(status.st_mode):
        raise _failure(errno.ENXIO, target, "it is a socket, which cannot be written as a file")
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(target, flags)
    except FileNotFoundError:
        return False
    except OSError as error:
        if error.errno == errno.ENXIO and stat.S_ISFIFO(status.st_mode):
            raise _failure(errno.ENXIO, target, "it is a FIFO with no reader; start the reader first") from None
        raise _failure(error.errno or errno.EIO, target, error.strerror or str(error)) from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            if stat.S_ISREG(os.fstat(descriptor).st_mode):
                return False  # swapped for a regular file since we looked: replace it atomically instead
            if hasattr(os, "set_blocking"):
                os.set_blocking(descriptor, True)  # non-blocking was only to detect a FIFO without a reader
            write(file)
    except OSError as error:  # ENOSPC from /dev/full, EPIPE when a FIFO's reader goes away, ...
        raise _failure(error.errno or errno.EIO, target, error.strerror or str(error)) from None
    return True


def _resolved(target: str) -> str:
    """Where the data really goes: the final target of a chain of symbolic links."""
    if not os.path.islink(target):
        return target
    real = os.path.realpath(target)
    if os.path.islink(real):  # realpath gives up on a loop
        raise _failure(errno.ELOOP, target, "its symbolic links form a loop")
    return real


def _replace(target: str, status: os.stat_result | None, write: Writer) -> None:
    """Write a temporary file beside the (link-resolved) target and move it into place."""
    destination = _resolved(target)
    if status is not None:
        try:
            same_file = os.path.samestat(os.stat(destination), status)
        except OSError:
            same_file = False
        if not same_file:  # e.g. /dev/stdout -> /proc/self/fd/1 -> a file realpath cannot name
            _write_in_place(target, write)
            return
    directory = os.path.dirname(os.path.abspath(destination))
    if not os.path.isdir(directory):
        raise _failure(errno.ENOENT, target, f"directory {directory} does not exist")
    # A new file gets rw-r--r-- (asking for the umask would briefly change it for every thread).
    mode = stat.S_IMODE(status.st_mode) if status is not None else 0o644
    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{os.path.basename(destination)}.", suffix=".tmp"
        )
    except OSError as error:
        raise _failure(error.errno or errno.EIO, target, error.strerror or str(error)) from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            os.chmod(temporary, mode)  # mkstemp makes it private (0600)
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, destination)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def _write_in_place(target: str, write: Writer) -> None:
    """A regular file reached by a path we cannot resolve to a name: truncate and write it."""
    with open(target, "wb") as file:
        write(file)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` (atomically where the target allows it; see the module docstring)."""
    write_atomic(path, lambda file: file.write(data))


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` as UTF-8 to ``path`` (atomically where the target allows it)."""
    write_bytes_atomic(path, text.encode("utf-8"))
