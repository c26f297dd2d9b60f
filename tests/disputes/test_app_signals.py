"""Every process that changes cases (management commands, the API, the socket server) forgets the
queue's cached counts when a case changes, not only one that has loaded the console's pages."""

import os
import subprocess
import sys

from django.conf import settings

# Run by a management command (as process_deadlines is): prints whether the console's views were
# loaded and whether each receiver was connected (disconnect() tells).
PROBE = """
import sys
from django.db.models.signals import post_delete, post_save
from disputes.models import Case
print("console views loaded:", "disputes.views.console" in sys.modules)
print("saved:", post_save.disconnect(sender=Case, dispatch_uid="disputes.queue_counts.case_saved"))
print("deleted:", post_delete.disconnect(sender=Case, dispatch_uid="disputes.queue_counts.case_deleted"))
"""


def test_a_management_command_forgets_the_queue_counts_when_a_case_changes():
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", PROBE],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "console views loaded: False" in lines
    assert "saved: True" in lines
    assert "deleted: True" in lines
