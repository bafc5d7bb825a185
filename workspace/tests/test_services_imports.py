"""Bulk imports through the service: validation first, each line applied once, a second upload of
the same file applying nothing, refusals per line, refused files storing nothing."""

from __future__ import annotations

import pytest

from audit import actions
from audit.models import AuditEvent
from banking.models import Entry, Transaction, TransactionStatus
from banking.services import account_freeze
from banking.tests.factories import fresh, fund
from banking.tests.ledger import assert_balanced
from core.models import IdempotencyKey
from core.testing.assertions import refused
from core.testing.spreadsheet import assert_spreadsheet_safe
from workspace.imports.reader import HEADER, MAX_LINES
from workspace.imports.report import import_report_csv_lines
from workspace.imports.services import import_apply_next, import_create
from workspace.models import ImportBatch, ImportLine

UNKNOWN_FLUX_IBAN = "NL64FLUX0000000001"  # a valid Flux IBAN that no account has
HEADER_LINE = ",".join(HEADER)


def csv_bytes(*lines: str) -> bytes:
    return ("\r\n".join([HEADER_LINE, *lines]) + "\r\n").encode()


def statuses(batch: ImportBatch) -> dict[int, str]:
    return dict(batch.lines.values_list("number", "status"))


def messages_of(batch: ImportBatch) -> dict[int, str]:
    return dict(batch.lines.values_list("number", "message"))


@pytest.fixture
def mixed_file(alice_account, bob_account) -> bytes:
    """Lines 2-4 good, 5-8 malformed, 9-10 unknown IBANs, 11 insufficient funds, 12 pending."""
    a, b = alice_account.iban, bob_account.iban
    return csv_bytes(
        f"deposit,{a},100.00,,Cash in",  # 2: alice +100
        f"withdrawal,{b},20.5,,Cash out",  # 3: bob -20.50
        f"transfer,{a},30,{b},Rent",  # 4: alice -30, bob +30
        f"refund,{a},10,,",  # 5: unknown type
        f"deposit,{a},12.345,,",  # 6: three decimals
        f"deposit,{a}",  # 7: too few cells
        f"deposit,{a},-5,,",  # 8: negative
        f"deposit,{UNKNOWN_FLUX_IBAN},10,,",  # 9: no such account
        f"transfer,{a},10,NL00FLUX0000000000,",  # 10: invalid IBAN
        f"withdrawal,{b},9000.00,,Too much",  # 11: bob cannot pay 9000 (pending, but nothing to hold)
        f"deposit,{b},6000.00,,Big cash",  # 12: above the cash threshold -> pending
    )


def test_a_mixed_file_is_validated_first_and_only_good_lines_apply(agnes, alice_account, bob_account, mixed_file):
    alice_before, bob_before = fresh(alice_account).balance, fresh(bob_account).balance
    entries_before = Entry.objects.count()

    batch = import_create(uploader=agnes, file_name="mixed.csv", content=mixed_file)

    # Validation alone moves nothing.
    assert Entry.objects.count() == entries_before
    assert batch.line_count == 11
    assert statuses(batch) == {
        2: "valid", 3: "valid", 4: "valid", 5: "invalid", 6: "invalid", 7: "invalid", 8: "invalid",
        9: "invalid", 10: "invalid", 11: "valid", 12: "valid",
    }
    reasons = messages_of(batch)
    assert "type must be deposit" in reasons[5]
    assert "at most two decimals" in reasons[6]
    assert "Expected 5 cells" in reasons[7]
    assert "positive decimal" in reasons[8]
    assert f"No Flux customer account has the IBAN {UNKNOWN_FLUX_IBAN}" in reasons[9]
    assert "not a valid IBAN" in reasons[10]

    progress = import_apply_next(actor=agnes, batch_id=batch.pk)

    assert progress.finished and progress.done == 11
    assert statuses(batch) == {
        2: "applied", 3: "applied", 4: "applied", 5: "invalid", 6: "invalid", 7: "invalid", 8: "invalid",
        9: "invalid", 10: "invalid", 11: "refused", 12: "pending",
    }
    assert messages_of(batch)[11] == "There is not enough money available on this account."
    assert fresh(alice_account).balance == alice_before + 100_00 - 30_00
    assert fresh(bob_account).balance == bob_before - 20_50 + 30_00  # the 6000 deposit waits
    assert Entry.objects.count() == entries_before + 6  # three posted operations, two entries each
    pending = ImportLine.objects.get(batch=batch, number=12).transaction
    assert pending.status == TransactionStatus.PENDING and pending.initiated_by == agnes
    assert_balanced(alice_account)
    assert_balanced(bob_account)
    assert fresh(batch).finished_at is not None


def test_the_same_file_uploaded_again_applies_nothing(agnes, alice_account, bob_account, mixed_file):
    first = import_create(uploader=agnes, file_name="mixed.csv", content=mixed_file)
    import_apply_next(actor=agnes, batch_id=first.pk)
    first_transactions = dict(first.lines.exclude(transaction=None).values_list("number", "transaction_id"))
    snapshot = (fresh(alice_account).balance, fresh(bob_account).balance, Entry.objects.count(),
                Transaction.objects.count())

    second = import_create(uploader=agnes, file_name="mixed-again.csv", content=mixed_file)
    assert second.sha256 == first.sha256
    import_apply_next(actor=agnes, batch_id=second.pk)

    assert (fresh(alice_account).balance, fresh(bob_account).balance, Entry.objects.count(),
            Transaction.objects.count()) == snapshot
    result = statuses(second)
    assert [result[n] for n in (2, 3, 4, 12)] == ["already"] * 4
    assert result[11] == "refused"  # its refusal was kept under its key: replayed, not run again
    assert f"Refused by import #{first.pk}" in messages_of(second)[11]
    assert dict(second.lines.exclude(transaction=None).values_list("number", "transaction_id")) == first_transactions
    assert f"import #{first.pk}" in messages_of(second)[2]


def test_chunks_are_applied_in_order_and_repeating_one_changes_nothing(agnes, alice_account):
    lines = [f"deposit,{alice_account.iban},1.00,,n{n}" for n in range(7)]
    batch = import_create(uploader=agnes, file_name="chunks.csv", content=csv_bytes(*lines))
    before = fresh(alice_account).balance

    progress = import_apply_next(actor=agnes, batch_id=batch.pk, limit=3)
    assert (progress.done, progress.finished, progress.percent) == (3, False, 42)
    assert fresh(alice_account).balance == before + 3_00
    assert fresh(batch).started_at is not None and fresh(batch).finished_at is None

    progress = import_apply_next(actor=agnes, batch_id=batch.pk, limit=3)
    assert (progress.done, progress.finished) == (6, False)
    assert fresh(alice_account).balance == before + 6_00
    assert statuses(batch) == {2: "applied", 3: "applied", 4: "applied", 5: "applied", 6: "applied", 7: "applied",
                               8: "valid"}
    progress = import_apply_next(actor=agnes, batch_id=batch.pk, limit=100)
    assert progress.finished
    assert fresh(alice_account).balance == before + 7_00
    assert set(statuses(batch).values()) == {"applied"}
    # Each line's transaction is the one it made, and only the lines made transactions.
    recorded = set(batch.lines.values_list("transaction_id", flat=True))
    assert recorded == set(Transaction.objects.filter(reference__startswith="n").values_list("pk", flat=True))
    assert len(recorded) == 7
    assert AuditEvent.objects.filter(action=actions.IMPORT_STARTED, target_id=str(batch.pk)).count() == 1

    # Nothing left: another call applies nothing.
    again = import_apply_next(actor=agnes, batch_id=batch.pk)
    assert again.finished and fresh(alice_account).balance == before + 7_00


def test_an_account_frozen_after_validation_refuses_its_line_only(agnes, sam, alice_account, bob_account):
    batch = import_create(uploader=agnes, file_name="f.csv", content=csv_bytes(
        f"deposit,{alice_account.iban},5,,", f"deposit,{bob_account.iban},5,,"))
    account_freeze(actor=sam, account_id=bob_account.pk, reason="Fraud check")
    import_apply_next(actor=agnes, batch_id=batch.pk)
    assert statuses(batch) == {2: "applied", 3: "refused"}
    assert "frozen" in messages_of(batch)[3]


def test_frozen_same_account_currency_and_counterparty_problems_are_invalid(agnes, alice, alice_account, bob_account,
                                                                           open_account):
    usd = open_account(alice, currency="USD")
    account_freeze(actor=agnes, account_id=bob_account.pk, reason="Check")
    a = alice_account.iban
    batch = import_create(uploader=agnes, file_name="v.csv", content=csv_bytes(
        f"deposit,{bob_account.iban},5,,",
        f"transfer,{a},5,{a},",
        f"transfer,{a},5,{usd.iban},",
        f"deposit,{a},5,{usd.iban},",
        f"transfer,{a},5,,",
        f"deposit,{a},5,,{'x' * 141}",
    ))
    reasons = messages_of(batch)
    assert set(statuses(batch).values()) == {"invalid"}
    assert "frozen" in reasons[2]
    assert "same account" in reasons[3]
    assert "in EUR, the counterparty in USD" in reasons[4]
    assert "Only a transfer has a counterparty" in reasons[5]
    assert "counterparty is missing" in reasons[6]
    assert "140 characters" in reasons[7]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"type;account;amount\r\ndeposit;x;1\r\n", "The first line must be the header"),
        (b"type,account,amount,counterparty,reference\r\n", "no operations"),
        (b"type,account,amount,counterparty,reference\r\ndeposit,\"NL,1\r\n", "not a readable CSV"),
        ("type,account,amount,counterparty,reference\r\nd\xe9p\xf4t\r\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_a_refused_file_stores_nothing_and_moves_nothing(agnes, alice_account, unchanged, content, message):
    with unchanged(), refused("validation_error") as excinfo:
        import_create(uploader=agnes, file_name="bad.csv", content=content)
    assert message in excinfo.value.fields["file"][0]
    assert not ImportBatch.objects.exists() and not ImportLine.objects.exists()


def test_a_file_too_big_or_too_long_is_refused(agnes, alice_account, unchanged, settings):
    too_many = csv_bytes(*[f"deposit,{alice_account.iban},1,,"] * (MAX_LINES + 1))
    with unchanged(), refused("validation_error") as excinfo:
        import_create(uploader=agnes, file_name="long.csv", content=too_many)
    assert "at most 10000" in excinfo.value.fields["file"][0]
    too_big = csv_bytes(f"deposit,{alice_account.iban},1,,{'x' * (5 * 2**20)}")
    with unchanged(), refused("validation_error") as excinfo:
        import_create(uploader=agnes, file_name="big.csv", content=too_big)
    assert "larger than 4 MB" in excinfo.value.fields["file"][0]
    assert not ImportBatch.objects.exists()


def test_customers_cannot_import_and_only_the_uploader_applies(agnes, sam, alice, alice_account, unchanged):
    content = csv_bytes(f"deposit,{alice_account.iban},1,,")
    with unchanged(), refused("permission_denied"):
        import_create(uploader=alice, file_name="x.csv", content=content)
    batch = import_create(uploader=agnes, file_name="x.csv", content=content)
    with unchanged(), refused("permission_denied"):
        import_apply_next(actor=sam, batch_id=batch.pk)
    with unchanged(), refused("permission_denied"):
        import_apply_next(actor=alice, batch_id=batch.pk)
    assert statuses(batch) == {2: "valid"}


def test_the_report_csv_neutralises_formulas(agnes, alice_account):
    batch = import_create(uploader=agnes, file_name="r.csv", content=csv_bytes(
        f"deposit,{alice_account.iban},1,,=HYPERLINK(\"http://evil\")", "=1+1,x,-3,,",
        f'deposit,{alice_account.iban},2,,"x;=1+1;y"', f"deposit,{alice_account.iban},3,,@SUM(A1); -2+3"))
    import_apply_next(actor=agnes, batch_id=batch.pk)
    raw = "".join(import_report_csv_lines(batch))
    assert raw.startswith('"line","type","account","amount","counterparty","reference"')  # every field quoted
    rows = assert_spreadsheet_safe(raw)  # read with `,` and with `;`, and split naively
    assert rows[0] == ["line", *HEADER, "result", "message", "transaction"]
    assert rows[1][5] == "'=HYPERLINK(\"http://evil\")" and rows[1][6] == "applied" and rows[1][8]
    # "-3", as sent, is a plain number: shown as one, it cannot be a formula.
    assert rows[2][1] == "'=1+1" and rows[2][3] == "-3" and rows[2][6] == "invalid"
    assert rows[3][5] == "x;'=1+1;y" and rows[4][5] == "'@SUM(A1); '-2+3"
    assert AuditEvent.objects.filter(action=actions.IMPORT_UPLOADED, target_id=str(batch.pk)).exists()


def test_a_chunk_refused_line_leaves_the_others_of_its_chunk_applied_in_order(agnes, alice_account, bob_account):
    """A chunk is one transaction through the batch path: each line sees what the earlier lines
    of the chunk left, and a refusal is that line's alone."""
    before = fresh(bob_account).balance
    batch = import_create(uploader=agnes, file_name="o.csv", content=csv_bytes(
        f"withdrawal,{bob_account.iban},{before / 100:.2f},,All of it",
        f"withdrawal,{bob_account.iban},1.00,,Nothing left",
        f"deposit,{bob_account.iban},2.00,,Cash in",
        f"withdrawal,{bob_account.iban},1.00,,Now there is",
    ))
    import_apply_next(actor=agnes, batch_id=batch.pk)
    assert statuses(batch) == {2: "applied", 3: "refused", 4: "applied", 5: "applied"}
    assert messages_of(batch)[3] == "There is not enough money available on this account."
    assert fresh(bob_account).balance == 1_00
    assert_balanced(bob_account)


def test_the_same_file_uploaded_by_another_member_of_staff_applies_nothing(agnes, sam, alice_account):
    content = csv_bytes(f"deposit,{alice_account.iban},7.00,,Once")
    first = import_create(uploader=agnes, file_name="a.csv", content=content)
    import_apply_next(actor=agnes, batch_id=first.pk)
    second = import_create(uploader=sam, file_name="b.csv", content=content)
    balance, entries, transactions = fresh(alice_account).balance, Entry.objects.count(), Transaction.objects.count()
    import_apply_next(actor=sam, batch_id=second.pk)
    assert statuses(second) == {2: "already"}
    assert (fresh(alice_account).balance, Entry.objects.count(), Transaction.objects.count()) == (
        balance, entries, transactions)
    assert f"import #{first.pk}" in messages_of(second)[2]


def test_a_refused_line_stays_refused_when_the_same_file_comes_again(agnes, sam, alice_account, bob_account):
    """Issue 10, finding 12, for imports: the line was reported refused, so staff may have settled
    it another way; the same file uploaded again once the money is there must not apply it. A new
    file (other keys) does, knowingly."""
    line = f"withdrawal,{bob_account.iban},900.00,,Too much for now"
    content = csv_bytes(f"deposit,{alice_account.iban},7.00,,Once", line)
    first = import_create(uploader=agnes, file_name="a.csv", content=content)
    import_apply_next(actor=agnes, batch_id=first.pk)
    assert statuses(first) == {2: "applied", 3: "refused"}
    assert "Refused by import" not in messages_of(first)[3]
    fund(bob_account, 1_000_00, agent=sam, approver=agnes)  # bob can pay 900.00 now
    balance, entries, transactions = fresh(bob_account).balance, Entry.objects.count(), Transaction.objects.count()

    second = import_create(uploader=agnes, file_name="a-again.csv", content=content)
    import_apply_next(actor=agnes, batch_id=second.pk)

    assert statuses(second) == {2: "already", 3: "refused"}
    reason = messages_of(second)[3]
    assert f"Refused by import #{first.pk}" in reason and "new file" in reason
    assert "There is not enough money available on this account." in reason
    assert (fresh(bob_account).balance, Entry.objects.count(), Transaction.objects.count()) == (
        balance, entries, transactions)

    third = import_create(uploader=agnes, file_name="retry.csv", content=csv_bytes(line))
    import_apply_next(actor=agnes, batch_id=third.pk)
    assert statuses(third) == {2: "applied"}
    assert fresh(bob_account).balance == balance - 900_00


def test_the_same_file_after_its_keys_were_purged_still_applies_nothing(agnes, alice_account, bob_account):
    content = csv_bytes(f"deposit,{alice_account.iban},7.00,,Once", f"withdrawal,{bob_account.iban},9999,,No")
    first = import_create(uploader=agnes, file_name="a.csv", content=content)
    import_apply_next(actor=agnes, batch_id=first.pk)
    assert statuses(first) == {2: "applied", 3: "refused"}
    IdempotencyKey.objects.all().delete()  # what purge_idempotency_keys does after FLUX_IDEMPOTENCY_TTL_HOURS
    balance, entries = fresh(alice_account).balance, Entry.objects.count()
    second = import_create(uploader=agnes, file_name="a.csv", content=content)
    import_apply_next(actor=agnes, batch_id=second.pk)
    assert statuses(second) == {2: "already", 3: "refused"}
    assert (fresh(alice_account).balance, Entry.objects.count()) == (balance, entries)
    assert f"import #{first.pk}" in messages_of(second)[2]
