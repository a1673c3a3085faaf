import fcntl
import tempfile
import time

from django.core.management.base import CommandError
from django.test import SimpleTestCase

from greenlight_example.management.commands.migrate_locked import file_lock


class FileLockTests(SimpleTestCase):
    def test_waits_then_gives_up_while_another_process_holds_the_lock(self):
        with tempfile.NamedTemporaryFile() as path_holder:
            path = path_holder.name + ".migrate-lock"
            with open(path, "a") as other:
                fcntl.flock(other, fcntl.LOCK_EX)
                started = time.monotonic()
                with self.assertRaisesRegex(CommandError, "for more than 1"):
                    with file_lock(path, timeout=1):
                        pass
                self.assertGreaterEqual(time.monotonic() - started, 1)
            with file_lock(path, timeout=1):
                pass
