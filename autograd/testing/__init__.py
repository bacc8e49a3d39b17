"""Tools for testing gradients: hypothesis strategies, the shared op table, SymPy twins.

Importing ``valuegrad.autograd.testing`` imports hypothesis (install ``valuegrad[testing]``);
``import valuegrad.autograd`` alone does not.
SymPy is imported only when a SymPy twin is first built.

>>> from valuegrad.autograd.testing import strategies, optable
>>> optable.row("x.tanh()").engine_op
'tanh'
"""

try:
    import hypothesis  # noqa: F401 - checked here so the message can name the extra
except ImportError as error:  # pragma: no cover - exercised in a subprocess by test_packaging
    raise ImportError(
        "valuegrad.autograd.testing needs Hypothesis (and SymPy for exact derivatives): "
        "pip install 'valuegrad[testing]'"
    ) from error

from . import optable, strategies
from .checker import check_derivative, explain_derivative
from .strategies import derivative_test

__all__ = ["check_derivative", "derivative_test", "explain_derivative", "optable", "strategies"]
