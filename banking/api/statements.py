"""GET accounts/{id}/statement/?month=YYYY-MM&format=csv|pdf: a month's statement as a file; GET
transactions/{id}/receipt/: a transaction's receipt as a PDF."""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from banking.access import account_for_user, transaction_for_user
from banking.api.examples import ALICE_IBAN
from banking.receipts import receipt_response
from banking.statements.exports import FORMATS, statement_response
from core.api.schema import errors


class AccountStatementView(APIView):
    def perform_content_negotiation(self, request, force=False):
        # `format` is this endpoint's own parameter (csv or pdf), not DRF's renderer override, and
        # the file is an HttpResponse: only errors go through a renderer, always as JSON.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        summary="A month's statement (CSV or PDF)",
        tags=["accounts"],
        parameters=[
            OpenApiParameter("month", {"type": "string", "pattern": r"^\d{4}-\d{2}$"}, required=True,
                             description="YYYY-MM, not in the future.",
                             examples=[OpenApiExample("March 2026", value="2026-03")]),
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS), required=True),
        ],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The statement as CSV (UTF-8 with a byte-order mark).",
                examples=[OpenApiExample("CSV", response_only=True, media_type="text/csv", value=(
                    f'"Account","{ALICE_IBAN}"\r\n"Currency","EUR"\r\n"Period","2026-03-01","2026-03-31"\r\n'
                    '"Opening balance","1375.00"\r\n"Money in","0.00"\r\n"Money out","125.00"\r\n'
                    '"Closing balance","1250.00"\r\n\r\n'
                    '"Date","Description","Counterparty","Reference","Amount","Balance after","Transaction"\r\n'
                    '"2026-03-31","Transfer","NL24FLUX0000000042","Rent March","-125.00","1250.00","88"\r\n'
                ))],
            ),
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="The statement as PDF."),
            **errors(400, 404),
        },
        description="Owner or staff. Opening balance, the month's entries oldest first, money in, money out "
        "and closing balance. In the CSV every field is quoted, text that a spreadsheet would run as a formula "
        "(at the start of a cell, or after a `;` or `,` in it) gets an apostrophe before it, and amounts are "
        "plain signed decimals. Another customer's account is 404.",
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        account = account_for_user(request.user, pk)
        return statement_response(
            account=account, month_param=request.query_params.get("month"),
            format_param=request.query_params.get("format"),
        )


class TransactionReceiptView(APIView):
    def perform_content_negotiation(self, request, force=False):
        # The receipt is an HttpResponse (a PDF): only errors go through a renderer, as JSON.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        summary="A transaction's receipt (PDF)",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description="Proof of payment: Flux's name and BIC, the parties' names and IBANs, the amount, "
                "the transaction id, its status and times, and its reference, in the caller's language "
                "(Accept-Language).",
            ),
            **errors(404),
        },
        description="Its parties (the customers whose accounts it touches) and staff; anyone else gets 404.",
    )
    def get(self, request: Request, pk: str) -> HttpResponse:
        return receipt_response(transaction_for_user(request.user, pk))
