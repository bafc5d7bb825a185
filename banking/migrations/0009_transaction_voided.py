"""A pending transaction not decided in time is `voided` (DESIGN.md), no longer `expired`."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("banking", "0008_clearing"),
    ]

    operations = [
        migrations.AlterField(
            model_name="transaction",
            name="status",
            field=models.CharField(choices=[("pending", "Pending approval"), ("posted", "Posted"), ("rejected", "Rejected"), ("voided", "Voided"), ("cancelled", "Cancelled"), ("sent", "Sent to the other bank"), ("returned", "Returned by the other bank")], max_length=10),
        ),
        migrations.RunSQL(
            "UPDATE banking_transaction SET status = 'voided' WHERE status = 'expired'",
            reverse_sql="UPDATE banking_transaction SET status = 'expired' WHERE status = 'voided'",
        ),
    ]
