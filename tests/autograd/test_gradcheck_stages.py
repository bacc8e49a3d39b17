"""gradcheck's checks run in a fixed order and stop at the first failure: counted in calls of ``f``.

One evaluation, then 2n for the first-derivative differences, none for the second backward pass
(it reuses the graph), one per seed (0, then 2), and 2n more for the second-derivative columns.
"""

from __future__ import annotations

from typing import Any, Callable

import pytest

from valuegrad.autograd import GradcheckError, Value, gradcheck


def counted(f: Callable[..., Any]) -> tuple[Callable[..., Any], list[tuple[float, ...]]]:
    calls: list[tuple[float, ...]] = []

    def wrapper(*xs: Value) -> Any:
        calls.append(tuple(x.data for x in xs))
        return f(*xs)

    return wrapper, calls


def unstable_second_pass(x: Value) -> Value:
    """Right on the first backward pass, three times too large on the next (a hook that counts)."""
    seen: list[int] = []

    def hook(g: Any) -> Any:
        seen.append(1)
        return g if len(seen) % 2 else 3 * g

    y = x.exp()
    y.register_hook(hook)
    return y * 2.0


def ignores_the_seed(x: Value) -> Value:
    y = x * 3.0
    y.register_hook(lambda g: 1.0)
    return y


def loses_second_order(x: Value) -> Value:
    h = x * x
    h.register_hook(lambda g: Value(g.data) if isinstance(g, Value) else g)
    return h.sin()


@pytest.mark.parametrize(
    ("f", "inputs", "order", "calls", "title"),
    [
        (lambda x, y: (x * y).tanh(), (0.3, -1.2), 1, 1 + 4 + 2, None),
        (lambda x, y: (x * y).tanh(), (0.3, -1.2), 2, 1 + 4 + 2 + 4, None),
        (lambda x: 3.0, (1.0,), 1, 1 + 2, None),  # a plain number: no backward pass to repeat or seed
        (lambda x: 3.0, (1.0,), 2, 1 + 2 + 2, None),
        (lambda x: x * x.data, (1.5,), 2, 1 + 2, "first derivatives disagree"),
        (unstable_second_pass, (0.3,), 2, 1 + 2, "second backward pass"),
        (ignores_the_seed, (0.5,), 2, 1 + 2 + 1, r"backward\(0\) is not 0 × backward\(1\)"),
        (loses_second_order, (0.7,), 2, 1 + 2 + 2 + 2, "second derivatives disagree"),
    ],
)
def test_each_check_runs_in_turn_and_a_failure_stops_the_rest(
    f: Callable[..., Any], inputs: tuple[float, ...], order: int, calls: int, title: str | None
) -> None:
    quiet, quiet_calls = counted(f)
    assert gradcheck(quiet, *inputs, order=order, raise_exception=False) is (title is None)
    assert len(quiet_calls) == calls
    assert quiet_calls[0] == inputs  # the first call is at the point itself
    if title is not None:
        loud, loud_calls = counted(f)
        with pytest.raises(GradcheckError, match=title):
            gradcheck(loud, *inputs, order=order)
        assert loud_calls == quiet_calls


def test_the_differences_step_each_input_up_then_down() -> None:
    f, calls = counted(lambda x, y: x * y)
    gradcheck(f, 1.0, 2.0, eps=0.5)
    assert calls[:5] == [(1.0, 2.0), (1.5, 2.0), (0.5, 2.0), (1.0, 2.5), (1.0, 1.5)]
    assert calls[5:] == [(1.0, 2.0), (1.0, 2.0)]  # the seeds 0 and 2, at the point


def test_the_second_order_table_lists_every_pair_row_by_row_under_the_tolerances() -> None:
    def f(x: Value, y: Value) -> Value:
        h = x * y
        h.register_hook(lambda g: Value(g.data) if isinstance(g, Value) else g)
        return h.sin()

    with pytest.raises(GradcheckError) as info:
        gradcheck(f, 0.7, 0.4, order=2, atol=1e-7)
    assert [row.what for row in info.value.rows] == ["d²/dx[0]²", "d²/dx[0]dx[1]", "d²/dx[1]dx[0]", "d²/dx[1]²"]
    assert all(row.atol == 1e-7 and row.rtol == 1e-6 for row in info.value.rows)
    title, legend = str(info.value).splitlines()[:2]
    assert title == "gradcheck: analytic and numeric second derivatives disagree"
    assert legend == "(eps=1e-06, atol=1e-07, rtol=1e-06, ✗ marks a failure)"


def test_a_second_pass_and_a_seed_are_judged_exactly_and_named_so() -> None:
    with pytest.raises(GradcheckError) as info:
        gradcheck(unstable_second_pass, 0.3, atol=1.0, rtol=1.0)
    (row,) = info.value.rows
    assert (row.atol, row.rtol) == (0.0, 0.0) and row.analytic == 3 * row.expected
    assert str(info.value).splitlines()[1].split() == [
        "input",
        "2nd",
        "pass",
        "1st",
        "pass",
        "abs",
        "err",
        "rel",
        "err",
    ]
    with pytest.raises(GradcheckError) as info:
        gradcheck(ignores_the_seed, 0.5, atol=1.0, rtol=1.0)
    assert str(info.value).splitlines()[1].split()[:5] == ["input", "seed", "0", "0", "×"]
