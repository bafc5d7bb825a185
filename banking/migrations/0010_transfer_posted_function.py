"""flux_transfer_posted: the common transfer in one PostgreSQL call (issue 11).

banking.services.movements.transfer_posted_at_once calls it for a customer's transfer between two
Flux accounts, below the approval threshold, with no payee name to check. In one statement it
claims the idempotency key, locks both accounts in ascending id order, checks them (the source is
the caller's and active, the destination a customer account and active, one currency, funds
available), and writes what banking.ledger.Postings writes for such a transfer: the transaction,
its two entries, both balances, the audit event and its outbox row; then the answer kept under the
key. When anything is not that plain case (the key already used, an account missing, another
customer's, frozen, closed or internal, another currency, not enough money), it removes the key it
claimed and returns NULL, having written nothing: the caller then runs the Python path, which says
why in the caller's language. The same rows either way: banking/tests/test_transfer_function.py.

SQLite has no such function; there the Python path serves every transfer.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION flux_transfer_posted(
    p_user bigint, p_username text, p_key text, p_fingerprint text, p_source bigint, p_iban text,
    p_amount bigint, p_reference text, p_at timestamptz, p_body jsonb, p_request_id text
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    key_id bigint;
    locked banking_account;
    source banking_account;
    destination banking_account;
    txn_id bigint;
    ev_id bigint;
    body jsonb;
BEGIN
    INSERT INTO banking_idempotencykey (user_id, key, fingerprint, response_status, response_body, created_at)
    VALUES (p_user, p_key, p_fingerprint, 0, '{}', p_at)
    ON CONFLICT (user_id, key) DO NOTHING
    RETURNING id INTO key_id;
    IF key_id IS NULL THEN
        RETURN NULL;  -- the key is taken: the Python path replays its answer
    END IF;
    FOR locked IN
        SELECT * FROM banking_account WHERE id = p_source OR iban = p_iban ORDER BY id FOR UPDATE
    LOOP
        IF locked.id = p_source THEN source := locked; END IF;
        IF locked.iban = p_iban THEN destination := locked; END IF;
    END LOOP;
    IF source.id IS NULL OR destination.id IS NULL OR source.id = destination.id
       OR source.customer_id IS DISTINCT FROM p_user
       OR destination.kind IN ('cash', 'clearing', 'suspense')
       OR source.status <> 'active' OR destination.status <> 'active'
       OR source.currency <> destination.currency
       OR source.balance - source.held + source.overdraft_limit < p_amount THEN
        DELETE FROM banking_idempotencykey WHERE id = key_id;
        RETURN NULL;  -- not the plain case: the Python path applies (or refuses) it
    END IF;

    INSERT INTO banking_transaction (
        kind, status, amount, currency, source_id, destination_id, external_iban, reference, beneficiary_name,
        payee_check, initiated_by_id, created_at, posted_at, expires_at, decided_by_id, decided_at,
        decision_reason, reverses_id, hold_amount, clearing_run_id, sent_at, payer_name, return_of_id
    ) VALUES (
        'transfer', 'posted', p_amount, source.currency, source.id, destination.id, '', p_reference, '',
        '', p_user, p_at, p_at, NULL, NULL, NULL,
        '', NULL, 0, NULL, NULL, '', NULL
    ) RETURNING id INTO txn_id;
    INSERT INTO banking_entry (transaction_id, account_id, amount, balance_after, counterparty, created_at)
    VALUES (txn_id, source.id, -p_amount, source.balance - p_amount, destination.iban, p_at),
           (txn_id, destination.id, p_amount, destination.balance + p_amount, source.iban, p_at);
    UPDATE banking_account SET balance = balance - p_amount WHERE id = source.id;
    UPDATE banking_account SET balance = balance + p_amount WHERE id = destination.id;
    INSERT INTO audit_auditevent (occurred_at, actor_id, actor_username, action, target_type, target_id, data)
    VALUES (
        p_at, p_user, p_username, 'transaction.posted', 'transaction', txn_id::text,
        jsonb_build_object(
            'kind', 'transfer', 'status', 'posted', 'amount', p_body -> 'amount', 'currency', source.currency,
            'source', source.iban, 'destination', destination.iban, 'reference', p_reference
        ) || CASE WHEN p_request_id IS NULL THEN '{}'::jsonb
                  ELSE jsonb_build_object('request_id', p_request_id) END
    ) RETURNING id INTO ev_id;
    INSERT INTO audit_outboxmessage (event_id, attempts) VALUES (ev_id, 0);

    body := p_body || jsonb_build_object(
        'id', txn_id, 'currency', source.currency, 'source_iban', source.iban,
        'destination_account', destination.id, 'destination_iban', destination.iban
    );
    UPDATE banking_idempotencykey SET response_status = 201, response_body = body WHERE id = key_id;
    RETURN body;
END
$$;
"""


def install(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION, params=None)


def remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "DROP FUNCTION IF EXISTS flux_transfer_posted(bigint, text, text, text, bigint, text, bigint, text, "
            "timestamptz, jsonb, text)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("banking", "0009_transaction_voided"),
        ("audit", "0004_auditlog_append_only"),
        ("core", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, remove)]
