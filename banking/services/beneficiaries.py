"""A customer's beneficiaries: saved IBANs (a Flux account or another bank's) with a name."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit import actions
from audit.services import audit_record
from banking.access import beneficiary_for_user
from banking.iban import is_flux_iban, parse_iban
from banking.models import Account, AccountStatus, Beneficiary
from core.errors import ApplicationError, ValidationFailed
from identity.models import User

NAME_MAX_LENGTH = Beneficiary._meta.get_field("name").max_length


def _require_customer(user: User) -> None:
    if not getattr(user, "is_customer", False):
        raise ApplicationError("permission_denied", _("Only customers keep beneficiaries."))


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationFailed({"name": [_("Give the beneficiary a name.")]})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed(
            {"name": [_("Keep the name to %(max)d characters at most.") % {"max": NAME_MAX_LENGTH}]}
        )
    return name


def _duplicate(customer: User, iban: str) -> ValidationFailed:
    existing = Beneficiary.objects.filter(customer=customer, iban=iban).values_list("name", flat=True).first()
    return ValidationFailed(
        {"iban": [_("You already saved this IBAN as “%(name)s”.") % {"name": existing or iban}]},
        message=_("This IBAN is already one of your beneficiaries."),
    )


def beneficiary_create(*, customer: User, name: str, iban: str) -> Beneficiary:
    """Save an IBAN under a name for `customer`. The IBAN is validated (country format, length,
    mod-97) and stored normalised; a Flux IBAN must belong to an open account that is not the
    customer's own (their own accounts are offered anyway), another bank's is taken as it is.

    Errors: permission_denied (not a customer), validation_error (empty or long name, IBAN
    already saved, own account), invalid_iban, unknown_account (a Flux IBAN with no account).
    """
    _require_customer(customer)
    name = _clean_name(name)
    parsed = parse_iban(iban)
    iban = str(parsed.compact)
    if is_flux_iban(parsed):
        account = Account.objects.filter(iban=iban).only("customer_id", "status").first()
        if account is None or account.is_internal or account.status == AccountStatus.CLOSED:
            raise ApplicationError("unknown_account", _("No open Flux account has this IBAN."))
        if account.customer_id == customer.pk:
            raise ValidationFailed({"iban": [_("This is one of your own accounts; no need to save it.")]})
    if Beneficiary.objects.filter(customer=customer, iban=iban).exists():
        raise _duplicate(customer, iban)
    try:
        with transaction.atomic():
            beneficiary = Beneficiary.objects.create(
                customer=customer, name=name, iban=iban, created_at=timezone.now()
            )
            audit_record(
                actor=customer,
                action=actions.BENEFICIARY_ADDED,
                target_type="beneficiary",
                target_id=beneficiary.pk,
                data={"name": name, "iban": iban},
            )
    except IntegrityError:  # the same IBAN saved at the same moment by another request
        raise _duplicate(customer, iban) from None
    return beneficiary


def beneficiary_rename(*, customer: User, beneficiary_id: object, name: str) -> Beneficiary:
    """Give one of the customer's beneficiaries a new name.
    Errors: not_found (not theirs, or gone), validation_error (empty or long name)."""
    name = _clean_name(name)
    with transaction.atomic():
        beneficiary = beneficiary_for_user(customer, beneficiary_id, lock=True)
        old_name = beneficiary.name
        beneficiary.name = name
        beneficiary.save(update_fields=["name"])
        audit_record(
            actor=customer,
            action=actions.BENEFICIARY_RENAMED,
            target_type="beneficiary",
            target_id=beneficiary.pk,
            data={"old_name": old_name, "name": name, "iban": beneficiary.iban},
        )
    return beneficiary


def beneficiary_delete(*, customer: User, beneficiary_id: object) -> None:
    """Forget one of the customer's beneficiaries (past transfers to it are untouched).
    Errors: not_found (not theirs, or already deleted)."""
    with transaction.atomic():
        beneficiary = beneficiary_for_user(customer, beneficiary_id, lock=True)
        audit_record(
            actor=customer,
            action=actions.BENEFICIARY_DELETED,
            target_type="beneficiary",
            target_id=beneficiary.pk,
            data={"name": beneficiary.name, "iban": beneficiary.iban},
        )
        beneficiary.delete()
