"""Hypothesis profiles. ``dev`` (the default) explores with fresh random examples each run;
``ci`` (selected by .ci/run through HYPOTHESIS_PROFILE=ci) is derandomized and bounded so the
whole suite is reproducible and fast."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("dev", max_examples=60, deadline=None)
settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    derandomize=True,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("thorough", max_examples=1000, deadline=None)
# 500 examples per property: what a whole-suite run before a release uses (the
# thorough profile's 1 000 are for the one test file you are working on).
settings.register_profile("release", max_examples=500, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))
