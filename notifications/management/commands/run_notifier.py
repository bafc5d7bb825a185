from django.conf import settings
from django.core.management.base import BaseCommand

from audit import performance
from audit.management.commands._runner import run_until_signalled
from audit.nats import public_url
from audit.signing import signing_keys
from core.metrics import serve_process_metrics
from notifications.notifier import Notifier


class Command(BaseCommand):
    help = "Write customers' notifications from the audit stream on NATS JetStream (runs until stopped)."

    def handle(self, *args, **options):
        signing_keys()  # no key to check signatures with: stop now, saying so
        self.stdout.write(
            f"notifier: {public_url(settings.NATS_URL)} stream {settings.FLUX_AUDIT_STREAM} "
            f"durable {settings.FLUX_NOTIFIER_CONSUMER}"
        )
        performance.start("notifier")
        serve_process_metrics("notifier")
        notifier = Notifier()
        run_until_signalled(notifier.run)
        self.stdout.write(f"notifier stopped: {notifier.events} events read, {notifier.written} notifications "
                          f"written, {notifier.refused} refused")
