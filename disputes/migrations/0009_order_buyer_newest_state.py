from django.db import migrations, models


class Migration(migrations.Migration):
    """Order's Meta now declares order_buyer_newest, which 0008 built in the database only: record
    it in the migration state, touching nothing in the database."""

    dependencies = [("disputes", "0008_order_buyer_newest")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="order",
                    index=models.Index(fields=["buyer", "-placed_at", "-id"], name="order_buyer_newest"),
                ),
            ],
        ),
    ]
