import os
import subprocess
import sys
import tempfile
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.test import SimpleTestCase

from greenlight_example.env import parse_database_url, read_first_line

APP_DIR = Path(__file__).resolve().parents[2]


def import_settings(env):
    """Imports the settings in a fresh interpreter, the way gunicorn's workers do."""
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); from django.conf import settings; print(settings.ALLOWED_HOSTS)"],
        cwd=APP_DIR,
        env={"PATH": os.environ.get("PATH", ""), "DJANGO_SETTINGS_MODULE": "greenlight_example.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


class RequiredConfigurationTests(SimpleTestCase):
    def test_refuses_to_start_without_secret_key(self):
        result = import_settings({"DATABASE_URL": "sqlite:///tmp/x.sqlite3"})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("SECRET_KEY is not set", result.stderr)

    def test_refuses_to_start_without_database_url(self):
        result = import_settings({"SECRET_KEY": "x"})
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("DATABASE_URL is not set", result.stderr)

    def test_allows_the_instance_ip_from_the_file(self):
        with tempfile.NamedTemporaryFile("w", suffix="ipv4") as f:
            f.write("10.0.3.17\n")
            f.flush()
            result = import_settings({
                "SECRET_KEY": "x", "DATABASE_URL": "sqlite:///tmp/x.sqlite3",
                "GREENLIGHT_IPV4_FILE": f.name, "ALLOWED_HOSTS": "www.example.com",
            })
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), "['www.example.com', '10.0.3.17']")

    def test_missing_ip_file_adds_nothing(self):
        self.assertIsNone(read_first_line("/nonexistent/ipv4"))


class DatabaseUrlTests(SimpleTestCase):
    def test_sqlite(self):
        db = parse_database_url("sqlite:///var/lib/app/db.sqlite3")
        self.assertEqual(db["ENGINE"], "django.db.backends.sqlite3")
        self.assertEqual(db["NAME"], "/var/lib/app/db.sqlite3")

    def test_sqlite_needs_an_absolute_path(self):
        with self.assertRaisesRegex(ImproperlyConfigured, "absolute path"):
            parse_database_url("sqlite://db.sqlite3")

    def test_postgres_with_a_capped_connect_timeout(self):
        db = parse_database_url("postgres://app:p%40ss@db.internal:5433/shop?sslmode=require&connect_timeout=30")
        self.assertEqual(db["ENGINE"], "django.db.backends.postgresql")
        self.assertEqual((db["USER"], db["PASSWORD"], db["HOST"], db["PORT"], db["NAME"]),
                         ("app", "p@ss", "db.internal", "5433", "shop"))
        self.assertEqual(db["OPTIONS"], {"sslmode": "require", "connect_timeout": 3})

    def test_unknown_scheme_names_it_without_echoing_the_password(self):
        with self.assertRaises(ImproperlyConfigured) as caught:
            parse_database_url("mysql://app:secret@db/shop")
        self.assertIn("'mysql'", str(caught.exception))
        self.assertNotIn("secret", str(caught.exception))
