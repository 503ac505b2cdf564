"""Settings for the whole suite."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

# Property tests judge results, not speed: on a loaded 2-core machine (CI, or other work beside it) Hypothesis'
# timing checks fail tests that are right. Their example counts stay bounded by each test's own settings.
settings.register_profile("ldapcheck", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ldapcheck")
