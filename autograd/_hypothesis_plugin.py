"""Hypothesis's entry point for valuegrad (the ``hypothesis`` entry-point group in pyproject.toml).

Hypothesis calls :func:`_hypothesis_setup_hook` when it is imported, so in any project where
valuegrad is installed:

* ``st.from_type(Value)`` (and ``@given`` on a ``Value``-annotated argument) draws finite leaf
  Values with short identifier labels, instead of what inference would give (nan, huge ints,
  arbitrary text as labels);
* the profiles ``valuegrad-ci``, ``valuegrad-dev`` and ``valuegrad-intense`` can be loaded with
  ``settings.load_profile(...)``. They carry our prefix so they never replace Hypothesis's own
  built-in ``ci`` profile.

Nothing here imports SymPy or the strategies module: the hook runs on every ``import hypothesis``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["PROFILES", "register_profiles", "value_strategy"]

# name -> settings; example counts only (and no deadline: shared CI machines are noisy).
PROFILES: dict[str, dict[str, Any]] = {
    "valuegrad-ci": {"max_examples": 30, "stateful_step_count": 20},
    "valuegrad-dev": {"max_examples": 100},
    "valuegrad-intense": {"max_examples": 2000, "stateful_step_count": 80},
}


def register_profiles() -> None:
    """Register the ``valuegrad-*`` profiles (idempotent); load one with ``settings.load_profile``."""
    from hypothesis import HealthCheck, settings

    for name, options in PROFILES.items():
        settings.register_profile(
            name, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow], **options
        )


def value_strategy(_: type) -> Any:
    """Finite leaf Values in [-1000, 1000] (no subnormals), labelled None or a short identifier."""
    from hypothesis import strategies as st

    from .core import Value

    data = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False, allow_subnormal=False)
    labels = st.none() | st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True)
    return st.builds(Value, data, label=labels)


def _hypothesis_setup_hook() -> None:
    from hypothesis import strategies as st

    from .core import Value

    st.register_type_strategy(Value, value_strategy)
    register_profiles()
