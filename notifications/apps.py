from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """What a customer is told about their money (money in, a decision on their transfer, a frozen
    account): written by the notifier process from the audit stream, read in the app and the API."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "notifications"
    verbose_name = "Notifications"
