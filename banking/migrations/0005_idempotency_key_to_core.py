# The idempotency key moved to core (issue 12): state only, its table stays (core's migration 0001).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("banking", "0004_reversal_waits_for_approval"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="IdempotencyKey")],
            database_operations=[],
        ),
    ]
