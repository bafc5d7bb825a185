from django.db import migrations

from core.db.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("banking", "0001_initial")]
    operations = [append_only("banking_entry")]
