from django.core.management.base import BaseCommand
from django.utils import timezone

from feedback.services import survey_invitations_send


class Command(BaseCommand):
    help = "Email the satisfaction survey to each party of a recently ended case, once (run from cron)."

    def handle(self, *args, **options):
        sent = survey_invitations_send(now=timezone.now())
        self.stdout.write(f"Sent {sent} survey invitation(s).")
