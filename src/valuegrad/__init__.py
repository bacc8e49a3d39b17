"""valuegrad: scalar reverse-mode automatic differentiation for teaching and testing.

The engine is ``valuegrad.autograd`` and the networks are ``valuegrad.nn``, arranged as
``torch.autograd`` and ``torch.nn``. Importing ``valuegrad`` alone imports neither, so the
``valuegrad`` command starts fast.

>>> from valuegrad.autograd import Value
>>> import valuegrad.nn as nn
"""

__version__ = "0.3.0"
