"""`manage.py migrate_locked`: Django's migrate, run by at most one instance at a time.

Several instances of a new release boot together and each runs migrations at first boot. Without a
lock two of them race on the same tables. PostgreSQL gets a session advisory lock; SQLite, which
lives on one machine, gets an exclusive lock file next to the database.
"""
import contextlib
import fcntl
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

# Any fixed 64-bit number works, as long as every release uses the same one.
ADVISORY_LOCK_KEY = 0x67726E6C6967  # "grnlig"
POLL_SECONDS = 0.5


@contextlib.contextmanager
def postgres_lock(connection, timeout):
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK_KEY])
            if cursor.fetchone()[0]:
                break
            if time.monotonic() >= deadline:
                raise CommandError("another instance held the migration lock for more than %ss" % timeout)
            time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK_KEY])


@contextlib.contextmanager
def file_lock(path, timeout):
    deadline = time.monotonic() + timeout
    with open(path, "a") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise CommandError("another process held %s for more than %ss" % (path, timeout))
                time.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class Command(BaseCommand):
    help = "Apply migrations under a lock shared by every instance of the app."

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for the lock")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, **options):
        connection = connections[options["database"]]
        timeout = options["timeout"]
        if connection.vendor == "postgresql":
            lock = postgres_lock(connection, timeout)
        elif connection.vendor == "sqlite":
            lock = file_lock("%s.migrate-lock" % connection.settings_dict["NAME"], timeout)
        else:
            raise CommandError("migrate_locked supports PostgreSQL and SQLite, not %s" % connection.vendor)
        started = time.monotonic()
        with lock:
            waited = time.monotonic() - started
            self.stdout.write("migration lock acquired after %.1fs" % waited)
            call_command("migrate", database=options["database"], interactive=False, verbosity=options["verbosity"])
