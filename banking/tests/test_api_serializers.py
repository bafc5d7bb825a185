"""core/api/serializers.py: a serializer built once per process answers exactly as a fresh one
does (validated data, errors in the request's language, the transaction's body), from any thread."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.utils import translation
from rest_framework import serializers

from banking.api.serializers import TransactionSerializer, TransferCreateSerializer
from banking.services import transfer_create
from core.api.serializers import represented, validated

pytestmark = pytest.mark.django_db

GOOD = {"source_account": 7, "destination_iban": " NL91ABNA0417164300 ", "amount": "12.50"}
BAD = [
    {},
    {"source_account": "x", "destination_iban": "", "amount": "-1"},
    {"source_account": 0, "destination_iban": "A" * 65, "amount": "1.234", "reference": "r" * 141},
    ["not", "an", "object"],
    None,
    "text",
]


def fresh_errors(data) -> dict:
    checker = TransferCreateSerializer(data=data)
    assert not checker.is_valid()
    return checker.errors


def shared_errors(data) -> dict:
    with pytest.raises(serializers.ValidationError) as refused:
        validated(TransferCreateSerializer, data)
    return refused.value.detail


def test_valid_data_comes_back_as_a_fresh_serializer_validates_it():
    fresh = TransferCreateSerializer(data=GOOD)
    assert fresh.is_valid()

    assert validated(TransferCreateSerializer, GOOD) == fresh.validated_data
    assert validated(TransferCreateSerializer, GOOD) == {
        "source_account": 7,
        "destination_iban": "NL91ABNA0417164300",
        "amount": 1250,
        "reference": "",
        "beneficiary_name": "",
    }


@pytest.mark.parametrize("data", BAD, ids=["empty", "wrong-types", "too-long", "a-list", "null", "text"])
def test_errors_are_those_of_a_fresh_serializer(data):
    assert shared_errors(data) == fresh_errors(data)
    assert shared_errors(data)  # and there are some


def test_errors_speak_the_language_of_the_request():
    with translation.override("fr"):
        french = shared_errors({})
        assert french == fresh_errors({})
    with translation.override("en"):
        english = shared_errors({})
    assert english["amount"] == ["This field is required."]
    assert french["amount"] == ["Ce champ est obligatoire."]


def test_threads_sharing_the_serializer_each_get_their_own_answer():
    cases = [(GOOD, None), *[(data, fresh_errors(data)) for data in BAD]] * 40

    def check(case) -> bool:
        data, errors = case
        if errors is None:
            return validated(TransferCreateSerializer, data)["amount"] == 1250
        return shared_errors(data) == errors

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(pool.map(check, cases))


def test_a_new_transaction_is_rendered_as_a_fresh_serializer_renders_it(alice, alice_account, bob_account):
    txn = transfer_create(
        initiator=alice,
        source_account_id=alice_account.pk,
        destination_iban=bob_account.iban,
        amount=1250,
        reference="rent",
    )

    body = represented(TransactionSerializer, txn, created=True)

    assert body == TransactionSerializer(txn, context={"created": True}).data
    assert body["amount"] == "12.50"
    assert body["destination_iban"] == bob_account.iban
    assert body["reversed_by"] is None
