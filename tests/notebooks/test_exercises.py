"""The notebooks' exercises, run three ways: with the solutions, with the stubs, with a plausible wrong answer.

An exercise is three code cells: a stub tagged ``exercise`` (an unfinished answer, active in the committed
notebook; its metadata ``exercise.wrong`` holds a plausible wrong answer), a check tagged ``check`` that prints
its verdict instead of raising, and the solution, tagged ``solution`` and ``skip-execution`` and hidden.
With every stub replaced by its solution each check prints "Right"; with the stubs, and with the wrong answers,
each check prints the input, the expected value and the value got.
"""

from __future__ import annotations

import copy
import os
import pathlib
import re
import subprocess
import sys
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = pathlib.Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted(
    p
    for p in (ROOT / "notebooks").glob("*.ipynb")
    if any("exercise" in c.get("metadata", {}).get("tags", []) for c in nbformat.read(str(p), as_version=4).cells)
)
# "at x = 0.5", "at w = 1.0, b = -2.0", then the engine's value and the answer's.
EXPLAINED = re.compile(r" at \w+ = \S+.*: expected .+, got .+")


def tags(cell: Any) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def exercises(nb: Any) -> list[tuple[int, int, int]]:
    """(stub, check, solution) cell indices, in order: each stub's next check and next solution."""
    found = []
    for i, cell in enumerate(nb.cells):
        if "exercise" in tags(cell):
            check = next(j for j in range(i + 1, len(nb.cells)) if "check" in tags(nb.cells[j]))
            solution = next(j for j in range(i + 1, len(nb.cells)) if "solution" in tags(nb.cells[j]))
            found.append((i, check, solution))
    return found


def run(nb: Any, tmp_path: pathlib.Path) -> Any:
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    path = os.pathsep.join(p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH")) if p)
    client.execute(env={**os.environ, "PYTHONPATH": path})
    return nb


def printed(cell: Any) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def with_answers(nb: Any, which: str) -> Any:
    """A copy of ``nb`` whose stubs hold the solutions (``which="solution"``) or the wrong answers."""
    nb = copy.deepcopy(nb)
    for stub, _, solution in exercises(nb):
        source = nb.cells[solution].source if which == "solution" else nb.cells[stub].metadata["exercise"]["wrong"]
        nb.cells[stub].source = source
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_exercise_cells_are_well_formed(path: pathlib.Path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    found = exercises(nb)
    assert found
    for stub, check, solution in found:
        assert stub < check < solution, f"{path.name}: stub {stub}, check {check}, solution {solution} out of order"
        assert "skip-execution" in tags(nb.cells[solution]), f"{path.name}: solution cell {solution} would run"
        assert nb.cells[solution].metadata.get("jupyter", {}).get("source_hidden") is True
        assert nb.cells[stub].metadata["exercise"]["wrong"].strip()
    assert len({s for _, _, s in found}) == len(found), "two exercises share a solution cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_solutions_pass_stubs_and_wrong_answers_are_explained(path: pathlib.Path, tmp_path: pathlib.Path) -> None:
    nb = nbformat.read(str(path), as_version=4)
    for which in ("solution", "stub", "wrong"):
        ran = run(nb if which == "stub" else with_answers(nb, which), tmp_path)
        for _, check, _ in exercises(ran):
            message = printed(ran.cells[check])
            if which == "solution":
                assert message.startswith("Right"), f"{path.name} cell {check}, solution: {message!r}"
            else:
                assert EXPLAINED.search(message), f"{path.name} cell {check}, {which}: {message!r}"


def test_there_are_at_least_ten_exercises() -> None:
    count = sum(len(exercises(nbformat.read(str(p), as_version=4))) for p in NOTEBOOKS)
    assert count >= 10, count


def test_student_notebooks_have_no_solutions(tmp_path: pathlib.Path) -> None:
    script = ROOT / "tools" / "student_notebooks.py"
    subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True, cwd=ROOT)
    written = sorted(tmp_path.glob("*.ipynb"))
    assert [p.name for p in written] == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    for p in written:
        nb = nbformat.read(str(p), as_version=4)
        assert not any("solution" in tags(c) for c in nb.cells), p.name
        assert not any("exercise" in c.metadata and "wrong" in c.metadata["exercise"] for c in nb.cells), p.name
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), p.name
    assert sum(len([c for c in nbformat.read(str(p), as_version=4).cells if "exercise" in tags(c)]) for p in written)
