from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from disputes.demo import PEOPLE, seed_demo


class Command(BaseCommand):
    help = "Create demo people, policies, orders and cases in every state (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="Run even with DEBUG off.")

    def handle(self, *args, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError("Demo data is for development: DEBUG is off. Use --force to seed anyway.")
        created = seed_demo(password=settings.DEMO_PASSWORD)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {created['cases']} new cases, {created['orders']} new orders, "
                f"{created['policies']} new policies."
            )
        )
        self.stdout.write(
            f"Sign in at http://127.0.0.1:8000/accounts/login/ (admin at /admin/), password: {settings.DEMO_PASSWORD}"
        )
        for username, first, last, groups, is_superuser in PEOPLE:
            role = "admin" if is_superuser else (", ".join(groups) or "buyer/seller")
            self.stdout.write(f"  {username:<8} {first} {last} ({role})")
        self.stdout.write(
            f"API (/api/v1/, docs at /api/docs/): the marketplace's service account sends "
            f"Authorization: Token {created['api_token']}"
        )
