"""Modes and scopes: what every new node reads when it is made, held in ONE ContextVar.

A node reads one ``State`` (mode bits, innermost scope) with a single lookup, so
``no_grad``, ``detect_anomaly`` and ``scope(...)`` cost one ``ContextVar.get`` per node
together. A ContextVar (not a global) keeps each thread and async task's modes its own.

Two ways to change it, for two kinds of region:

* ``no_grad``, ``scope(...)`` and the other context managers may span a ``yield`` or an
  ``await``, so they bind a new ``State`` (``ContextVar.set``/``reset``): other tasks keep theirs.
* A synchronous call that cannot be suspended (``nn.Module.__call__``, thousands per training
  step) rewrites ``scope`` in place on a ``State`` its thread owns (``owned_state()``) and
  puts it back in a ``finally``, at a third of the cost of a set/reset pair. Ownership is
  checked per call, so two threads never rewrite one ``State``; a thread that meets
  another's (in a copied context: ``asyncio.to_thread``) starts from the scope that State
  was bound with, never from the other thread's module call. What that costs: nodes a
  thread makes *outside* any module call of its own, while sharing a copied context with
  a thread that is inside one, carry that module's scope (node creation checks no thread;
  drawing metadata only, never modes). And a context copied inside ``forward`` (a task it
  creates, ``copy_context().run``) sees the scope as it is when it runs, not as it was when
  copied.

Transform levels (``grad`` inside ``grad``) live in a second ContextVar that only the
transforms read, never node creation.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
from _thread import get_ident
from typing import Any, Callable, Generator, Iterator, Sequence, TypeVar

from . import checks

__all__ = ["Scope", "State", "current_scope", "detect_anomaly", "enable_grad", "no_grad", "scope"]

_F = TypeVar("_F", bound=Callable[..., Any])

NO_GRAD = 1
ANOMALY = 2
TRACING = 4  # a jit trace is recording this context's computation (``State.trace``)


class Tracer:
    """What a trace (``compiler.tracing.Recording``) is told while it records, in its own context only.

    The engine calls these where a number leaves it or a value appears; the base does nothing.
    Node creation never calls them: a traced node is made as a ``value.Traced`` instead.
    """

    #: ids of the traced inputs that the eager call passes as plain floats (a batch's numbers).
    numbers: frozenset[int] | set[int] = frozenset()

    def leaf(self, value: Any) -> None:
        """``Value(...)`` made a leaf (a constant of the traced function)."""

    def read(self, value: Any, number: float, depth: int) -> None:
        """A number of ``value`` reached Python (``float``, ``item``, ``repr``, ``.data``).

        ``depth``: how many frames up the reader is (0: always a read of the user's).
        """

    def compared(self, left: Any, symbol: str, right: Any, result: bool) -> None:
        """An order comparison of ``left`` gave ``result``."""

    def detached(self, out: Any, source: Any) -> None:
        """``source.detach()`` made ``out``."""

    def refuse(self, what: str) -> None:
        """``what`` cannot be replayed: raise."""


class Scope:
    """A named region of a computation (an RNN time step, an ``nn`` module's call).

    Every node made while the scope is open carries it (``Value.scope``); drawings cluster
    and collapse by it. ``key`` says which entries are the same region: two calls of one
    module share their module as key, so a drawing can merge them or tell them apart.
    The engine only stamps scopes; what they mean is up to the reader.
    """

    __slots__ = ("key", "label", "parent")

    def __init__(self, label: str, parent: Scope | None = None, key: object = None) -> None:
        if not isinstance(label, str):
            raise TypeError(f"scope label must be a str, got {type(label).__name__}")
        self.label = label
        self.parent = parent
        self.key = key

    def path(self) -> tuple[Scope, ...]:
        """This scope and its enclosing ones, outermost first."""
        chain: list[Scope] = []
        node: Scope | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return tuple(reversed(chain))

    def __repr__(self) -> str:
        return f"Scope({' / '.join(s.label for s in self.path())!r})"


class State:
    """Everything node creation reads, in one lookup: mode bits and the innermost open scope.

    ``thread`` is the thread allowed to rewrite ``scope`` in place (see the module
    docstring); the shared default has none, so nobody rewrites it. ``bound`` is the scope
    it was made with, which in-place rewriting never touches: what another thread that
    meets this State (in a copied context) takes as its own starting scope.
    """

    __slots__ = ("bound", "mode", "scope", "thread", "trace")

    def __init__(self, mode: int, scope: Scope | None, thread: int | None, trace: Tracer | None = None) -> None:
        self.mode = mode
        self.scope = self.bound = scope
        self.thread = thread
        self.trace = trace  # the jit trace recording this context, if any (mode has TRACING)


# The default is shared by every context but never rewritten: no thread owns it (B039's worry).
STATE: contextvars.ContextVar[State] = contextvars.ContextVar("valuegrad_state", default=State(0, None, None))  # noqa: B039


def _scope_here(state: State) -> Scope | None:
    """The scope this thread is in: the live one on its own State, else the State's bound one."""
    return state.scope if state.thread == get_ident() else state.bound


def owned_state() -> State:
    """This context's ``State``, first bound to a private copy if another thread (or nobody) owns it."""
    state = STATE.get()
    if state.thread != get_ident():
        # Not state.scope: the owner may be inside a module call right now, which is not ours.
        state = State(state.mode, state.bound, get_ident(), state.trace)
        STATE.set(state)  # for the rest of this context, like a thread's first no_grad()
    return state


#: How many function transforms (grad, hessian, ...) enclose the current code.
LEVEL: contextvars.ContextVar[int] = contextvars.ContextVar("valuegrad_level", default=0)


def current_scope() -> Scope | None:
    """The innermost open scope, or None."""
    return _scope_here(STATE.get())


# States left from another context, by the State they now stand in for (see _Entry.leave).
# Filled only when a generator suspended inside a block is closed from another thread or task.
_STANDING_IN: dict[State, list[State]] = {}


class _Entry:
    """One entry of a context manager that bound a new ``State``: how to leave it, from anywhere."""

    __slots__ = ("before", "entered", "outer", "token")

    def __init__(self, entered: State) -> None:
        state = STATE.get()
        self.before = (state.mode, _scope_here(state), state.trace)  # what the entering context had
        self.outer = state
        self.entered = entered
        self.token = STATE.set(entered)

    def leave(self) -> None:
        """Unbind ``entered``; from another context, put the entering context's mode and scope back in place.

        A generator suspended inside ``with no_grad()`` or ``with scope(...)`` and closed from
        another thread (or task) leaves the block there, where the token means nothing
        (contextvars' "created in a different Context"). The ``State`` bound on entry is
        this entry's own, so restoring its fields gives the entering context back what it
        had, and the leaving context keeps its own, untouched.
        """
        try:
            STATE.reset(self.token)
        except ValueError:  # another context: it never saw this State
            # The entering context still holds the innermost State of the blocks left so far:
            # each left State stands in for its outer one until that is left too.
            held = [self.entered, *_STANDING_IN.pop(self.entered, [])]
            mode, scope, trace = self.before
            for state in held:
                state.mode, state.scope, state.bound, state.trace = mode, scope, scope, trace
            _STANDING_IN.setdefault(self.outer, []).extend(held)


class scope:
    """Tag every node made inside with a new scope named ``label`` (nested in any open one).

    Each entry opens a fresh ``Scope`` with this label and key, so one ``scope`` object can be
    entered again, nested or one after another. ``as`` gives the ``Scope`` opened.

    >>> from valuegrad.autograd import Value, scope
    >>> h = Value(0.5)
    >>> with scope("t = 1"):
    ...     h = (h * 2.0).tanh()
    >>> h.scope.label
    't = 1'
    """

    def __init__(self, label: str, *, key: object = None) -> None:
        self.label = label
        self.key = key
        self._entries: list[_Entry] = []

    def __enter__(self) -> Scope:
        state = STATE.get()
        opened = Scope(self.label, _scope_here(state), self.key)
        self._entries.append(_Entry(State(state.mode, opened, get_ident(), state.trace)))
        return opened

    def __exit__(self, *exc: object) -> None:
        self._entries.pop().leave()

    def __repr__(self) -> str:
        return f"scope({self.label!r})"


@contextlib.contextmanager
def tracing(tracer: Tracer) -> Iterator[None]:
    """Record this context's computation into ``tracer`` (a jit trace); other threads and tasks are untouched.

    The trace records as a transform does, even inside an enclosing ``no_grad``.
    """
    state = STATE.get()
    token = STATE.set(State((state.mode | TRACING) & ~NO_GRAD, _scope_here(state), get_ident(), tracer))
    try:
        yield
    finally:
        STATE.reset(token)


@contextlib.contextmanager
def untraced() -> Iterator[None]:
    """Compute out of the trace's sight and without a graph: the trace's own twin of an eager number."""
    state = STATE.get()
    token = STATE.set(State((state.mode & ~TRACING) | NO_GRAD, _scope_here(state), get_ident(), None))
    try:
        yield
    finally:
        STATE.reset(token)


def refuse_in_trace(what: str) -> None:
    """Raise (through the trace) if this context is being traced: ``what`` would be frozen in the replay."""
    trace = STATE.get().trace
    if trace is not None:
        trace.refuse(what)


@contextlib.contextmanager
def transform_level(where: str = "a function transform", *, traceable: bool = False) -> Iterator[int]:
    """One level deeper for a transform's own work, recording even inside ``no_grad`` (as JAX).

    A jit trace is itself a level, so a ``traceable`` transform inside one answers in Values
    (nested), which the trace records; any other is refused there, its numbers would be frozen.
    """
    level = LEVEL.get() + 1
    if not traceable or level == 1:  # at level 1 the answers are floats: a trace would freeze them
        refuse_in_trace(f"{where}()")
    token = LEVEL.set(level)
    try:
        with enable_grad():
            yield level
    finally:
        LEVEL.reset(token)


class _ModeSwitch:
    """Context manager and decorator that sets or clears one mode bit for its extent.

    As a decorator it wraps plain functions, generator functions (every resumption of the
    generator runs inside the mode, not just its creation) and ``async def`` coroutines
    (the mode holds across awaits within the task, and never leaks to other tasks).
    """

    _set = 0
    _clear = 0

    def __init__(self) -> None:
        self._entries: list[_Entry] = []

    def __enter__(self) -> None:
        state = STATE.get()
        if self._set & NO_GRAD and state.trace is not None:
            state.trace.refuse("no_grad()")
        mode = (state.mode | self._set) & ~self._clear
        self._entries.append(_Entry(State(mode, _scope_here(state), get_ident(), state.trace)))

    def __exit__(self, *exc: object) -> None:
        self._entries.pop().leave()

    def __call__(self, func: _F) -> _F:
        checks.function(func, "the decorated object", f"{type(self).__name__}()")
        switch = type(self)
        import inspect  # here, not at the top: it is a tenth of `import valuegrad.autograd`

        if inspect.isgeneratorfunction(func):
            return _wrap_generator(switch, func)  # type: ignore[no-any-return]
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def coroutine(*args: Any, **kwargs: Any) -> Any:
                with switch():
                    return await func(*args, **kwargs)

            return coroutine  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with switch():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _wrap_generator(switch: Callable[[], _ModeSwitch], func: Callable[..., Generator[Any, Any, Any]]) -> Any:
    """Run each step of the generator (start, send, throw, close) inside the mode, as torch does."""

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        with switch():
            gen = func(*args, **kwargs)
        try:
            with switch():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with switch():
                        gen.close()
                    raise
                except BaseException as error:  # forwarded into the generator
                    with switch():
                        response = gen.throw(error)
                else:
                    with switch():
                        response = gen.send(request)
        except StopIteration as done:
            return done.value

    return generator


class no_grad(_ModeSwitch):
    """Values made inside record no parents (a context manager and a decorator).

    The flag lives in a ContextVar, so other threads and async tasks are unaffected.
    The function transforms (``grad``, ``hessian``, ...) and ``gradcheck`` record
    regardless, as JAX's do: they open ``enable_grad()`` around their own work.
    """

    _set = NO_GRAD


class enable_grad(_ModeSwitch):
    """Record parents again inside an enclosing ``no_grad`` (a context manager and a decorator), as in PyTorch."""

    _clear = NO_GRAD


class detect_anomaly(_ModeSwitch):
    """Raise ``FloatingPointError`` at the first nan/inf an op makes, forward or backward.

    The error names the op and shows where its node was created. Outside this
    context there is no cost beyond the one mode lookup every node already does.
    """

    _set = ANOMALY


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep  # all of autograd/


def creation_trace() -> list[str]:
    """The current stack without valuegrad's own frames: where the user made a node."""
    import traceback  # only anomaly mode needs it

    frames = [f for f in traceback.extract_stack() if not f.filename.startswith(_PACKAGE_DIR)]
    return traceback.format_list(frames)


def anomaly_message(op_name: str, trace: Sequence[str], what: str) -> str:
    """What ``detect_anomaly`` raises: the op, what went wrong, and where its node was made."""
    where = "".join(trace).rstrip()
    if not where:
        where = "  (created outside detect_anomaly(), so its creation point was not recorded)"
    return f"op '{op_name}' {what}.\nThat node was created at (most recent call last):\n{where}"
