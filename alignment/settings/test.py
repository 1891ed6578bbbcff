"""Test settings: only what tests need to differ."""

import os

os.environ.setdefault("DEBUG", "1")

from alignment.settings.base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
SECURE_SSL_REDIRECT = False
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
# The role the suite switches to after creating the test database as the owner, so that
# row-level security is exercised exactly as in production.
TEST_APP_DB_USER = os.environ.get("TEST_APP_DB_USER", DATABASE_APP_ROLE)  # noqa: F405
TEST_APP_DB_PASSWORD = os.environ.get("TEST_APP_DB_PASSWORD", "")
