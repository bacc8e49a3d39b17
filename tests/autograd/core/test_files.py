"""The file writer never destroys what it is pointed at (issue 11, items 1-3).

Regular files and new paths are replaced atomically; symbolic links are followed and kept;
FIFOs and devices are written through, never replaced by a regular file.
"""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
from pathlib import Path

import pytest

from valuegrad.autograd.core.files import write_atomic, write_bytes_atomic, write_text_atomic

posix_only = pytest.mark.skipif(os.name != "posix", reason="FIFOs, devices and /proc are POSIX")


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_a_new_file_and_a_replaced_file(tmp_path: Path) -> None:
    target = tmp_path / "model.json"
    write_text_atomic(target, "first")
    assert target.read_text(encoding="utf-8") == "first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    target.chmod(0o600)
    inode = target.stat().st_ino
    write_text_atomic(target, "second")
    assert target.read_text(encoding="utf-8") == "second"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600  # the user's permissions are kept
    assert target.stat().st_ino != inode  # a new file moved into place, not an overwrite
    assert leftovers(tmp_path) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "graph.svg"
    target.write_bytes(b"old")

    def explode(file: object) -> None:
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        write_atomic(target, explode)
    assert target.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("empty", ["", Path("")])
def test_an_empty_path_is_a_clear_error_and_nothing_is_written(
    empty: str | Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    if isinstance(empty, Path):  # Path("") is "."; the current directory is refused as a directory
        with pytest.raises(IsADirectoryError, match="directory"):
            write_bytes_atomic(empty, b"data")
    else:
        with pytest.raises(ValueError, match="empty path"):
            write_bytes_atomic(empty, b"data")
    assert list(tmp_path.iterdir()) == []


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match="it is a directory"):
        write_bytes_atomic(tmp_path, b"data")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_directory_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        write_bytes_atomic(tmp_path / "missing" / "g.svg", b"data")


# ---------------------------------------------------------------- symbolic links


@posix_only
def test_saving_through_a_symlink_replaces_its_target_and_keeps_the_link(tmp_path: Path) -> None:
    (tmp_path / "runs").mkdir()
    real = tmp_path / "runs" / "model.json"
    real.write_text("old model", encoding="utf-8")
    link = tmp_path / "latest.json"
    link.symlink_to(Path("runs") / "model.json")  # relative, as ln -s makes them
    chain = tmp_path / "current.json"
    chain.symlink_to(link)
    write_text_atomic(chain, "new model")
    assert chain.is_symlink() and link.is_symlink()
    assert os.readlink(link) == os.path.join("runs", "model.json")
    assert real.read_text(encoding="utf-8") == "new model"
    assert leftovers(tmp_path) == [] and leftovers(tmp_path / "runs") == []


@posix_only
def test_a_dangling_symlink_gets_its_target_created(tmp_path: Path) -> None:
    link = tmp_path / "link.svg"
    link.symlink_to(tmp_path / "made.svg")
    write_bytes_atomic(link, b"<svg/>")
    assert link.is_symlink()
    assert (tmp_path / "made.svg").read_bytes() == b"<svg/>"


@posix_only
def test_a_loop_of_symlinks_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(OSError, match="cannot write") as caught:
        write_bytes_atomic(tmp_path / "a", b"data")
    assert caught.value.errno == errno.ELOOP
    assert (tmp_path / "a").is_symlink() and (tmp_path / "b").is_symlink()


# ---------------------------------------------------------------- special files: written through


@posix_only
def test_dev_null_discards_and_stays_a_device() -> None:
    write_bytes_atomic("/dev/null", b"x" * 100_000)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@posix_only
@pytest.mark.skipif(not os.access("/dev/full", os.W_OK), reason="/dev/full is not writable here")
def test_dev_full_gives_a_clear_no_space_error_and_stays_a_device() -> None:
    with pytest.raises(OSError, match="cannot write /dev/full: No space left on device") as caught:
        write_bytes_atomic("/dev/full", b"model")
    assert caught.value.errno == errno.ENOSPC
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@posix_only
def test_a_fifo_receives_the_data_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        with open(fifo, "rb") as pipe:  # blocks until the writer opens it
            received.append(pipe.read())

    # A reader must have the FIFO open when the writer opens it; hold one open here. The payload is
    # bigger than a pipe's buffer, so the write can only finish once the thread has opened and read.
    descriptor = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    try:
        payload = b"0123456789" * 20_000
        write_bytes_atomic(fifo, payload)
    finally:
        os.close(descriptor)
    thread.join(timeout=30)
    assert received == [payload]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert leftovers(tmp_path) == []


@posix_only
def test_a_fifo_without_a_reader_is_an_error_at_once_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(OSError, match="FIFO with no reader") as caught:
        write_bytes_atomic(fifo, b"data")
    assert time.monotonic() - started < 5
    assert caught.value.errno == errno.ENXIO
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert leftovers(tmp_path) == []


@posix_only
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_a_pipe_named_through_proc_is_written_through(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    try:
        write_bytes_atomic(f"/proc/self/fd/{write_end}", b"through the pipe")
        os.close(write_end)
        write_end = -1
        assert os.read(read_end, 100) == b"through the pipe"
    finally:
        os.close(read_end)
        if write_end != -1:
            os.close(write_end)


@posix_only
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_a_regular_file_named_through_proc_is_written(tmp_path: Path) -> None:
    target = tmp_path / "out.svg"
    with open(target, "wb") as file:
        write_bytes_atomic(f"/proc/self/fd/{file.fileno()}", b"<svg/>")
    assert target.read_bytes() == b"<svg/>"
    assert leftovers(tmp_path) == []


# ---------------------------------------------------------------- the writers that use it


def test_graph_save_refuses_an_empty_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from valuegrad.autograd import Value, draw

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="empty path"):
        draw(Value(1.0)).save("")
    assert list(tmp_path.iterdir()) == []


@posix_only
def test_model_save_keeps_fifos_and_symlinks(tmp_path: Path) -> None:
    import valuegrad.nn as nn

    model = nn.MLP(2, [1], rng=0)
    fifo = tmp_path / "model.fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="FIFO with no reader"):
        model.save(fifo)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    real, link = tmp_path / "real.json", tmp_path / "link.json"
    real.write_text("{}", encoding="utf-8")
    link.symlink_to(real)
    model.save(link)
    assert link.is_symlink()
    assert nn.load(real).parameters()[0].data == model.parameters()[0].data
    with pytest.raises(ValueError, match="empty path"):
        model.save("")
