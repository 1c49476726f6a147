import os

# Playwright's sync API runs an event loop in the test's thread; Django then refuses ORM
# calls there unless told it is safe (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["tests.onurix_fixtures"]
