import uuid

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    SUPERVISOR = "supervisor", _("Supervisor")


STAFF_ROLES = (Role.AGENT, Role.SUPERVISOR)
USERNAME_UNIQUE = "user_username_unique_ci"
EMAIL_UNIQUE = "user_email_unique_ci"


class User(AbstractUser):
    """Everyone who signs in to Flux. The role decides what they may do; a customer's profile
    (names, email, phone, address) lives here too."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.CUSTOMER)
    phone = models.CharField(max_length=32, blank=True)
    address = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
            # Signing in looks a username up whatever its case, and an email identifies one person:
            # the services check both first (a clear error), the database makes it true under
            # concurrent requests too (identity.services.taken).
            models.UniqueConstraint(Lower("username"), name=USERNAME_UNIQUE),
            models.UniqueConstraint(Lower("email"), condition=~models.Q(email=""), name=EMAIL_UNIQUE),
        ]

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_bank_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR


class TokenChannel(models.TextChoices):
    API = "api", "API sign-in"
    APP = "app", "The app's pair for a page session"


class TokenFamily(models.Model):
    """Every JWT refresh token descended, by rotation, from one sign-in (identity/tokens.py).

    Its id travels in both tokens of each pair (the `fam` claim). Revoking it (a rotated refresh
    token used again, or the page session that minted it signing out) blacklists all its refresh
    tokens and makes identity.authentication refuse its access tokens. A family minted for a page
    session (channel "app", POST /app/token/) keeps a hash of that session's key, never the key."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(max_length=8, choices=TokenChannel.choices)
    session_hash = models.CharField(max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=32, blank=True)

    class Meta:
        verbose_name_plural = "token families"

    def __str__(self) -> str:
        return f"{self.channel} family {self.pk.hex[:8]}" + (" (revoked)" if self.revoked_at else "")


class FamilyRefreshToken(models.Model):
    """Which family a refresh token (simplejwt's OutstandingToken row) belongs to, and when it was
    rotated (exchanged for the next pair): a rotated token that comes back is a reuse."""

    token = models.OneToOneField(
        OutstandingToken, on_delete=models.CASCADE, primary_key=True, related_name="family_link"
    )
    family = models.ForeignKey(TokenFamily, on_delete=models.CASCADE, related_name="tokens")
    rotated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.token_id} in {self.family_id}"
