import os

# Playwright's sync API runs an event loop in the test's thread; Django then refuses ORM
# calls there unless told it is safe (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["tests.onurix_fixtures"]

# Hypothesis: the same examples on every run, so CI never fails on a new random draw;
# widen the search locally with HYPOTHESIS_PROFILE=explore.
from hypothesis import settings as hypothesis_settings  # noqa: E402

hypothesis_settings.register_profile("stable", derandomize=True, deadline=None)
hypothesis_settings.register_profile("explore", max_examples=500, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "stable"))
