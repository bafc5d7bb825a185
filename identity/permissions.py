"""Who may do what: the role checks the services make (require_staff, require_supervisor; the
pages' decorators and the API's permission classes ask the same roles), and what each role may see
in the Django admin, and who may open it at all.

The admin is a read-only window (core.admin.ReadOnlyModelAdmin refuses every add, change and
delete), so the only permissions that matter are the `view_*` ones. They come from the role and
from nothing else: `identity.backends.RoleBackend` answers Django's `user.has_perm()` from this
table and ignores groups and per-user grants, so a member of staff created by any path (the staff
service, a shell, seed_demo) gets exactly their role's access, and a stray group cannot widen it.
A model missing here (the idempotency keys, simplejwt's tokens, django-axes' attempts, TOTP
devices, groups) is for superusers (operators) only.

Agents see what the agent desk and the API show them: customers, accounts, transactions and their
entries. Supervisors also read the audit events (GET audit/events/ is theirs in the API too)."""

from __future__ import annotations

from core.errors import ApplicationError
from identity.models import Role, User

AGENT_ADMIN_VIEWS = frozenset(
    {
        "identity.view_user",
        "banking.view_account",
        "banking.view_transaction",
        "banking.view_entry",
    }
)
SUPERVISOR_ADMIN_VIEWS = AGENT_ADMIN_VIEWS | {"audit.view_auditevent"}

PERMISSIONS_BY_ROLE: dict[str, frozenset[str]] = {
    Role.CUSTOMER: frozenset(),
    Role.AGENT: AGENT_ADMIN_VIEWS,
    Role.SUPERVISOR: SUPERVISOR_ADMIN_VIEWS,
}


def role_permissions(user: User) -> frozenset[str]:
    """The permissions ("app_label.codename") that `user`'s role grants; none when inactive."""
    if not getattr(user, "is_active", False) or getattr(user, "is_anonymous", True):
        return frozenset()
    return PERMISSIONS_BY_ROLE.get(getattr(user, "role", ""), frozenset())


def roles_with(permission: str) -> list[str]:
    """The roles granting `permission`."""
    return [role for role, granted in PERMISSIONS_BY_ROLE.items() if permission in granted]


def may_open_admin(user) -> bool:
    """Active bank staff (by role, whatever `is_staff` says) and active superusers (operators)."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return False
    return bool(user.is_superuser or user.is_bank_staff)


# --- Who may act: the services' one form of the role checks --------------------------------------


def require_staff(user, message: str = "Only bank staff may do this.") -> None:
    """Refuse (permission_denied) anyone but an agent or a supervisor."""
    if not getattr(user, "is_bank_staff", False):
        raise ApplicationError("permission_denied", message)


def require_supervisor(user, message: str = "Only supervisors may do this.") -> None:
    """Refuse (permission_denied) anyone but a supervisor."""
    if not getattr(user, "is_supervisor", False):
        raise ApplicationError("permission_denied", message)
