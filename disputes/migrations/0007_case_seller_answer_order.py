from django.db import migrations, models

from disputes.migrations._online import AddIndexOnline


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("disputes", "0006_case_list_indexes")]

    operations = [
        AddIndexOnline(
            model_name="case",
            index=models.Index(fields=["seller", "seller_answer_due_at", "id"], name="case_seller_answer_order"),
        ),
    ]
