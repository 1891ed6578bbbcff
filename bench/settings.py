"""Settings for the benchmark: production's, with nothing leaving the process.

DEBUG stays off (templates and the ORM behave as in production), static files need no
manifest, emails stay in memory, and Celery tasks are published to an in-memory broker
instead of running inline, so a sweep is timed up to the enqueue, as a worker would see it.
"""

import os

os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuv")
os.environ["DEBUG"] = "0"

from alignment.settings.base import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["testserver"]
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_URL = "memory://"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
