"""Tools for testing gradients: hypothesis strategies, the shared op table, SymPy twins.

Importing ``autograd.testing`` imports hypothesis; ``import autograd`` alone does not.
SymPy is imported only when a SymPy twin is first built.

>>> from valuegrad.autograd.testing import strategies, optable
>>> optable.row("x.tanh()").engine_op
'tanh'
"""

from valuegrad.autograd.testing import optable, strategies
from valuegrad.autograd.testing.strategies import derivative_test

__all__ = ["derivative_test", "optable", "strategies"]
