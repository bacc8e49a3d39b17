"""The distribution: one installed name, living beside HIPS autograd, one command, light imports.

The wheel and venv tests build the real wheel and install it into fresh virtual environments,
so they need pip to reach an index (PyPI or a mirror); they are part of CI.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIP_TIMEOUT = 600


def _run(command: list[str], cwd: Path | None = None, timeout: float = PIP_TIMEOUT) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)])
    (built,) = out.glob("valuegrad-*.whl")
    return built


def test_the_wheel_installs_one_top_level_name_and_the_license(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"valuegrad"}
    assert any(name.endswith(".dist-info/licenses/LICENSE") for name in names)
    assert {"valuegrad/autograd/core/value.py", "valuegrad/nn/module.py", "valuegrad/py.typed"} <= set(names)
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "valuegrad = valuegrad.__main__:main" in text and "[hypothesis]" in text


def test_the_sdist_carries_what_pytest_needs(tmp_path: Path) -> None:
    pytest.importorskip("build")
    _run([sys.executable, "-m", "build", "--sdist", "-o", str(tmp_path), str(ROOT)])
    (sdist,) = tmp_path.glob("valuegrad-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    tracked = [
        "tests/conftest.py",
        "LICENSE",
        "Makefile",
        "src/valuegrad/autograd/core/value.py",
        "src/valuegrad/autograd/viz/render.py",
    ]
    tracked += [f"notebooks/{p.name}" for p in (ROOT / "notebooks").glob("*.ipynb")]
    tracked += [
        p.relative_to(ROOT).as_posix() for p in (ROOT / "tests").rglob("test_*.py") if "node_modules" not in p.parts
    ]
    missing = [name for name in tracked if name not in names]
    assert not missing, f"the sdist lacks {missing}"


# What each order must still be able to do: HIPS autograd differentiates numpy code, and
# valuegrad's engine, networks and command all work, in the same environment.
USE_BOTH = textwrap.dedent(
    """
    import autograd.numpy as np
    from autograd import elementwise_grad, grad
    assert abs(grad(np.tanh)(0.5) - (1 - np.tanh(0.5) ** 2)) < 1e-12
    assert list(elementwise_grad(lambda x: x ** 2)(np.array([1.0, 2.0]))) == [2.0, 4.0]

    from valuegrad.autograd import Value
    import valuegrad.nn as nn
    x = Value(0.5)
    y = x.tanh()
    y.backward()
    assert abs(x.grad - (1 - y.data ** 2)) < 1e-15
    assert len(nn.MLP(2, [3, 1], rng=0).parameters()) == 13
    print("both work")
    """
)


@pytest.mark.parametrize("order", ["valuegrad-first", "hips-first"])
def test_valuegrad_and_hips_autograd_live_side_by_side(order: str, wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = str(env_dir / "bin" / "python")
    installs = [[str(wheel)], ["autograd"]]
    if order == "hips-first":
        installs.reverse()
    for what in installs:
        _run([python, "-m", "pip", "install", "-q", *what])
    assert _run([python, "-c", USE_BOTH], cwd=tmp_path).stdout.strip() == "both work"
    help_text = _run([str(env_dir / "bin" / "valuegrad"), "--help"]).stdout
    assert all(command in help_text for command in ("train", "draw", "grad"))
    # Removing either leaves the other whole (they share no files).
    _run([python, "-m", "pip", "uninstall", "-q", "-y", "autograd"])
    _run([python, "-c", "from valuegrad.autograd import Value; import valuegrad.nn"], cwd=tmp_path)


def test_one_command_lists_train_draw_and_grad() -> None:
    done = _run([sys.executable, "-m", "valuegrad", "--help"])
    assert done.stdout.startswith("usage: valuegrad ")
    for command in ("train", "draw", "grad"):
        assert f"\n  {command} " in done.stdout
    assert _run([sys.executable, "-m", "valuegrad", "train", "--help"]).stdout.startswith("usage: valuegrad train")
    assert _run([sys.executable, "-m", "valuegrad", "grad", "--help"]).stdout.startswith("usage: valuegrad grad")
    done = _run([sys.executable, "-m", "valuegrad", "grad", "x*y", "x=2", "y=3"])
    assert "df/dx = 3.0" in done.stdout
    bad = subprocess.run([sys.executable, "-m", "valuegrad", "fly"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "choose train, draw or grad" in bad.stderr


def test_mypy_outside_the_repository_sees_the_types(tmp_path: Path) -> None:
    pytest.importorskip("mypy")
    script = tmp_path / "use.py"
    script.write_text(
        "from valuegrad.autograd import Value\nimport valuegrad.nn as nn\nn_params: str = 1\nx: int = Value(1.0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--cache-dir", os.devnull, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Seeing "Value" in the error proves mypy resolved the package (a hidden one would be Any or missing).
    assert 'expression has type "Value", variable has type "int"' in done.stdout, done.stdout
    assert "Cannot find implementation" not in done.stdout and "missing library stubs" not in done.stdout


def test_the_testing_module_names_its_extra_when_hypothesis_is_missing() -> None:
    code = "import sys; sys.modules['hypothesis'] = None\nimport valuegrad.autograd.testing"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "ImportError" in done.stderr and "pip install 'valuegrad[testing]'" in done.stderr


def test_importing_the_packages_loads_nothing_heavy() -> None:
    code = (
        "import sys, valuegrad.autograd, valuegrad.nn\n"
        "heavy = {'graphviz', 'subprocess', 'json', 'hypothesis', 'sympy', 'matplotlib', 'tqdm', 'inspect',"
        " 'dataclasses', 'traceback', 'random',"
        " 'valuegrad.autograd.viz.draw', 'valuegrad.autograd.gradient_check'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    done = _run([sys.executable, "-c", code])
    assert done.stdout.strip() == "[]"
    # ...and the lazily loaded names are still there.
    code = "import valuegrad.autograd as ag, valuegrad.nn as nn; print(ag.draw.__name__, ag.gradcheck.__name__, "
    code += "nn.load.__name__)"
    assert _run([sys.executable, "-c", code]).stdout.split() == ["draw", "gradcheck", "load"]


def test_hypothesis_draws_sane_values_from_the_type() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from valuegrad.autograd import Value

    seen: list[Value] = []

    @settings(max_examples=50, database=None)
    @given(st.from_type(Value))
    def collect(v: Value) -> None:
        seen.append(v)

    collect()
    assert all(isinstance(v, Value) and abs(v.data) <= 1e3 for v in seen)
    assert all(v.label is None or (v.label.isidentifier() and len(v.label) <= 8) for v in seen)


def test_our_profiles_leave_hypothesis_ci_profile_alone() -> None:
    from hypothesis import settings
    from hypothesis.errors import InvalidArgument

    ours = settings.get_profile("valuegrad-ci")
    assert ours.max_examples == 30 and ours.deadline is None
    try:
        builtin = settings.get_profile("ci")
    except InvalidArgument:
        pytest.skip("this Hypothesis has no built-in ci profile")
    # Hypothesis's own (derandomized, no database, its usual example count), not replaced by ours
    assert builtin.derandomize and builtin.database is None and builtin.max_examples != ours.max_examples
