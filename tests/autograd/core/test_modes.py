"""Modes as context managers and decorators: no_grad, enable_grad, on functions, generators and coroutines."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from valuegrad.autograd import Value, detect_anomaly, enable_grad, no_grad


def records(x: Value) -> bool:
    """Whether a node made now records its parents."""
    return (x * 2.0).parents == (x,)


def test_enable_grad_records_inside_no_grad_and_restores() -> None:
    x = Value(1.0)
    with no_grad():
        assert not records(x)
        with enable_grad():
            assert records(x)
        assert not records(x)
    assert records(x)


def test_enable_grad_is_a_decorator_too() -> None:
    x = Value(1.0)

    @enable_grad()
    def build() -> Value:
        return x * 2.0

    with no_grad():
        assert build().parents == (x,)


def test_no_grad_on_a_generator_function_covers_every_step_and_leaves_the_caller_alone() -> None:
    x = Value(1.0)

    @no_grad()
    def steps() -> Iterator[Value]:
        for _ in range(3):
            yield x * 2.0

    seen = []
    for y in steps():
        seen.append(y.parents)
        assert records(x)  # between steps the caller's mode holds
    assert seen == [(), (), ()]


def test_mode_on_a_generator_passes_send_throw_and_return_through() -> None:
    x = Value(1.0)

    @no_grad()
    def echo() -> Iterator[object]:
        got = yield "ready"
        try:
            yield (got, records(x))
        except KeyError:
            yield "caught"
        return "done"

    gen = echo()
    assert next(gen) == "ready"
    assert gen.send("hi") == ("hi", False)
    assert gen.throw(KeyError("k")) == "caught"
    with pytest.raises(StopIteration) as stop:
        next(gen)
    assert stop.value.value == "done"


def test_enable_grad_on_a_generator_inside_no_grad() -> None:
    x = Value(1.0)

    @enable_grad()
    def steps() -> Iterator[bool]:
        yield records(x)
        yield records(x)

    with no_grad():
        assert list(steps()) == [True, True]


def test_no_grad_on_async_def_holds_across_awaits() -> None:
    x = Value(1.0)

    @no_grad()
    async def work() -> tuple[bool, bool]:
        before = records(x)
        await asyncio.sleep(0)
        return before, records(x)

    assert asyncio.run(work()) == (False, False)
    assert records(x)


def test_a_mode_refuses_to_decorate_a_non_callable() -> None:
    for switch in (no_grad, enable_grad, detect_anomaly):
        with pytest.raises(TypeError, match=r"must be callable"):
            switch()(5)  # type: ignore[type-var]


def test_transforms_and_gradcheck_record_inside_no_grad() -> None:
    from valuegrad.autograd import grad, gradcheck, hessian, value_and_grad

    with no_grad():
        assert grad(lambda x: x * x)(3.0) == 6.0
        assert value_and_grad(lambda x: x * x)(3.0) == (9.0, 6.0)
        assert hessian(lambda x: x**3)(2.0) == [[12.0]]
        assert gradcheck(lambda x: x.sin() * x, 0.7, order=2)
        assert not records(Value(1.0))  # and the enclosing no_grad still holds afterwards


# ---------------------------------------------------------------- scopes reused, and blocks left from elsewhere


def test_one_scope_object_enters_again_nested_and_one_after_another() -> None:
    from valuegrad.autograd import scope

    region = scope("a", key="k")
    with region as outer, region as inner:
        nested = Value(1.0) * 2.0
    with region as again:
        later = Value(1.0) * 2.0
    assert repr(nested.scope) == "Scope('a / a')" and nested.scope is inner and inner.parent is outer
    assert later.scope is again and again is not outer and again.parent is None and again.key == "k"
    assert (Value(1.0) * 2.0).scope is None


def _run_in_thread(work) -> list[object]:
    import threading

    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(work()))
    thread.start()
    thread.join()
    return seen


@pytest.mark.parametrize("blocks", ["scope", "no_grad", "both"])
def test_a_generator_closed_from_another_thread_leaves_every_threads_mode_and_scope(blocks: str) -> None:
    """The block is left in the closing thread: no contextvars error, and both threads end as they began."""
    from valuegrad.autograd import current_scope, scope
    from valuegrad.autograd.core.modes import STATE

    def suspended() -> Iterator[int]:
        if blocks == "scope":
            with scope("g"):
                yield 1
        elif blocks == "no_grad":
            with no_grad():
                yield 1
        else:
            with scope("g"), no_grad():
                yield 1

    with scope("main"):
        before = (STATE.get().mode, current_scope())
        generator = suspended()
        next(generator)

        def close() -> tuple[object, ...]:
            other_before = (STATE.get().mode, current_scope())
            generator.close()  # raised ValueError: <Token ...> was created in a different Context
            return other_before, (STATE.get().mode, current_scope())

        ((other_before, other_after),) = _run_in_thread(close)
        assert other_after == other_before == (0, None)  # the closing thread: untouched
        assert (STATE.get().mode, current_scope()) == before  # this thread: back where it was
        made = Value(1.0) * 2.0
        assert made.parents and made.scope is before[1]
    assert current_scope() is None and (Value(1.0) * 2.0).scope is None
