from django.db import migrations, models

from disputes.migrations._online import AddIndexOnline


class Migration(migrations.Migration):
    """The buyer's order list reads a page from here (buyer, newest first, the primary key breaking
    ties). The index is created in the database only: Order's Meta does not declare it yet, and a
    state operation here would make makemigrations want to drop it again."""

    atomic = False

    dependencies = [("disputes", "0007_case_seller_answer_order")]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                AddIndexOnline(
                    model_name="order",
                    index=models.Index(fields=["buyer", "-placed_at", "-id"], name="order_buyer_newest"),
                ),
            ],
        ),
    ]
