"""camt.053 statements made up from simple descriptions: for the tests, the benchmark and
`manage.py camt053_sample` (a statement to try Flux with) and seed_demo. Not a bank's output: the elements Flux
reads, in the order the message definitions give them (camt.053.001.02 and .08), and little else.
A real statement comes from the correspondent bank."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.utils import timezone
from lxml import etree

from banking.models import Account, Statement, StatementEntryOutcome, Transaction, TransactionKind, TransactionStatus
from core.money import format_minor

V02, V08 = "camt.053.001.02", "camt.053.001.08"
VERSIONS = (V02, V08)
_refs = itertools.count(1)


@dataclass
class SampleTx:
    """One transaction (TxDtls). `amount` is a decimal string; credit unless `credit=False`."""

    amount: str
    credit: bool = True
    currency: str = "EUR"
    debtor_name: str = ""
    debtor_iban: str = ""
    creditor_name: str = ""
    creditor_iban: str = ""
    end_to_end_id: str = "NOTPROVIDED"
    acct_svcr_ref: str | None = None  # None: one is made up; "": none
    remittance: str = ""
    return_reason: str = ""


@dataclass
class SampleEntry:
    """One booked entry (Ntry): one transaction, or a batch of them (`batch`, all credits or all
    debits), booked as one amount. `status` other than BOOK makes an entry Flux skips."""

    tx: SampleTx | None = None
    batch: list[SampleTx] = field(default_factory=list)
    acct_svcr_ref: str | None = None  # the Ntry's; None: one is made up
    status: str = "BOOK"
    return_code: bool = False  # BkTxCd PMNT/ICDT/RRTN (a returned credit transfer)

    @property
    def transactions(self) -> list[SampleTx]:
        return self.batch or [self.tx]


def credit(amount: str, **kwargs) -> SampleEntry:
    return SampleEntry(tx=SampleTx(amount=amount, **kwargs))


def debit(amount: str, **kwargs) -> SampleEntry:
    return SampleEntry(tx=SampleTx(amount=amount, credit=False, **kwargs))


def _minor(amount: str) -> int:
    return int(Decimal(amount) * 100)


def _text(parent, tag: str, text: str, **attrs):
    node = etree.SubElement(parent, tag, **attrs)
    node.text = text
    return node


def _amount(parent, tag: str, minor: int, currency: str):
    return _text(parent, tag, f"{abs(minor) // 100}.{abs(minor) % 100:02d}", Ccy=currency)


def _date(parent, tag: str, day: date):
    _text(etree.SubElement(parent, tag), "Dt", day.isoformat())


def _party(parent, tag: str, name: str, version: str):
    node = etree.SubElement(parent, tag)
    if version == V08:
        node = etree.SubElement(node, "Pty")
    _text(node, "Nm", name)


def _bank_code(parent, *, returned: bool, is_credit: bool):
    family = "ICDT" if returned or not is_credit else "RCDT"
    sub = "RRTN" if returned else ("ESCT" if is_credit else "ESCT")
    domain = etree.SubElement(etree.SubElement(parent, "BkTxCd"), "Domn")
    _text(domain, "Cd", "PMNT")
    fmly = etree.SubElement(domain, "Fmly")
    _text(fmly, "Cd", family)
    _text(fmly, "SubFmlyCd", sub)


def _tx_details(details, tx: SampleTx, version: str, acct_svcr_ref: str | None):
    node = etree.SubElement(details, "TxDtls")
    refs = etree.SubElement(node, "Refs")
    if acct_svcr_ref:
        _text(refs, "AcctSvcrRef", acct_svcr_ref)
    _text(refs, "EndToEndId", tx.end_to_end_id or "NOTPROVIDED")
    minor = _minor(tx.amount)
    if version == V08:
        _amount(node, "Amt", minor, tx.currency)
        _text(node, "CdtDbtInd", "CRDT" if tx.credit else "DBIT")
    else:
        _amount(etree.SubElement(etree.SubElement(node, "AmtDtls"), "TxAmt"), "Amt", minor, tx.currency)
    if tx.debtor_name or tx.debtor_iban or tx.creditor_name or tx.creditor_iban:
        parties = etree.SubElement(node, "RltdPties")
        if tx.debtor_name:
            _party(parties, "Dbtr", tx.debtor_name, version)
        if tx.debtor_iban:
            _text(etree.SubElement(etree.SubElement(parties, "DbtrAcct"), "Id"), "IBAN", tx.debtor_iban)
        if tx.creditor_name:
            _party(parties, "Cdtr", tx.creditor_name, version)
        if tx.creditor_iban:
            _text(etree.SubElement(etree.SubElement(parties, "CdtrAcct"), "Id"), "IBAN", tx.creditor_iban)
    if tx.remittance:
        _text(etree.SubElement(node, "RmtInf"), "Ustrd", tx.remittance)
    if tx.return_reason:
        _text(etree.SubElement(etree.SubElement(node, "RtrInf"), "Rsn"), "Cd", tx.return_reason)


def _balance(statement, code: str, minor: int, currency: str, day: date):
    node = etree.SubElement(statement, "Bal")
    _text(etree.SubElement(etree.SubElement(node, "Tp"), "CdOrPrtry"), "Cd", code)
    _amount(node, "Amt", minor, currency)
    _text(node, "CdtDbtInd", "CRDT" if minor >= 0 else "DBIT")
    _date(node, "Dt", day)


def camt053_xml(
    entries: list[SampleEntry],
    *,
    version: str = V08,
    account_iban: str | None = None,
    currency: str = "EUR",
    message_id: str | None = None,
    statement_id: str | None = None,
    opening: int = 0,
    booking_date: date | None = None,
) -> bytes:
    """A camt.053 statement (`version`) of `account_iban` (FLUX_CLEARING_IBAN by default) holding
    `entries`, with opening (OPBD) and closing (CLBD) balances that add up."""
    booking_date = booking_date or timezone.localdate()
    serial = next(_refs)
    stamp = datetime.now().strftime("%Y%m%d%H%M%S%f")
    namespace = f"urn:iso:std:iso:20022:tech:xsd:{version}"
    root = etree.Element("Document", nsmap={None: namespace})
    message = etree.SubElement(root, "BkToCstmrStmt")
    header = etree.SubElement(message, "GrpHdr")
    _text(header, "MsgId", message_id or f"STMT-{stamp}-{serial}"[:35])
    _text(header, "CreDtTm", timezone.now().replace(microsecond=0).isoformat())
    statement = etree.SubElement(message, "Stmt")
    _text(statement, "Id", statement_id or f"S{stamp}-{serial}"[:35])
    _text(statement, "CreDtTm", timezone.now().replace(microsecond=0).isoformat())
    account = etree.SubElement(statement, "Acct")
    _text(etree.SubElement(account, "Id"), "IBAN", account_iban or settings.FLUX_CLEARING_IBAN)
    _text(account, "Ccy", currency)
    net = sum(
        (_minor(tx.amount) if tx.credit else -_minor(tx.amount))
        for entry in entries if entry.status == "BOOK" for tx in entry.transactions
    )
    _balance(statement, "OPBD", opening, currency, booking_date)
    _balance(statement, "CLBD", opening + net, currency, booking_date)
    for entry in entries:
        txs = entry.transactions
        is_credit = txs[0].credit
        ntry = etree.SubElement(statement, "Ntry")
        _amount(ntry, "Amt", sum(_minor(tx.amount) for tx in txs), txs[0].currency)
        _text(ntry, "CdtDbtInd", "CRDT" if is_credit else "DBIT")
        if version == V08:
            _text(etree.SubElement(ntry, "Sts"), "Cd", entry.status)
        else:
            _text(ntry, "Sts", entry.status)
        _date(ntry, "BookgDt", booking_date)
        _date(ntry, "ValDt", booking_date)
        ref = entry.acct_svcr_ref if entry.acct_svcr_ref is not None else f"REF{stamp}-{serial}-{next(_refs)}"
        if ref:
            _text(ntry, "AcctSvcrRef", ref[:35])
        _bank_code(ntry, returned=entry.return_code or any(tx.return_reason for tx in txs), is_credit=is_credit)
        details = etree.SubElement(ntry, "NtryDtls")
        if entry.batch:
            batch = etree.SubElement(details, "Btch")
            _text(batch, "NbOfTxs", str(len(txs)))
        for index, tx in enumerate(txs, start=1):
            own = tx.acct_svcr_ref
            if entry.batch and own is None:
                own = f"{ref}-{index}"[:35] if ref else ""
            _tx_details(details, tx, version, own)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


JEAN_DUPONT_IBAN = "FR7630006000011234567890189"
UNKNOWN_FLUX_IBAN = "NL91FLUX0000000000"


def demo_entries(*, return_of: Transaction | None = None) -> list[SampleEntry]:
    """What the correspondent would book for Flux today, made up (`manage.py camt053_sample`,
    seed_demo): a debit booking each EUR transfer Flux has sent and no statement booked yet, a credit to
    alice's first account from Jean Dupont at a French bank, a credit to a Flux IBAN no account holds
    (it goes to suspense) and, with `return_of`, that sent transfer returned (AC04: booked as it left,
    then credited back, as the correspondent would)."""
    entries = [
        debit(format_minor(txn.amount), currency=txn.currency, end_to_end_id=str(txn.pk),
              creditor_name=txn.beneficiary_name, creditor_iban=txn.external_iban, remittance=txn.reference)
        for txn in Transaction.objects.filter(kind=TransactionKind.EXTERNAL_TRANSFER, status=TransactionStatus.SENT,
                                              currency="EUR")
        .exclude(statement_entries__outcome=StatementEntryOutcome.BOOKED).order_by("pk")
    ]
    alice = Account.objects.filter(customer__username="alice", currency="EUR").select_related("customer").order_by("pk")
    if alice := alice.first():
        entries.append(credit("125.00", debtor_name="Jean Dupont", debtor_iban=JEAN_DUPONT_IBAN,
                              creditor_name=alice.customer.get_full_name(), creditor_iban=alice.iban,
                              remittance="Remboursement week-end"))
    entries.append(credit("42.00", debtor_name="Unknown Payer", debtor_iban=JEAN_DUPONT_IBAN,
                          creditor_iban=UNKNOWN_FLUX_IBAN, remittance="Wrong account"))
    if return_of is not None:
        entries.append(credit(format_minor(return_of.amount), end_to_end_id=str(return_of.pk), return_reason="AC04",
                              debtor_name=return_of.beneficiary_name, debtor_iban=return_of.external_iban,
                              remittance=return_of.reference))
    return entries


def next_opening_balance(currency: str = "EUR") -> int:
    """The opening balance of the next made-up statement: the closing balance of the latest one
    uploaded of Flux's account in `currency`, as a bank's statements follow one another (0 for the
    first)."""
    closing = (Statement.objects.filter(currency=currency, closing_balance__isnull=False)
               .order_by("-id").values_list("closing_balance", flat=True).first())
    return closing or 0
