"""Configuration from the environment (twelve-factor), failing fast when something required is missing."""
import os
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

# Keep the database connect timeout below the load balancer's health-check timeout (5 s by default),
# so a dead database turns into a clean 503 instead of a health-check timeout.
DB_CONNECT_TIMEOUT_SECONDS = 3


def required(name):
    """The value of a required environment variable; refuses to start without it."""
    value = os.environ.get(name, "")
    if value == "":
        raise ImproperlyConfigured(
            "%s is not set: it is required configuration, loaded at boot from SSM into the app's env file" % name
        )
    return value


def read_first_line(path):
    """The stripped first line of a file, or None when the file does not exist."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline().strip() or None
    except FileNotFoundError:
        return None


def split_list(value):
    return [item.strip() for item in value.split(",") if item.strip()]


def parse_database_url(url):
    """DATABASES['default'] from `sqlite:///abs/path` or `postgres://user:pass@host:port/db`."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path)
        if parts.netloc or not path.startswith("/"):
            raise ImproperlyConfigured(
                "DATABASE_URL=%r: a SQLite URL needs an absolute path, e.g. sqlite:///var/lib/app/db.sqlite3" % url
            )
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path,
            "OPTIONS": {"timeout": DB_CONNECT_TIMEOUT_SECONDS},
        }
    if parts.scheme in ("postgres", "postgresql"):
        name = unquote(parts.path.lstrip("/"))
        if not name or not parts.hostname:
            raise ImproperlyConfigured(
                "DATABASE_URL: a PostgreSQL URL needs a host and a database name, "
                "e.g. postgres://user:password@host:5432/db (received host=%r, database=%r)" % (parts.hostname, name)
            )
        options = dict(parse_qsl(parts.query))
        options["connect_timeout"] = min(int(options.get("connect_timeout", DB_CONNECT_TIMEOUT_SECONDS)),
                                         DB_CONNECT_TIMEOUT_SECONDS)
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname,
            "PORT": str(parts.port or ""),
            "OPTIONS": options,
        }
    # Never echo the whole URL: it may carry a password.
    raise ImproperlyConfigured(
        "DATABASE_URL: unsupported scheme %r; expected sqlite:///abs/path or postgres://user:pass@host:port/db"
        % parts.scheme
    )
