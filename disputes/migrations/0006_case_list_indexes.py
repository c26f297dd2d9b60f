from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexOnline(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL, where the case table is large and in use (no lock
    on writes while the index builds); a plain CREATE INDEX elsewhere."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


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
