"""Shapes of the banking API. Serializers validate shape only; services apply the rules."""

from django.conf import settings
from rest_framework import serializers

from banking.models import CUSTOMER_KINDS, Account, Entry, PayeeCheck, Transaction
from banking.selectors import counterparty_name_of, standing_reversal_of
from core.api.fields import AmountField
from core.ids import MAX_ID


class AccountSerializer(serializers.ModelSerializer):
    balance = AmountField(read_only=True)
    available = AmountField(read_only=True)
    overdraft_limit = AmountField(read_only=True)

    class Meta:
        model = Account
        fields = ["id", "iban", "kind", "currency", "balance", "available", "overdraft_limit", "status",
                  "customer", "opened_at"]
        read_only_fields = fields


class AccountOpenSerializer(serializers.Serializer):
    customer = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    kind = serializers.ChoiceField(choices=[k.value for k in CUSTOMER_KINDS])
    currency = serializers.CharField(required=False, max_length=3, min_length=3)
    overdraft_limit = AmountField(required=False, allow_zero=True)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, trim_whitespace=True)


class OverdraftSerializer(serializers.Serializer):
    overdraft_limit = AmountField(allow_zero=True)
    reason = serializers.CharField(max_length=500, trim_whitespace=True)


class EntrySerializer(serializers.ModelSerializer):
    amount = AmountField(read_only=True)
    balance_after = AmountField(read_only=True)
    kind = serializers.CharField(source="transaction.kind", read_only=True)
    reference = serializers.CharField(source="transaction.reference", read_only=True)
    counterparty_name = serializers.SerializerMethodField(
        help_text="Who is on the other side: the Flux account holder, the name given with a transfer to "
        "another bank or the saved beneficiary's name, the payer of money from another bank, \"Cash\" for cash "
        "at the counter; \"\" when unknown."
    )

    class Meta:
        model = Entry
        fields = [
            "id", "transaction", "amount", "balance_after", "kind", "counterparty", "counterparty_name",
            "reference", "created_at",
        ]
        read_only_fields = fields


    def get_counterparty_name(self, entry: Entry) -> str:
        return counterparty_name_of(entry)


class TransactionSerializer(serializers.ModelSerializer):
    amount = AmountField(read_only=True)
    source_account = serializers.IntegerField(source="source_id", read_only=True, allow_null=True)
    source_iban = serializers.SerializerMethodField()
    destination_account = serializers.IntegerField(source="destination_id", read_only=True, allow_null=True)
    destination_iban = serializers.SerializerMethodField()
    initiated_by = serializers.IntegerField(source="initiated_by_id", read_only=True)
    decided_by = serializers.IntegerField(source="decided_by_id", read_only=True, allow_null=True)
    reverses = serializers.IntegerField(source="reverses_id", read_only=True, allow_null=True)
    # Money from another bank: the payer as their bank named them; a RETURN: the transfer it credits back.
    payer_name = serializers.CharField(read_only=True)
    return_of = serializers.IntegerField(source="return_of_id", read_only=True, allow_null=True)
    reversed_by = serializers.SerializerMethodField(
        help_text="The reversal of this transaction, posted or still waiting for approval (`reversal_status`)."
    )
    reversal_status = serializers.SerializerMethodField(help_text="`pending` or `posted`, with `reversed_by`.")
    # Blank when no name was checked: declared so that the schema admits "" (a read-only model
    # field's choices would not).
    payee_check = serializers.ChoiceField(choices=PayeeCheck.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Transaction
        fields = [
            "id", "kind", "status", "amount", "currency", "source_account", "source_iban",
            "destination_account", "destination_iban", "reference", "initiated_by", "created_at",
            "posted_at", "expires_at", "decided_by", "decided_at", "decision_reason", "reverses", "reversed_by",
            "reversal_status", "beneficiary_name", "payee_check", "sent_at", "payer_name", "return_of",
        ]
        read_only_fields = fields

    def get_source_iban(self, txn: Transaction) -> str | None:
        return txn.source.iban if txn.source_id else None

    def get_destination_iban(self, txn: Transaction) -> str | None:
        # To another bank: its IBAN. From another bank (incoming, return): the Flux account it reached
        # (`external_iban` is then the payer's).
        if txn.external_iban and txn.kind == "external_transfer":
            return txn.external_iban
        return txn.destination.iban if txn.destination_id else None

    def get_reversed_by(self, txn: Transaction) -> int | None:
        if self.context.get("created"):  # just created: nothing reverses it yet (and no query to say so)
            return None
        return standing_reversal(txn)[0]

    def get_reversal_status(self, txn: Transaction) -> str | None:
        if self.context.get("created"):
            return None
        return standing_reversal(txn)[1]


def standing_reversal(txn: Transaction) -> tuple[int | None, str | None]:
    """The id and status of its pending or posted reversal: from the query when it came through
    selectors.with_reversal (lists: no query per row), else looked up."""
    if hasattr(txn, "standing_reversal_status"):
        return txn.standing_reversal_id, txn.standing_reversal_status
    reversal = standing_reversal_of(txn)
    return (reversal.pk, reversal.status) if reversal else (None, None)


class TransferCreateSerializer(serializers.Serializer):
    source_account = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    destination_iban = serializers.CharField(max_length=64, allow_blank=True, trim_whitespace=True)
    amount = AmountField()
    reference = serializers.CharField(required=False, allow_blank=True, max_length=140, default="")
    beneficiary_name = serializers.CharField(
        required=False, allow_blank=True, max_length=70, default="",
        help_text="The payee's name (up to 70 characters): shown in the history, and sent on to another bank.",
    )


class TransferBatchSerializer(serializers.Serializer):
    """The envelope of a batch; each item is checked on its own with TransferCreateSerializer so that a
    malformed item is refused in its place (validation_error) instead of refusing the whole batch."""

    transfers = serializers.ListField(
        child=serializers.JSONField(),
        min_length=1,
        max_length=settings.FLUX_BATCH_MAX_ITEMS,
        help_text="Up to 1,000 transfers, each as POST transfers/ takes it.",
    )
    atomic = serializers.BooleanField(
        required=False, default=False, help_text="All or nothing: one refused item refuses the batch (422)."
    )


class BatchResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["posted", "pending", "refused"])
    transaction = TransactionSerializer(required=False, help_text="Posted or pending: the transaction.")
    error = serializers.DictField(required=False, help_text="Refused: `{code, message, fields?}`.")


class TransferBatchResultSerializer(serializers.Serializer):
    results = BatchResultSerializer(many=True, help_text="One per item, in the batch's order.")


class CashSerializer(serializers.Serializer):
    account = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    amount = AmountField()
    reference = serializers.CharField(required=False, allow_blank=True, max_length=140, default="")
