"""Every ```python block in README.md runs, each in a fresh namespace, so the README cannot rot.

Blocks run from a temporary directory (a block that saves a file leaves nothing behind)
and must not raise; a block that checks its own claims with ``assert`` is checked too.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
_PYTHON_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


def python_blocks(markdown: str) -> list[tuple[int, str]]:
    """(line number, code) of each fenced ```python block."""
    return [(markdown.count("\n", 0, m.start()) + 2, m.group(1)) for m in _PYTHON_BLOCK.finditer(markdown)]


BLOCKS = python_blocks(README.read_text(encoding="utf-8"))


def test_the_readme_has_python_examples() -> None:
    assert BLOCKS, "README.md has no ```python blocks; this test would check nothing"


@pytest.mark.parametrize(("line", "code"), BLOCKS, ids=[f"README.md:{line}" for line, _ in BLOCKS])
def test_readme_block_runs(line: int, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # Pad with newlines so a traceback's line numbers are README.md's own.
    compiled = compile("\n" * (line - 1) + code, str(README), "exec")
    exec(compiled, {"__name__": "__readme__"})


def test_block_extraction_finds_only_python_fences() -> None:
    text = "intro\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny = 2\nz = 3\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (9, "y = 2\nz = 3\n")]


def test_a_failing_block_fails() -> None:
    with pytest.raises(AssertionError):
        exec(compile("assert 1 + 1 == 3", "README.md", "exec"), {})
