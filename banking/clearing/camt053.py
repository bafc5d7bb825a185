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
    """Look-ups in one version's namespace: paths such as "RltdPties/Dbtr/Nm" in Clark notation
    ({namespace}RltdPties/...), made once each, and lxml's own findtext (a statement of 10,000
    entries makes some 200,000 look-ups: 3 s of CPU through a namespaces mapping, cProfile)."""

    def __init__(self, namespace: str):
        self.prefix = "{" + namespace + "}"
        self._paths: dict[str, str] = {}

    def _q(self, path: str) -> str:
        qualified = self._paths.get(path)
        if qualified is None:
            qualified = self._paths[path] = "/".join(
                part if part in (".", "..") else self.prefix + part for part in path.split("/"))
        return qualified

    def find(self, node, path: str):
        return node.find(self._q(path))

    def findall(self, node, path: str):
        return node.findall(self._q(path))

    def text(self, node, path: str) -> str:
        if node is None:
            return ""
        value = node.findtext(self._q(path))
        return " ".join(value.split()) if value else ""


def _minor(text: str) -> int:
    if not AMOUNT_RE.match(text or ""):
        raise _refuse(_("The amount of %(what)s is not a valid amount: %(text)s.")
                      % {"what": _("an entry"), "text": text[:40]})
    minor = Decimal(text) * 100
    if minor != minor.to_integral_value():
        raise _refuse(_("The amount of %(what)s has more decimals than its currency: %(text)s.")
                      % {"what": _("an entry"), "text": text})
    return int(minor)


class _Flat:
    """One Ntry or TxDtls read in one pass: each descendant's text by its path ("RltdPties/Dbtr/Nm";
    repeated elements, such as RmtInf/Ustrd, joined) and its first element by path (amounts carry
    their currency as an attribute). A statement of 10,000 entries looked up through lxml's find,
    path by path, spent 2 s of CPU on 200,000 look-ups (cProfile); dictionaries answer at once.
    Only elements of the message's namespace count; `skip` names subtrees left out (an Ntry's
    NtryDtls: its transactions are read one by one)."""

    def __init__(self, node, prefix: str, skip: frozenset[str] = frozenset()):
        self.texts: dict[str, str] = {}
        self.elements: dict[str, object] = {}
        cut = len(prefix)
        stack = [(node, "")]
        while stack:
            parent, base = stack.pop()
            for child in parent:
                tag = child.tag
                if not isinstance(tag, str) or not tag.startswith(prefix):
                    continue
                path = base + tag[cut:]
                if path in skip:
                    continue
                self.elements.setdefault(path, child)
                text = " ".join((child.text or "").split())
                if text:
                    self.texts[path] = f"{self.texts[path]} {text}" if path in self.texts else text
                if len(child):
                    stack.append((child, path + "/"))

    def text(self, path: str) -> str:
        return self.texts.get(path, "")

    def amount(self, *paths: str) -> tuple[int, str] | None:
        for path in paths:
            element = self.elements.get(path)
            if element is not None:
                currency = (element.get("Ccy") or "").strip()
                if not CURRENCY_RE.match(currency):
                    raise _refuse(_("An amount has no valid currency."))
                return _minor((element.text or "").strip()), currency
        return None

    def date(self, path: str, what, *, required: bool) -> date | None:
        """A DateAndDateTimeChoice: Dt (a date) or DtTm (a date and time, its date taken)."""
        day, moment = self.text(f"{path}/Dt"), self.text(f"{path}/DtTm")
        try:
            if day:
                return date.fromisoformat(day[:10])
            if moment:
                return datetime.fromisoformat(moment).date()
        except ValueError:
            pass
        if required and path not in self.elements:
            raise _refuse(_("%(what)s has no date.") % {"what": what()})
        if required or day or moment:
            raise _refuse(_("%(what)s has no valid date.") % {"what": what()})
        return None

    def signed(self, amount: int, what) -> int:
        indicator = self.text("CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            raise _refuse(_("%(what)s says neither CRDT nor DBIT.") % {"what": what()})
        return amount if indicator == "CRDT" else -amount

    def party_name(self, role: str) -> str:
        # .08: Dbtr/Pty/Nm (Party40Choice); .02: Dbtr/Nm.
        return (self.text(f"RltdPties/{role}/Pty/Nm") or self.text(f"RltdPties/{role}/Nm"))[:140]

    def iban(self, role: str) -> str:
        return "".join(self.text(f"RltdPties/{role}Acct/Id/IBAN").split()).upper()[:34]

    def is_return_code(self) -> bool:
        return self.text("BkTxCd/Domn/Fmly/SubFmlyCd") in RETURN_SUBFAMILIES


def _status(ntry: _Flat) -> str:
    # .02: <Sts>BOOK</Sts>; .08: <Sts><Cd>BOOK</Cd></Sts> (EntryStatus1Choice).
    return ntry.text("Sts/Cd") or ntry.text("Sts/Prtry") or ntry.text("Sts")


def _entries_of(reader: _Reader, node, ntry: _Flat, position: int) -> list[CamtEntry]:
    def what() -> str:
        return _("entry %(n)d") % {"n": position}

    found = ntry.amount("Amt")
    if found is None:
        raise _refuse(_("Entry %(n)d has no amount.") % {"n": position})
    amount, currency = found
    signed = ntry.signed(amount, what)
    booking = ntry.date("BookgDt", what, required=True)
    value = ntry.date("ValDt", what, required=False)
    ntry_ref = ntry.text("AcctSvcrRef")[:35]
    ntry_return = ntry.is_return_code()
    details = reader.findall(node, "NtryDtls/TxDtls")
    if not details:
        return [CamtEntry(amount=signed, currency=currency, booking_date=booking, value_date=value,
                          acct_svcr_ref=ntry_ref, is_return=ntry_return)]
    made = []
    for index, element in enumerate(details, start=1):
        detail = _Flat(element, reader.prefix)
        found = detail.amount("Amt", "AmtDtls/TxAmt/Amt")
        if found is None:
            if len(details) > 1:
                raise _refuse(_("A transaction of entry %(n)d has no amount.") % {"n": position})
            found = (amount, currency)
        detail_amount, detail_currency = found
        indicator = detail.text("CdtDbtInd")  # .08 may say it per transaction
        sign = -1 if (indicator or ("CRDT" if signed > 0 else "DBIT")) == "DBIT" else 1
        end_to_end = detail.text("Refs/EndToEndId")[:35]
        reason = detail.text("RtrInf/Rsn/Cd")[:4]
        # An entry's AcctSvcrRef stands for its one transaction; in a batch each has its own, or
        # its EndToEndId; failing both, the entry's reference and the transaction's place in it.
        own_ref = detail.text("Refs/AcctSvcrRef")[:35]
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
            debtor_name=detail.party_name("Dbtr"),
            debtor_iban=detail.iban("Dbtr"),
            creditor_name=detail.party_name("Cdtr"),
            creditor_iban=detail.iban("Cdtr"),
            remittance=detail.text("RmtInf/Ustrd")[:140],
            return_reason=reason,
            is_return=bool(reason) or ntry_return or detail.is_return_code(),
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
    for node in reader.findall(statement, "Bal"):
        balance = _Flat(node, reader.prefix)
        code = balance.text("Tp/CdOrPrtry/Cd")
        if code not in OPENING_CODES and code != CLOSING_CODE:
            continue
        found = balance.amount("Amt")
        if found is None:
            raise _refuse(_("A balance has no amount."))
        amount, balance_currency = found
        parsed.currency = parsed.currency or balance_currency
        amount = balance.signed(amount, lambda: _("a balance"))
        if code == CLOSING_CODE:
            parsed.closing_balance = amount
            parsed.closing_date = balance.date("Dt", lambda: _("The closing balance"), required=True)
        elif parsed.opening_balance is None:
            parsed.opening_balance = amount
    if not CURRENCY_RE.match(parsed.currency or ""):
        raise _refuse(_("The statement does not say its account's currency."))
    if parsed.closing_balance is None:
        raise _refuse(_("The statement has no closing balance (CLBD)."))
    skip = frozenset({"NtryDtls"})
    for position, node in enumerate(reader.findall(statement, "Ntry"), start=1):
        ntry = _Flat(node, reader.prefix, skip)
        if _status(ntry) != "BOOK":
            continue
        parsed.entries.extend(_entries_of(reader, node, ntry, position))
    return parsed
