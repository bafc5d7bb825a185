from django.core.management.base import BaseCommand, CommandError

from audit.chain import verify


class Command(BaseCommand):
    help = "Recompute the audit log's hash chain and name the first row that does not verify."

    def handle(self, *args, **options):
        verdict = verify()
        if verdict.ok:
            self.stdout.write(self.style.SUCCESS(f"audit chain OK: {verdict.checked} rows verified"))
            return
        raise CommandError(
            f"audit chain BROKEN at row seq={verdict.first_bad} ({verdict.reason}); "
            f"{verdict.checked} rows checked"
        )
