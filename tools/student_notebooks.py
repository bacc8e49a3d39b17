"""Write the notebooks as a student gets them: no solution cells, no wrong answers, no outputs.

    python tools/student_notebooks.py [--out build/student-notebooks]

Solution cells are the ones tagged ``solution``; an exercise stub's ``exercise`` metadata (which holds a
wrong answer for the tests) is dropped. Everything else is copied as it is.
"""

from __future__ import annotations

import argparse
import json
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def student_copy(nb: dict) -> dict:  # type: ignore[type-arg]
    cells = []
    for cell in nb["cells"]:
        if "solution" in cell.get("metadata", {}).get("tags", []):
            continue
        cell = dict(cell, metadata={k: v for k, v in cell.get("metadata", {}).items() if k != "exercise"})
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
        cells.append(cell)
    return dict(nb, cells=cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "build" / "student-notebooks")
    out = parser.parse_args().out
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = student_copy(json.loads(path.read_text(encoding="utf-8")))
        (out / path.name).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
