from django.apps import AppConfig
from django.db.models.signals import post_migrate


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "Disputes"

    def ready(self):
        from disputes import backends, middleware, notifications, realtime  # noqa: F401  (signals)
        from disputes.api import authentication, webhooks  # noqa: F401  (tokens forgotten; case events)
        from disputes.roles import ensure_staff_groups
        from disputes.selectors import people, queue  # noqa: F401  (what a change makes cached facts forget)

        post_migrate.connect(ensure_staff_groups, sender=self)
