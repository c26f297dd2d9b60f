"""Every process that changes cases, notices or availability (management commands, the API, the
socket server) forgets what is cached of them, not only one that has loaded the pages that show
them."""

from tests.processes import run_python

# Run by a management command (as process_deadlines is): prints whether the console's views were
# loaded and whether each receiver was connected (disconnect() tells).
PROBE = """
import sys
from django.db.models.signals import post_delete, post_save
from disputes.models import AgentStatus, Case, Notification
print("console views loaded:", "disputes.views.console" in sys.modules)
print("saved:", post_save.disconnect(sender=Case, dispatch_uid="disputes.queue_counts.case_saved"))
print("deleted:", post_delete.disconnect(sender=Case, dispatch_uid="disputes.queue_counts.case_deleted"))
print("notice saved:", post_save.disconnect(sender=Notification, dispatch_uid="disputes.people.notice_saved"))
print("notice deleted:", post_delete.disconnect(sender=Notification, dispatch_uid="disputes.people.notice_deleted"))
print(
    "availability saved:", post_save.disconnect(sender=AgentStatus, dispatch_uid="disputes.people.availability_saved")
)
print(
    "availability deleted:",
    post_delete.disconnect(sender=AgentStatus, dispatch_uid="disputes.people.availability_deleted"),
)
"""


def test_a_management_command_forgets_the_cached_counts_when_a_case_a_notice_or_an_availability_changes():
    done = run_python(["manage.py", "shell", "--no-imports", "-c", PROBE])
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "console views loaded: False" in lines
    assert "saved: True" in lines
    assert "deleted: True" in lines
    for fact in ("notice", "availability"):
        assert f"{fact} saved: True" in lines and f"{fact} deleted: True" in lines
