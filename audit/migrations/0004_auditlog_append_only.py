from django.db import migrations

from core.db.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_pipeline")]
    operations = [append_only("audit_auditlogrecord")]
