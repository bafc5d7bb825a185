"""A customer's notifications. The notifier writes them from the audit stream (notifications/
notifier.py); the web only reads them and marks them read. A notification keeps its kind and the
facts it states (`params`: an amount, a name, an IBAN); its title and body are written in the
reader's language when it is read (notifications/messages.py)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    MONEY_IN = "money_in", _("Money received")
    TRANSFER_APPROVED = "transfer_approved", _("Transfer approved")
    TRANSFER_REJECTED = "transfer_rejected", _("Transfer rejected")
    TRANSFER_EXPIRED = "transfer_expired", _("Transfer expired")
    # A transfer to another bank that came back (issue 15: camt.053 returns).
    TRANSFER_RETURNED = "transfer_returned", _("Transfer returned")
    ACCOUNT_FROZEN = "account_frozen", _("Account frozen")
    ACCOUNT_UNFROZEN = "account_unfrozen", _("Account unfrozen")


class Notification(models.Model):
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=24, choices=NotificationKind.choices)
    # The facts the title and body state, as the event gave them (strings: amounts as "1234.50").
    params = models.JSONField(default=dict, blank=True)
    transaction = models.ForeignKey(
        "banking.Transaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The audit event it comes from: one notification per event and customer, however often the
    # stream delivers the event (a redelivery after a crash writes nothing twice).
    event_id = models.BigIntegerField()
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event_id", "customer"], name="notification_once_per_event_customer"),
        ]
        indexes = [
            models.Index(fields=["customer", "-id"], name="notification_customer_idx"),
            # The bell's count on every customer page: the unread ones only.
            models.Index(fields=["customer"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} for {self.customer_id}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None
