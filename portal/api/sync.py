"""GET /api/v1/sync/: what a customer's device needs to show balances and history offline."""

from __future__ import annotations

import base64
import binascii

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from banking import selectors
from banking.access import accounts_visible_to
from banking.api.examples import ACCOUNT, ENTRY, TRANSFER_PENDING
from banking.api.serializers import AccountSerializer, EntrySerializer, TransactionSerializer
from core.api.permissions import IsCustomer
from core.api.schema import errors
from core.ids import MAX_ID
from portal.selectors import sync_entries

CURSOR_PREFIX = "e:"


class SyncEntrySerializer(EntrySerializer):
    account = serializers.IntegerField(source="account_id", read_only=True)

    class Meta(EntrySerializer.Meta):
        fields = [*EntrySerializer.Meta.fields, "account"]
        read_only_fields = fields


class SyncPendingSerializer(TransactionSerializer):
    """A transfer the customer made that waits for approval (what the app lists, and may cancel)."""

    class Meta(TransactionSerializer.Meta):
        fields = [
            "id", "kind", "status", "amount", "currency", "source_account", "source_iban", "destination_iban",
            "reference", "created_at", "expires_at",
        ]
        read_only_fields = fields


PENDING_EXAMPLE = {name: TRANSFER_PENDING[name] for name in SyncPendingSerializer.Meta.fields}


def encode_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{entry_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The last entry id a device has; anything that is not a cursor we issued is a 400."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    digits = text.removeprefix(CURSOR_PREFIX)
    if not text.startswith(CURSOR_PREFIX) or not digits.isascii() or not digits.isdigit() or len(digits) > 19:
        raise ValidationError({"cursor": ["This cursor is not valid."]})
    entry_id = int(digits)
    if entry_id > MAX_ID:
        raise ValidationError({"cursor": ["This cursor is not valid."]})
    return entry_id


SyncResponse = inline_serializer(
    name="Sync",
    fields={
        "accounts": AccountSerializer(many=True),
        "entries": SyncEntrySerializer(many=True),
        "pending": SyncPendingSerializer(many=True, help_text="Every transfer the customer made that waits for "
                                         "approval, oldest first (the whole list each time: replace it)."),
        "cursor": serializers.CharField(help_text="Send it back as ?cursor= next time."),
        "has_more": serializers.BooleanField(help_text="More entries are waiting: ask again now."),
        "synced_at": serializers.DateTimeField(),
    },
)


class SyncView(APIView):
    """The signed-in customer's accounts (current balances), the entries added since `cursor` and
    every transfer of theirs that waits for approval.

    Without a cursor: every account and its last 100 entries. The answer's `cursor` goes into the
    next call; entries are oldest first and may repeat the newest ones of the last answer (store
    them by id)."""

    permission_classes = [IsAuthenticated, IsCustomer]

    @extend_schema(
        operation_id="sync",
        parameters=[OpenApiParameter("cursor", OpenApiTypes.STR, description="The `cursor` of the previous answer.")],
        summary="The offline feed (customers)",
        responses={200: SyncResponse, **errors(400, 403)},
        examples=[OpenApiExample("First sync", response_only=True, status_codes=["200"], value={
            "accounts": [ACCOUNT], "entries": [{**ENTRY, "account": 17}], "pending": [PENDING_EXAMPLE],
            "cursor": "ZTozMDE",
            "has_more": False, "synced_at": "2026-04-01T08:00:00Z",
        })],
    )
    def get(self, request: Request) -> Response:
        raw_cursor = request.query_params.get("cursor")
        after_id = decode_cursor(raw_cursor) if raw_cursor else None
        synced_at = timezone.now()
        entries, next_id, has_more = sync_entries(customer=request.user, after_id=after_id)
        accounts = accounts_visible_to(request.user).order_by("id")
        return Response(
            {
                "accounts": AccountSerializer(accounts, many=True).data,
                "entries": SyncEntrySerializer(entries, many=True).data,
                "pending": SyncPendingSerializer(
                    selectors.pending_transfers_of_customer(customer=request.user), many=True
                ).data,
                "cursor": encode_cursor(next_id),
                "has_more": has_more,
                "synced_at": synced_at,
            },
            headers={"Cache-Control": "no-store"},
        )
