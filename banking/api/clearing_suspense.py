"""Suspense and reconciliation API (supervisors): GET clearing/suspense/ (the items, open by
default), POST clearing/suspense/{id}/assign/ and send-back/ (with an Idempotency-Key), GET
clearing/reconciliation/ (recent days) and ?date= (one day's figure). Thin: each view parses, calls
banking.clearing.suspense or .reconciliation, and renders."""

from __future__ import annotations

import datetime as dt

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from banking.clearing import reconciliation
from banking.clearing.suspense import (
    STATUSES,
    status_of,
    suspense_assign,
    suspense_item,
    suspense_items,
    suspense_send_back,
)
from banking.models import SuspenseItem
from core.api.fields import AmountField
from core.api.idempotency import idempotent_response
from core.api.pagination import OldestFirstCursorPagination
from core.api.permissions import IsSupervisor
from core.api.schema import errors, idempotent
from core.api.serializers import validated
from core.errors import ValidationFailed
from core.money import format_minor


class ResolutionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField(help_text="`incoming_transfer` (assigned) or `external_transfer` (sent back).")
    status = serializers.CharField(help_text="`pending`, `posted`, `sent`, `rejected`, `voided`, ...")
    destination_iban = serializers.SerializerMethodField(
        help_text="The account it was assigned to, or the payer's IBAN it was sent back to.")

    def get_destination_iban(self, txn) -> str:
        return txn.external_iban if txn.kind == "external_transfer" else txn.destination.iban


class SuspenseItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    amount = AmountField()
    currency = serializers.CharField()
    reason = serializers.CharField(help_text="`unknown_account`, `account_closed`, `account_frozen`, "
                                   "`currency_mismatch` or `unknown_return`.")
    status = serializers.SerializerMethodField(help_text="`open`, `pending` (its resolution waits for "
                                               "approval) or `resolved`.")
    debtor_name = serializers.CharField(source="entry.debtor_name")
    debtor_iban = serializers.CharField(source="entry.debtor_iban")
    creditor_iban = serializers.CharField(source="entry.creditor_iban", help_text="The IBAN the payer gave.")
    reference = serializers.CharField(source="entry.remittance")
    booking_date = serializers.DateField(source="entry.booking_date")
    statement = serializers.IntegerField(source="entry.statement_id")
    resolution = ResolutionSerializer(allow_null=True)
    created_at = serializers.DateTimeField()

    def get_status(self, item) -> str:
        return getattr(item, "status", None) or status_of(item)


class AssignSerializer(serializers.Serializer):
    account = serializers.IntegerField(min_value=1, help_text="The customer account's id.")


class SendBackSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


def item_body(item_id: object) -> dict:
    return dict(SuspenseItemSerializer(suspense_item(item_id)).data)


@extend_schema_view(
    get=extend_schema(
        summary="Suspense items (supervisor)",
        description="Money from another bank that could not be placed, oldest first, cursor-paginated. "
        "`status`: `open` (default), `pending`, `resolved` or `all`.",
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=[*STATUSES, "all"])],
        responses={200: SuspenseItemSerializer(many=True), **errors(400, 403)},
    )
)
class SuspenseListView(generics.ListAPIView):
    permission_classes = [IsSupervisor]
    serializer_class = SuspenseItemSerializer
    pagination_class = OldestFirstCursorPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return SuspenseItem.objects.none()
        return suspense_items(status=self.request.query_params.get("status") or "open")


class SuspenseAssignView(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(
        summary="Assign a suspense item to an account (supervisor)",
        description="Credits the customer account from suspense, named after the payer. 201 with the item: "
        "`resolved`, or `pending` at or above the approval threshold (another member of staff approves it in "
        "the approval queue; rejected or expired, the item is open again). 409 `not_open` when the item is "
        "already assigned, sent back or waiting for approval. Requires an `Idempotency-Key`.",
        request=AssignSerializer,
        responses={
            201: SuspenseItemSerializer,
            **errors(400, "idempotency_key_missing", 403, 404, "not_open", "account_frozen", "account_closed",
                     "currency_mismatch", "idempotency_key_reused"),
        },
        parameters=idempotent(201),
    )
    def post(self, request: Request, pk: str) -> Response:
        def operation():
            params = validated(AssignSerializer, request.data)
            suspense_assign(initiator=request.user, item_id=pk, account_id=params["account"])
            return status.HTTP_201_CREATED, item_body(pk)

        return idempotent_response(request, operation)


class SuspenseSendBackView(APIView):
    permission_classes = [IsSupervisor]

    @extend_schema(
        summary="Send a suspense item back to the payer (supervisor)",
        description="A transfer from suspense to the payer's IBAN, which the next clearing run sends; its "
        "reference says it is returned. 201 with the item: `resolved`, or `pending` at or above the approval "
        "threshold. 422 `invalid_iban` when the statement gave no usable IBAN for the payer. 409 `not_open`. "
        "Requires an `Idempotency-Key`.",
        request=SendBackSerializer,
        responses={
            201: SuspenseItemSerializer,
            **errors(400, "idempotency_key_missing", 403, 404, "not_open", "invalid_iban", "idempotency_key_reused"),
        },
        parameters=idempotent(201),
    )
    def post(self, request: Request, pk: str) -> Response:
        def operation():
            params = validated(SendBackSerializer, request.data or {})
            suspense_send_back(initiator=request.user, item_id=pk, reason=params["reason"])
            return status.HTTP_201_CREATED, item_body(pk)

        return idempotent_response(request, operation)


# --- Reconciliation -----------------------------------------------------------------------------


def _total(total: reconciliation.Total) -> dict:
    return {"count": total.count, "amount": format_minor(total.amount)}


def _money(amount: int | None) -> str | None:
    return None if amount is None else format_minor(amount)


def day_body(figure: reconciliation.DayFigure, position: reconciliation.ClearingPosition) -> dict:
    side, flux = figure.statement, figure.flux
    return {
        "date": figure.date.isoformat(),
        "currency": figure.currency,
        "statement": {
            "id": side.statement_id, "entries": side.entries, "credits": format_minor(side.credits),
            "debits": format_minor(side.debits), "net": format_minor(side.net),
            "opening_balance": _money(side.opening_balance), "closing_balance": _money(side.closing_balance),
            "balance_check": side.balance_check, "previous_closing_balance": _money(figure.previous_closing_balance),
            "opening_matches_previous": figure.opening_matches_previous,
        },
        "flux": {"money_in": _total(flux.money_in), "sent": _total(flux.sent), "net": format_minor(flux.net)},
        "matched": _total(figure.matched),
        "mismatches": [
            {"entry": e.pk, "transaction": e.transaction_id, "outcome": e.outcome, "amount": format_minor(e.amount),
             "flux_amount": _money(e.flux_amount)}
            for e in figure.mismatches
        ],
        "unmatched_statement": _total(figure.unmatched_statement) | {"entries": [
            {"entry": e.pk, "amount": format_minor(e.amount), "outcome": e.outcome, "debtor_name": e.debtor_name,
             "creditor_name": e.creditor_name, "reference": e.remittance, "note": e.note}
            for e in figure.unmatched_statement_entries
        ]},
        "in_transit": _total(figure.in_transit) | {"transfers": [
            {"transaction": t.pk, "amount": format_minor(t.amount), "external_iban": t.external_iban,
             "sent_at": t.sent_at.isoformat(), "age_days": t.age_days}
            for t in figure.in_transit_transfers
        ]},
        "booked_sent_other_day": _total(figure.booked_sent_other_day),
        "sent_not_booked_that_day": _total(figure.sent_not_booked_that_day),
        "difference": format_minor(figure.difference),
        "unexplained": format_minor(figure.unexplained),
        "clearing_account": position_body(position),
    }


def position_body(position: reconciliation.ClearingPosition) -> dict:
    return {
        "iban": position.account_iban, "balance": format_minor(position.balance),
        "waiting": _total(position.waiting), "sent_not_booked": _total(position.sent_not_booked),
        "booked": _total(position.booked), "money_in": _total(position.money_in),
        "other": format_minor(position.other),
    }


def _currency(request: Request) -> str:
    currency = (request.query_params.get("currency") or "EUR").upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValidationFailed({"currency": ["Give a currency code such as EUR."]})
    return currency


def _date(request: Request, name: str) -> dt.date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({name: ["Give a date as YYYY-MM-DD."]}) from None


class ReconciliationView(APIView):
    permission_classes = [IsSupervisor]
    PAGE = 30

    @extend_schema(
        summary="Reconciliation of the clearing account (supervisor)",
        description="With `date`: that day's figure in `currency` (default EUR): the statement side (its booked "
        "entries, balances and whether opening + net == closing), the Flux side (money in placed from that "
        "day's entries, our transfers sent that day), matched and unmatched on each side, the difference and "
        "what is left unexplained, and the clearing account's balance now and what makes it up. Without "
        "`date`: the recent days, newest first, each summed up (`{results, next, previous}`; `before` pages "
        "back). Amounts are signed as the statement sees them: money in positive, money out negative.",
        parameters=[
            OpenApiParameter("date", OpenApiTypes.DATE),
            OpenApiParameter("currency", OpenApiTypes.STR),
            OpenApiParameter("before", OpenApiTypes.DATE, description="Without `date`: days before this one."),
        ],
        responses={200: OpenApiTypes.OBJECT, **errors(400, 403)},
    )
    def get(self, request: Request) -> Response:
        currency, day = _currency(request), _date(request, "date")
        if day is not None:
            figure = reconciliation.reconciliation_day(day=day, currency=currency)
            return Response(day_body(figure, reconciliation.clearing_position(currency=currency)))
        days, more = reconciliation.reconciliation_days(currency=currency, before=_date(request, "before"),
                                                        limit=self.PAGE)
        results = [
            {"date": d.date.isoformat(), "currency": d.currency, "statement_entries": d.statement_entries,
             "statement_net": format_minor(d.statement_net), "flux_net": format_minor(d.flux_net),
             "difference": format_minor(d.difference), "balance_check": d.balance_check,
             "unmatched_statement": d.unmatched_statement}
            for d in days
        ]
        next_url = None
        if more:
            next_url = request.build_absolute_uri(
                f"{request.path}?currency={currency}&before={days[-1].date.isoformat()}")
        return Response({"results": results, "next": next_url, "previous": None})
