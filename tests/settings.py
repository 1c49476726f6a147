"""Settings for the test suite: the real settings with a fixed secret and fast hashing."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "test-secret-key-not-used-anywhere-else-0123456789")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("DJANGO_SECURE_COOKIES", "false")

from onurix_site.settings import *  # noqa: F403

# The suite runs against the sandbox with a test key: production's refusals stay off.
DJANGO_ENFORCE_PRODUCTION_CHECKS = False
# Hashing with the production hasher makes every login in the suite slow.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SECURE_HSTS_SECONDS = 0
# Tests run without collectstatic: plain static files, no manifest, no STATIC_ROOT.
STATIC_ROOT = None
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Uploaded files go to a folder of this test run, never the project's media/.
# A worker process started by a test is given the run's folder, to read uploaded files.
MEDIA_ROOT = Path(
    os.environ.get("ONURIX_TEST_MEDIA_ROOT") or tempfile.mkdtemp(prefix="onurix-test-media-")
)
# A test database in a file, not in memory: the dispatch engine's threads (and worker
# processes started by tests) need SQLite's file locking, which waits, rather than the
# shared-cache table locks of an in-memory database, which fail at once.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(MEDIA_ROOT.parent / f"{MEDIA_ROOT.name}.sqlite3")}  # noqa: F405

# Tasks run at once, in the process that enqueues them; tests that need the real worker
# start `db_worker` with the database backend themselves.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
if os.environ.get("ONURIX_TEST_TASKS") == "database":  # a worker process started by a test
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
