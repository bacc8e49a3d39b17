"""Compiled replay: ``jit`` traces a function once and replays the tape as straight-line Python.

* ``compiled``  -- ``jit``, ``Compiled`` and ``CompileError`` (the API);
* ``tracing``   -- recording a call: the tape and the guards on reads of a traced Value's number;
* ``tape``      -- what a trace recorded, in the order the replay computes it;
* ``codegen``   -- the tape written out as Python, forward and backward;
* ``source``    -- the op table's rules evaluated on source text;
* ``nary_code`` -- the n-ary ops' code (sums, dots);
* ``seeded``    -- one example's code, looped over a batch;
* ``example``   -- ``Example``, which compiles and runs it (``fit(compile=True)``).

The folder is ``compiler`` rather than ``jit`` so that ``valuegrad.autograd.jit`` stays the function.
"""
