from django.conf import settings
from django.core.management.base import BaseCommand

from audit import performance
from audit.health import OutboxCollector
from audit.management.commands._runner import run_until_signalled
from audit.nats import public_url
from audit.relay import Relay
from audit.signing import signing_keys
from core.metrics import serve_process_metrics


class Command(BaseCommand):
    help = "Publish committed audit events from the outbox to NATS JetStream (runs until stopped)."

    def handle(self, *args, **options):
        signing_keys()  # no key to sign with: stop now, saying so
        self.stdout.write(f"audit relay: outbox -> {public_url(settings.NATS_URL)} stream {settings.FLUX_AUDIT_STREAM}")
        performance.start("relay")
        serve_process_metrics("relay", [OutboxCollector()])
        relay = Relay()
        run_until_signalled(relay.run)
        self.stdout.write(f"audit relay stopped after publishing {relay.published} events")
