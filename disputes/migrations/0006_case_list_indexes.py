from django.conf import settings
from django.db import migrations, models

from disputes.migrations._online import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("disputes", "0005_api"),
        ("policies", "0003_feedback_performance"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexOnline(
            model_name="case",
            index=models.Index(
                condition=models.Q(("state__in", ["escalated", "in_mediation", "appealed"])),
                fields=["agent_decision_due_at", "id"],
                name="case_queue_order",
            ),
        ),
        AddIndexOnline(
            model_name="case",
            index=models.Index(fields=["buyer", "-filed_at", "-id"], name="case_buyer_newest"),
        ),
        AddIndexOnline(model_name="case", index=models.Index(fields=["state", "-id"], name="case_state_newest")),
        AddIndexOnline(model_name="case", index=models.Index(fields=["updated_at"], name="case_updated_at")),
    ]
