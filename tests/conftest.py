"""Hypothesis profiles for the whole suite, chosen by ``HYPOTHESIS_PROFILE``.

* ``ci``      -- what ``.ci/run`` uses: few examples, no deadline (shared machines are noisy);
* ``dev``     -- the default on a workstation: hypothesis's usual 100 examples;
* ``intense`` -- thousands of examples, for a hunt before a release.

Without ``HYPOTHESIS_PROFILE`` the profile is ``ci`` when the ``CI`` environment
variable is set and ``dev`` otherwise.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=30,
    stateful_step_count=20,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile(
    "intense", max_examples=2000, stateful_step_count=80, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

_PROFILE = os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
if _PROFILE not in ("ci", "dev", "intense"):
    raise RuntimeError(f"HYPOTHESIS_PROFILE={_PROFILE!r} is not one of: ci, dev, intense")
settings.load_profile(_PROFILE)
