"""SymPy twins: a symbolic copy of a function whose derivatives serve as an exact oracle.

SymPy is imported only when a twin is built, never by ``import autograd``. Each
twin differentiates once and compiles each derivative once (``lambdify`` with
common-subexpression elimination, evaluated with :mod:`math` in float64), so
evaluating it at many points is cheap.

>>> import sympy
>>> x, y = sympy.symbols("x0 x1", real=True)
>>> twin = SympyTwin(x * sympy.sin(y), (x, y))
>>> twin.gradient(2.0, 0.0)
[0.0, 2.0]
>>> twin.hessian(2.0, 0.0)
[[0.0, 1.0], [1.0, -0.0]]
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from .kinks import FLOATS
from .optable import OpRow

__all__ = ["SympyTwin", "row_twin"]


def _sympy() -> Any:
    try:
        import sympy
    except ImportError as error:  # pragma: no cover - sympy is in the test extra
        raise ImportError("SymPy twins need sympy: pip install 'valuegrad[testing]'") from error
    return sympy


class SympyTwin:
    """``expr`` in ``symbols`` (differentiated) and ``params`` (held constant), compiled lazily.

    Every method takes the values of ``symbols`` then of ``params``, as floats.
    """

    def __init__(self, expr: Any, symbols: Sequence[Any], params: Sequence[Any] = ()) -> None:
        self.expr = expr
        self.symbols = tuple(symbols)
        self.params = tuple(params)
        self._value: Callable[..., Any] | None = None
        self._gradient: list[Callable[..., Any]] | None = None
        self._hessian: list[list[Callable[..., Any]]] | None = None

    def _compile(self, expr: Any) -> Callable[..., Any]:
        sympy = _sympy()
        return sympy.lambdify([*self.symbols, *self.params], expr, modules=[FLOATS, "math"], cse=True)  # type: ignore[no-any-return]

    def value(self, *args: float) -> float:
        if self._value is None:
            self._value = self._compile(self.expr)
        return float(self._value(*args))

    def gradient(self, *args: float) -> list[float]:
        """∂expr/∂symbol for each symbol."""
        if self._gradient is None:
            sympy = _sympy()
            self._gradient = [self._compile(sympy.diff(self.expr, s)) for s in self.symbols]
        return [float(g(*args)) for g in self._gradient]

    def hessian(self, *args: float) -> list[list[float]]:
        """∂²expr/∂symbol_i∂symbol_j as a list of rows."""
        if self._hessian is None:
            sympy = _sympy()
            n = len(self.symbols)
            firsts = [sympy.diff(self.expr, s) for s in self.symbols]
            compiled: dict[tuple[int, int], Callable[..., Any]] = {}
            for i in range(n):
                for j in range(i, n):
                    compiled[i, j] = compiled[j, i] = self._compile(sympy.diff(firsts[i], self.symbols[j]))
            self._hessian = [[compiled[i, j] for j in range(n)] for i in range(n)]
        return [[float(h(*args)) for h in line] for line in self._hessian]

    def __repr__(self) -> str:
        return f"SympyTwin({self.expr})"


@functools.cache
def row_twin(row: OpRow) -> SympyTwin:
    """The SymPy twin of one op row, built and compiled once per process."""
    sympy = _sympy()
    symbols = [sympy.Symbol(f"x{i}", real=True) for i in range(row.arity)]
    params = [sympy.Symbol(f"c{i}", real=True) for i in range(len(row.constants))]
    return SympyTwin(row.sympy(sympy, *symbols, *params), symbols, params)
