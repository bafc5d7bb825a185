from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit"

    def ready(self) -> None:
        from audit.health import OutboxCollector
        from core.metrics import add_scrape_collector

        add_scrape_collector(OutboxCollector())
