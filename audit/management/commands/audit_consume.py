from django.conf import settings
from django.core.management.base import BaseCommand

from audit import performance
from audit.consumer import Consumer
from audit.management.commands._runner import run_until_signalled
from audit.nats import public_url
from audit.signing import signing_keys
from core.metrics import serve_process_metrics


class Command(BaseCommand):
    help = "Store audit events from NATS JetStream in the hash-chained audit log (runs until stopped)."

    def handle(self, *args, **options):
        signing_keys()  # no key to check signatures with: stop now, saying so
        self.stdout.write(
            f"audit consumer: {public_url(settings.NATS_URL)} stream {settings.FLUX_AUDIT_STREAM} "
            f"durable {settings.FLUX_AUDIT_CONSUMER}"
        )
        performance.start("consumer")
        serve_process_metrics("consumer")
        consumer = Consumer()
        run_until_signalled(consumer.run)
        self.stdout.write(f"audit consumer stopped: {consumer.stored} stored, {consumer.duplicates} duplicates, "
                          f"{consumer.refused} refused")
