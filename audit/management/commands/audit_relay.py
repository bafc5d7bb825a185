from django.conf import settings
from django.core.management.base import BaseCommand

from audit.management.commands._runner import run_until_signalled
from audit.relay import Relay


class Command(BaseCommand):
    help = "Publish committed audit events from the outbox to NATS JetStream (runs until stopped)."

    def handle(self, *args, **options):
        self.stdout.write(f"audit relay: outbox -> {settings.NATS_URL} stream {settings.FLUX_AUDIT_STREAM}")
        relay = Relay()
        run_until_signalled(relay.run)
        self.stdout.write(f"audit relay stopped after publishing {relay.published} events")
