"""Reading a camt.053 statement (ISO 20022 BankToCustomerStatement), versions .001.02 and .001.08.

What is read, per the message definitions (BankToCustomerStatementV02 / V08):

    Document/BkToCstmrStmt
      GrpHdr/MsgId
      Stmt (the first one; a file of Flux's one account at its correspondent holds one)
        Id, Acct/Id/IBAN, Acct/Ccy
        Bal: Tp/CdOrPrtry/Cd (OPBD or PRCD: opening; CLBD: closing), Amt, CdtDbtInd, Dt/Dt or Dt/DtTm
        Ntry (each): Amt[@Ccy], CdtDbtInd, Sts (.02: <Sts>BOOK</Sts>; .08: <Sts><Cd>BOOK</Cd></Sts>),
          BookgDt/Dt or DtTm, ValDt/Dt or DtTm, AcctSvcrRef, BkTxCd/Domn/Fmly/SubFmlyCd,
          NtryDtls/TxDtls (each, one StatementEntry; a batch-booked entry holds many):
            Amt (.08) or AmtDtls/TxAmt/Amt, else the Ntry's when it has one TxDtls;
            Refs/AcctSvcrRef, Refs/EndToEndId ("NOTPROVIDED" is none);
            BkTxCd/Domn/Fmly/SubFmlyCd;
            RltdPties/Dbtr/Nm (.02) or Dbtr/Pty/Nm (.08), DbtrAcct/Id/IBAN, the same for Cdtr;
            RmtInf/Ustrd (joined); RtrInf/Rsn/Cd.
        An Ntry without TxDtls is one entry of its own.

Ignored: every other statement in the file, entries not BOOK (pending, information), reversal
indicators, charges, interest, structured remittance, ultimate parties, agents, TxsSummry (the
entries themselves are counted). A file that is not one of these two messages, or lacks a
mandatory part Flux needs, raises ValidationFailed (400 validation_error) before anything changes.

The parser is hardened (no entities resolved, no DTD, no network, a size limit): a statement comes
from outside Flux.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _
from lxml import etree

from core.errors import ValidationFailed

NAMESPACES = {
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02": "camt.053.001.02",
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08": "camt.053.001.08",
}
# ISO 20022 ActiveOrHistoricCurrencyAndAmount: up to 18 digits, at most 5 of them decimals.
AMOUNT_RE = re.compile(r"\A[0-9]{1,18}(?:\.[0-9]{1,5})?\Z")
CURRENCY_RE = re.compile(r"\A[A-Z]{3}\Z")
OPENING_CODES = ("OPBD", "PRCD")
CLOSING_CODE = "CLBD"
# Bank transaction sub-family of a returned credit transfer (ISO external code list).
RETURN_SUBFAMILIES = {"RRTN"}
NOT_PROVIDED = "NOTPROVIDED"


@dataclass
class CamtEntry:
    """One transaction detail of one booked Ntry (or the Ntry itself when it has none)."""

    amount: int  # signed minor units: credits positive, debits negative
    currency: str
    booking_date: date
    value_date: date | None
    acct_svcr_ref: str = ""  # the TxDtls' own, else the Ntry's (when it has one TxDtls)
    end_to_end_id: str = ""
    debtor_name: str = ""
    debtor_iban: str = ""
    creditor_name: str = ""
    creditor_iban: str = ""
    remittance: str = ""
    return_reason: str = ""
    is_return: bool = False  # a return reason, or a return bank transaction code

    @property
    def is_credit(self) -> bool:
        return self.amount > 0

    @property
    def key(self) -> str:
        """What identifies it across uploads (StatementEntry.key): its AcctSvcrRef, else its
        EndToEndId; "" when it has neither (then it cannot be told apart, see statements.py)."""
        if self.acct_svcr_ref:
            return f"acct:{self.acct_svcr_ref}"
        if self.end_to_end_id:
            return f"e2e:{self.end_to_end_id}"
        return ""


@dataclass
class CamtStatement:
    version: str
    message_id: str
    statement_id: str
    account_iban: str
    currency: str
    opening_balance: int | None = None
    closing_balance: int | None = None
    closing_date: date | None = None
    entries: list[CamtEntry] = field(default_factory=list)


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed({"file": [message]}, message)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True,
    )


class _Reader:
    """Namespaced look-ups in one version's namespace."""

    def __init__(self, namespace: str):
        self.ns = {"c": namespace}

    def find(self, node, path: str):
        return node.find(self._q(path), self.ns)

    def findall(self, node, path: str):
        return node.findall(self._q(path), self.ns)

    def text(self, node, path: str) -> str:
        found = node.find(self._q(path), self.ns) if node is not None else None
        return " ".join((found.text or "").split()) if found is not None else ""

    @staticmethod
    def _q(path: str) -> str:
        return "/".join(f"c:{part}" if part not in (".", "..") else part for part in path.split("/"))


def _minor(text: str, what: str) -> int:
    if not AMOUNT_RE.match(text or ""):
        raise _refuse(_("The amount of %(what)s is not a valid amount: %(text)s.") % {"what": what, "text": text[:40]})
    minor = Decimal(text) * 100
    if minor != minor.to_integral_value():
        raise _refuse(_("The amount of %(what)s has more decimals than its currency: %(text)s.")
                      % {"what": what, "text": text})
    return int(minor)


def _date(reader: _Reader, node, what: str, *, required: bool) -> date | None:
    """A DateAndDateTimeChoice: Dt (a date) or DtTm (a date and time, its date taken)."""
    if node is None:
        if required:
            raise _refuse(_("%(what)s has no date.") % {"what": what})
        return None
    day, moment = reader.text(node, "Dt"), reader.text(node, "DtTm")
    try:
        if day:
            return date.fromisoformat(day[:10])
        if moment:
            return datetime.fromisoformat(moment).date()
    except ValueError:
        pass
    if required or day or moment:
        raise _refuse(_("%(what)s has no valid date.") % {"what": what})
    return None


def _signed(reader: _Reader, node, amount: int, what: str) -> int:
    indicator = reader.text(node, "CdtDbtInd")
    if indicator not in ("CRDT", "DBIT"):
        raise _refuse(_("%(what)s says neither CRDT nor DBIT.") % {"what": what})
    return amount if indicator == "CRDT" else -amount


def _status(reader: _Reader, entry, version: str) -> str:
    if version == "camt.053.001.02":
        return reader.text(entry, "Sts")
    return reader.text(entry, "Sts/Cd") or reader.text(entry, "Sts/Prtry")


def _party_name(reader: _Reader, parties, role: str, version: str) -> str:
    if parties is None:
        return ""
    name = reader.text(parties, f"{role}/Pty/Nm") if version != "camt.053.001.02" else ""
    return (name or reader.text(parties, f"{role}/Nm"))[:140]


def _iban(reader: _Reader, parties, role: str) -> str:
    if parties is None:
        return ""
    return "".join(reader.text(parties, f"{role}Acct/Id/IBAN").split()).upper()[:34]


def _amount_of(reader: _Reader, node) -> tuple[int, str] | None:
    amt = reader.find(node, "Amt")
    if amt is None:
        amt = reader.find(node, "AmtDtls/TxAmt/Amt")
    if amt is None:
        return None
    currency = (amt.get("Ccy") or "").strip()
    if not CURRENCY_RE.match(currency):
        raise _refuse(_("An amount has no valid currency."))
    return _minor((amt.text or "").strip(), _("an entry")), currency


def _subfamily(reader: _Reader, node) -> str:
    return reader.text(node, "BkTxCd/Domn/Fmly/SubFmlyCd")


def _entries_of(reader: _Reader, ntry, version: str, position: int) -> list[CamtEntry]:
    what = _("entry %(n)d") % {"n": position}
    amount, currency = _amount_of(reader, ntry) or (None, None)
    if amount is None:
        raise _refuse(_("Entry %(n)d has no amount.") % {"n": position})
    signed = _signed(reader, ntry, amount, what)
    booking = _date(reader, reader.find(ntry, "BookgDt"), what, required=True)
    value = _date(reader, reader.find(ntry, "ValDt"), what, required=False)
    ntry_ref = reader.text(ntry, "AcctSvcrRef")[:35]
    ntry_return = _subfamily(reader, ntry) in RETURN_SUBFAMILIES
    details = reader.findall(ntry, "NtryDtls/TxDtls")
    if not details:
        return [CamtEntry(amount=signed, currency=currency, booking_date=booking, value_date=value,
                          acct_svcr_ref=ntry_ref, is_return=ntry_return)]
    made = []
    for index, detail in enumerate(details, start=1):
        found = _amount_of(reader, detail)
        if found is None:
            if len(details) > 1:
                raise _refuse(_("A transaction of entry %(n)d has no amount.") % {"n": position})
            found = (amount, currency)
        detail_amount, detail_currency = found
        indicator = reader.text(detail, "CdtDbtInd")  # .08 may say it per transaction
        sign = -1 if (indicator or ("CRDT" if signed > 0 else "DBIT")) == "DBIT" else 1
        parties = reader.find(detail, "RltdPties")
        end_to_end = reader.text(detail, "Refs/EndToEndId")[:35]
        reason = reader.text(detail, "RtrInf/Rsn/Cd")[:4]
        # An entry's AcctSvcrRef stands for its one transaction; in a batch each has its own, or
        # its EndToEndId; failing both, the entry's reference and the transaction's place in it.
        own_ref = reader.text(detail, "Refs/AcctSvcrRef")[:35]
        if not own_ref and ntry_ref:
            own_ref = ntry_ref if len(details) == 1 else ("" if end_to_end and end_to_end != NOT_PROVIDED
                                                          else f"{ntry_ref}/{index}"[:35])
        made.append(CamtEntry(
            amount=sign * detail_amount,
            currency=detail_currency,
            booking_date=booking,
            value_date=value,
            acct_svcr_ref=own_ref,
            end_to_end_id="" if end_to_end == NOT_PROVIDED else end_to_end,
            debtor_name=_party_name(reader, parties, "Dbtr", version),
            debtor_iban=_iban(reader, parties, "Dbtr"),
            creditor_name=_party_name(reader, parties, "Cdtr", version),
            creditor_iban=_iban(reader, parties, "Cdtr"),
            remittance=" ".join(reader.text(node, ".") for node in reader.findall(detail, "RmtInf/Ustrd"))[:140],
            return_reason=reason,
            is_return=bool(reason) or ntry_return or _subfamily(reader, detail) in RETURN_SUBFAMILIES,
        ))
    return made


def parse_camt053(content: bytes) -> CamtStatement:
    """The statement in `content` (camt.053.001.02 or .08), or ValidationFailed saying why not.
    Only BOOK entries are kept, in file order, one per transaction detail."""
    if not isinstance(content, bytes | bytearray) or not content.strip():
        raise _refuse(_("The file is empty."))
    if len(content) > settings.FLUX_STATEMENT_MAX_BYTES:
        raise _refuse(_("The file is larger than %(size)d bytes.") % {"size": settings.FLUX_STATEMENT_MAX_BYTES})
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise _refuse(_("A statement may not declare a document type or entities."))
    try:
        root = etree.fromstring(bytes(content), parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise _refuse(_("The file is not well-formed XML: %(error)s") % {"error": str(exc)[:200]}) from exc
    qname = etree.QName(root)
    version = NAMESPACES.get(qname.namespace or "")
    if qname.localname != "Document" or version is None:
        raise _refuse(_("The file is not a camt.053 statement (version .001.02 or .001.08)."))
    reader = _Reader(qname.namespace)
    message = reader.find(root, "BkToCstmrStmt")
    if message is None:
        raise _refuse(_("The file is not a camt.053 statement (no BkToCstmrStmt)."))
    message_id = reader.text(message, "GrpHdr/MsgId")
    statement = reader.find(message, "Stmt")
    if not message_id or statement is None:
        raise _refuse(_("The statement has no message id or no Stmt."))
    statement_id = reader.text(statement, "Id")
    iban = "".join(reader.text(statement, "Acct/Id/IBAN").split()).upper()
    if not statement_id or not iban:
        raise _refuse(_("The statement has no Id or no account IBAN."))
    currency = reader.text(statement, "Acct/Ccy")
    parsed = CamtStatement(
        version=version, message_id=message_id[:35], statement_id=statement_id[:35], account_iban=iban[:34],
        currency=currency,
    )
    for balance in reader.findall(statement, "Bal"):
        code = reader.text(balance, "Tp/CdOrPrtry/Cd")
        if code not in OPENING_CODES and code != CLOSING_CODE:
            continue
        found = _amount_of(reader, balance)
        if found is None:
            raise _refuse(_("A balance has no amount."))
        amount, balance_currency = found
        parsed.currency = parsed.currency or balance_currency
        amount = _signed(reader, balance, amount, _("a balance"))
        if code == CLOSING_CODE:
            parsed.closing_balance = amount
            parsed.closing_date = _date(reader, reader.find(balance, "Dt"), _("The closing balance"), required=True)
        elif parsed.opening_balance is None:
            parsed.opening_balance = amount
    if not CURRENCY_RE.match(parsed.currency or ""):
        raise _refuse(_("The statement does not say its account's currency."))
    if parsed.closing_balance is None:
        raise _refuse(_("The statement has no closing balance (CLBD)."))
    for position, ntry in enumerate(reader.findall(statement, "Ntry"), start=1):
        if _status(reader, ntry, version) != "BOOK":
            continue
        parsed.entries.extend(_entries_of(reader, ntry, version, position))
    return parsed
