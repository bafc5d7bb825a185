"""Reading camt.053.001.02 and .08 (banking.clearing.camt053): from files written by hand as banks
write them, and from the sample builder; and refusing whatever is not such a statement."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from banking.clearing.camt053 import parse_camt053
from banking.clearing.samples import V02, V08, VERSIONS, SampleEntry, SampleTx, camt053_xml, credit, debit
from banking.clearing.statements import statement_import
from banking.tests.clearing import sent_transfer
from core.testing.assertions import refused

# A camt.053.001.02 as a Dutch bank writes one (trimmed): a single credit, then a batch of two
# debits whose transactions carry their amounts in AmtDtls/TxAmt, then a pending entry.
HAND_WRITTEN_V02 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
          xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>CAMT053-0001</MsgId><CreDtTm>2026-03-02T06:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>0001-2026-03-01</Id><ElctrncSeqNb>61</ElctrncSeqNb><CreDtTm>2026-03-02T06:00:00</CreDtTm>
      <Acct><Id><IBAN>NL36 INGB 0007 6543 21</IBAN></Id><Ccy>EUR</Ccy></Acct>
      <Bal><Tp><CdOrPrtry><Cd>PRCD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1000.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd><Dt><Dt>2026-02-28</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">123456789.99</Amt>
        <CdtDbtInd>CRDT</CdtDbtInd><Dt><DtTm>2026-03-01T23:59:59</DtTm></Dt></Bal>
      <Ntry>
        <Amt Ccy="EUR">0.01</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><DtTm>2026-03-01T10:15:00+01:00</DtTm></BookgDt><ValDt><Dt>2026-03-02</Dt></ValDt>
        <AcctSvcrRef>ING-0001</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>NOTPROVIDED</EndToEndId></Refs>
          <RltdPties>
            <Dbtr><Nm>Jean   Dupont</Nm></Dbtr>
            <DbtrAcct><Id><IBAN>FR7630006000011234567890189</IBAN></Id></DbtrAcct>
            <Cdtr><Nm>Alice Liddell</Nm></Cdtr>
            <CdtrAcct><Id><IBAN>nl91 flux 0000 0000 00</IBAN></Id></CdtrAcct>
          </RltdPties>
          <RmtInf><Ustrd>Rent</Ustrd><Ustrd>March</Ustrd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">30.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
        <BookgDt><Dt>2026-03-01</Dt></BookgDt>
        <AcctSvcrRef>ING-0002</AcctSvcrRef>
        <NtryDtls>
          <Btch><NbOfTxs>2</NbOfTxs></Btch>
          <TxDtls><Refs><AcctSvcrRef>ING-0002-1</AcctSvcrRef><EndToEndId>41</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="EUR">10.25</Amt></TxAmt></AmtDtls></TxDtls>
          <TxDtls><Refs><EndToEndId>42</EndToEndId></Refs>
            <AmtDtls><TxAmt><Amt Ccy="EUR">20.25</Amt></TxAmt></AmtDtls></TxDtls>
        </NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>PDNG</Sts>
        <BookgDt><Dt>2026-03-01</Dt></BookgDt>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""

# A camt.053.001.08 return: Sts/Cd, TxDtls/Amt, Dbtr/Pty/Nm, RtrInf, no AcctSvcrRef anywhere.
HAND_WRITTEN_V08 = b"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>M-8</MsgId><CreDtTm>2026-03-02T06:00:00Z</CreDtTm></GrpHdr>
    <Stmt>
      <Id>S-8</Id>
      <Acct><Id><IBAN>NL36INGB0007654321</IBAN></Id></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2026-03-01</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>
        <Dt><Dt>2026-03-01</Dt></Dt></Bal>
      <Ntry>
        <Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-03-01</Dt></BookgDt>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>1234</EndToEndId></Refs>
          <Amt Ccy="EUR">100.00</Amt>
          <RltdPties><Dbtr><Pty><Nm>Hans Meier</Nm></Pty></Dbtr>
            <DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct></RltdPties>
          <RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Stmt>
  </BkToCstmrStmt>
</Document>
"""


def test_a_hand_written_v02_statement():
    statement = parse_camt053(HAND_WRITTEN_V02)

    assert (statement.version, statement.message_id, statement.statement_id) == (V02, "CAMT053-0001", "0001-2026-03-01")
    assert (statement.account_iban, statement.currency) == ("NL36INGB0007654321", "EUR")
    assert (statement.opening_balance, statement.closing_balance) == (-1000_00, 123_456_789_99)
    assert statement.closing_date == date(2026, 3, 1)
    first, second, third = statement.entries  # the pending entry is skipped
    assert (first.amount, first.currency, first.booking_date, first.value_date) == (
        1, "EUR", date(2026, 3, 1), date(2026, 3, 2))
    assert (first.debtor_name, first.debtor_iban, first.creditor_name, first.creditor_iban) == (
        "Jean Dupont", "FR7630006000011234567890189", "Alice Liddell", "NL91FLUX0000000000")
    assert (first.end_to_end_id, first.acct_svcr_ref, first.key) == ("", "ING-0001", "acct:ING-0001")
    assert first.remittance == "Rent March" and not first.is_return
    # The batch: each transaction its own amount and key (its own reference, else its EndToEndId).
    assert (second.amount, second.key, third.amount, third.key) == (-10_25, "acct:ING-0002-1", -20_25, "e2e:42")


def test_a_hand_written_v08_return():
    statement = parse_camt053(HAND_WRITTEN_V08)
    [entry] = statement.entries
    assert statement.version == V08 and statement.currency == "EUR"  # from the balances: Acct/Ccy is optional
    assert (entry.amount, entry.end_to_end_id, entry.key, entry.return_reason, entry.is_return) == (
        100_00, "1234", "e2e:1234", "AC04", True)
    assert (entry.debtor_name, entry.debtor_iban) == ("Hans Meier", "DE89370400440532013000")


@pytest.mark.parametrize("version", VERSIONS)
def test_what_the_builder_writes_reads_back_in_both_versions(version):
    content = camt053_xml([
        credit("1234.56", debtor_name="Jean Dupont", debtor_iban="FR7630006000011234567890189",
               creditor_iban="NL91FLUX0000000000", remittance="Invoice 12", acct_svcr_ref="R1"),
        SampleEntry(batch=[SampleTx("0.10"), SampleTx("0.20", end_to_end_id="E2")]),
        debit("3.00", end_to_end_id="77"),
        credit("9.99", end_to_end_id="78", return_reason="MS03"),
    ], version=version, opening=50_00)
    statement = parse_camt053(content)
    assert [(e.amount, e.key.split(":")[0]) for e in statement.entries] == [
        (1234_56, "acct"), (10, "acct"), (20, "acct"), (-3_00, "acct"), (9_99, "acct")]
    assert statement.entries[0].debtor_name == "Jean Dupont" and statement.entries[0].remittance == "Invoice 12"
    assert statement.entries[2].end_to_end_id == "E2" and statement.entries[3].end_to_end_id == "77"
    assert statement.entries[4].return_reason == "MS03" and statement.entries[4].is_return
    assert (statement.opening_balance, statement.closing_balance) == (50_00, 50_00 + 1234_56 + 30 - 3_00 + 9_99)


REFUSED = {
    "not xml": b"hello",
    "html": b"<html><body/></html>",
    "no namespace": b"<Document><BkToCstmrStmt/></Document>",
    "camt.052": b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.052.001.02'><BkToCstmrAcctRpt/></Document>",
    "pain.001": b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:pain.001.001.09'><CstmrCdtTrfInitn/></Document>",
    "no statement": b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.08'><BkToCstmrStmt>"
                    b"<GrpHdr><MsgId>M</MsgId></GrpHdr></BkToCstmrStmt></Document>",
    "billion laughs": b"<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'><!ENTITY lol2 '&lol;&lol;'>]>"
                      b"<Document xmlns='urn:iso:std:iso:20022:tech:xsd:camt.053.001.02'>&lol2;</Document>",
    "external entity": b"<?xml version='1.0'?><!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]><d>&x;</d>",
    "no closing balance": HAND_WRITTEN_V08.replace(b"CLBD", b"ITBD"),
    "amount with a comma": HAND_WRITTEN_V08.replace(b">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>",
                                                    b">100,00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>"),
    "a tenth of a cent": HAND_WRITTEN_V08.replace(b"<Amt Ccy=\"EUR\">100.00</Amt>\n          <RltdPties>",
                                                  b"<Amt Ccy=\"EUR\">100.001</Amt>\n          <RltdPties>"),
    "no booking date": HAND_WRITTEN_V08.replace(b"<BookgDt><Dt>2026-03-01</Dt></BookgDt>", b""),
    "neither credit nor debit": HAND_WRITTEN_V08.replace(b"<CdtDbtInd>CRDT</CdtDbtInd><Sts>",
                                                         b"<CdtDbtInd>BOTH</CdtDbtInd><Sts>"),
    "no account": HAND_WRITTEN_V08.replace(b"<IBAN>NL36INGB0007654321</IBAN>", b""),
}


@pytest.mark.parametrize("name", REFUSED)
def test_whatever_is_not_a_camt053_statement_is_refused(name):
    content = REFUSED[name]
    assert content not in (HAND_WRITTEN_V02, HAND_WRITTEN_V08)
    with refused("validation_error") as error:
        parse_camt053(content)
    assert error.value.fields["file"]


def test_a_file_over_the_limit_is_refused(settings):
    settings.FLUX_STATEMENT_MAX_BYTES = len(HAND_WRITTEN_V08) - 1
    with refused("validation_error"):
        parse_camt053(HAND_WRITTEN_V08)


def test_the_sample_command_books_sent_transfers_credits_alice_and_returns_one(
        sam, alice, alice_account, tmp_path):
    kept, returned = sent_transfer(alice, alice_account, 10_00), sent_transfer(alice, alice_account, 20_00)
    target = tmp_path / "sample.xml"
    call_command("camt053_sample", "--camt", "02", "--return", str(returned.pk), "--output", str(target))

    statement = statement_import(initiator=sam, content=target.read_bytes())

    # Both transfers booked as they left; one of them then credited back.
    assert (statement.version, statement.booked, statement.credited, statement.suspense, statement.returned) == (
        V02, 2, 1, 1, 1)
    booked = set(statement.statement_entries.filter(outcome="booked").values_list("transaction_id", flat=True))
    assert booked == {kept.pk, returned.pk}
    # The next sample opens with this one's closing balance, as a bank's statements follow one another.
    call_command("camt053_sample", "--output", str(target))
    assert statement_import(initiator=sam, content=target.read_bytes()).opening_balance == statement.closing_balance
    assert statement.closing_balance == statement.opening_balance + sum(
        statement.statement_entries.values_list("amount", flat=True))
    with pytest.raises(CommandError):
        call_command("camt053_sample", "--return", str(kept.pk + 1000))
