"""What customers hear of a camt.053 statement: the notifications the notifier makes from the audit
events statement_import records (money in, named after the payer; a transfer returned), once."""

from __future__ import annotations

import pytest
from django.utils.translation import override

from banking.clearing.samples import V02, V08, camt053_xml, credit
from banking.clearing.statements import statement_import
from banking.services import account_freeze
from banking.tests.clearing import JEAN_IBAN, UNKNOWN_FLUX_IBAN, sent_transfer
from core.errors import ApplicationError
from notifications.events import notifications_for_events
from notifications.messages import notification_text
from notifications.models import Notification, NotificationKind
from notifications.services import notifications_store
from notifications.tests.support import events_after, last_event_id

pytestmark = pytest.mark.django_db


def text(notification: Notification, language: str = "en"):
    with override(language):
        return notification_text(notification.kind, notification.params)


@pytest.mark.parametrize("version", [V02, V08])
def test_a_statement_tells_the_payee_who_paid_and_the_payer_what_came_back(
        version, sam, agnes, alice, bob, carol, alice_account, bob_account, open_account):
    frozen = open_account(carol)
    account_freeze(actor=agnes, account_id=frozen.pk, reason="Inquiry")
    original = sent_transfer(alice, alice_account, 40_00, beneficiary_name="Hans Meier")
    content = camt053_xml([
        credit("25.00", debtor_name="Jean Dupont", debtor_iban=JEAN_IBAN, creditor_iban=bob_account.iban,
               remittance="Rent"),
        credit("7.00", debtor_name="Nobody", creditor_iban=UNKNOWN_FLUX_IBAN),
        credit("8.00", debtor_name="Ann Frost", creditor_iban=frozen.iban),
        credit("40.00", end_to_end_id=str(original.pk), return_reason="AC04"),
    ], version=version)
    start = last_event_id()

    statement = statement_import(initiator=sam, content=content)
    written = notifications_store(events=events_after(start))

    incoming = statement.statement_entries.get(position=1).transaction
    assert [(n.customer, n.kind, n.transaction_id) for n in written] == [
        (bob, NotificationKind.MONEY_IN, incoming.pk),
        (alice, NotificationKind.TRANSFER_RETURNED, original.pk),
    ]
    money_in, returned = written
    assert money_in.params["payer"] == "Jean Dupont" and money_in.params["payer_iban"] == JEAN_IBAN
    assert text(money_in).body == "Jean Dupont sent you 25.00\u00a0EUR."
    assert text(money_in, "fr").body == "Jean Dupont vous a envoyé 25,00\u00a0EUR."
    assert text(returned).body == ("Your transfer of 40.00\u00a0EUR to Hans Meier came back from the other bank. "
                                   "The money is on your account again.")
    # Nothing for the frozen account's holder, nor for money in suspense.
    assert not Notification.objects.filter(customer=carol).exists()


def test_the_same_statement_again_tells_nobody_anything(sam, alice, alice_account):
    content = camt053_xml([credit("25.00", debtor_name="Jean Dupont", creditor_iban=alice_account.iban)])
    statement_import(initiator=sam, content=content)
    start = last_event_id()

    statement_import(initiator=sam, content=content)

    assert notifications_for_events(events_after(start)) == []


def test_a_payer_without_a_name_is_named_by_their_iban(sam, alice, alice_account):
    start = last_event_id()
    statement_import(initiator=sam, content=camt053_xml([credit("3.00", debtor_iban=JEAN_IBAN,
                                                                creditor_iban=alice_account.iban)]))
    [money_in] = notifications_for_events(events_after(start))
    assert text(money_in).body == "FR76 3000 6000 0112 3456 7890 189 sent you 3.00\u00a0EUR."


def test_a_file_that_is_not_a_statement_makes_no_notification(sam, alice, alice_account):
    start = last_event_id()
    with pytest.raises(ApplicationError):
        statement_import(initiator=sam, content=b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'/>")
    assert events_after(start) == []
    assert notifications_store(events=events_after(start)) == []
    assert not Notification.objects.exists()
