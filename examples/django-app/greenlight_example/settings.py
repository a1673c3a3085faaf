"""Settings for the greenlight reference app. Everything deployment-specific comes from the environment."""
from pathlib import Path
import os

from .env import parse_database_url, read_first_line, required, split_list

BASE_DIR = Path(__file__).resolve().parent

# Refuse to start without these: a misconfigured release must never pass the health gate.
SECRET_KEY = required("SECRET_KEY")
DATABASES = {"default": parse_database_url(required("DATABASE_URL"))}

DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"

# Load-balancer health checks carry the instance's private IP as Host; first-boot userdata writes it
# from IMDSv2 to /etc/aws/ipv4. A local rehearsal gives each instance its own file.
INSTANCE_IPV4 = read_first_line(os.environ.get("GREENLIGHT_IPV4_FILE", "/etc/aws/ipv4"))
ALLOWED_HOSTS = split_list(os.environ.get("ALLOWED_HOSTS", "")) + ([INSTANCE_IPV4] if INSTANCE_IPV4 else [])

# TLS ends at the load balancer; nginx passes its X-Forwarded-Proto through.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

GREENLIGHT_RELEASE = os.environ.get("GREENLIGHT_RELEASE", "unknown")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "greenlight_example",
]

MIDDLEWARE = [
    # First, before anything that may touch the database: an outage gives a clean 503.
    "greenlight_example.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "greenlight_example.urls"
WSGI_APPLICATION = "greenlight_example.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
STATIC_URL = "/static/"

# Logs go to stdout/stderr; systemd puts them in the journal (twelve-factor).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}
