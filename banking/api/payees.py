"""Verification of payee: GET payees/check/?iban=&name= (banking/payees.py has the matching rule)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from banking.payees import payee_check
from core.api.schema import errors
from core.api.throttling import AtomicRateThrottle, ScopedRateThrottle, UserRateThrottle


class PayeeCheckRateThrottle(AtomicRateThrottle):
    """The `payee_check` rate outside a view (the portal's transfer form checks the payee as it
    validates), on the counter of ScopedRateThrottle for the same user (`throttle_payee_check_<id>`):
    one allowance per user, whichever way the check is asked."""

    scope = "payee_check"

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class PayeeCheckSerializer(serializers.Serializer):
    result = serializers.ChoiceField(
        choices=["match", "close_match", "no_match", "unavailable"],
        help_text="`match`: the name is the holder's; `close_match`: near it (see `name`); `no_match`: not "
        "the holder's name (or no customer holds this Flux IBAN); `unavailable`: another bank's IBAN.",
    )
    name = serializers.CharField(required=False, help_text="The holder's name, on a close match only.")


class PayeeCheckView(APIView):
    """GET: is `name` the holder of `iban`? Rate-limited per user (scope `payee_check`)."""

    throttle_classes = [ScopedRateThrottle, UserRateThrottle]
    throttle_scope = "payee_check"

    @extend_schema(
        summary="Verify a payee's name",
        description="Verification of payee, before a transfer: compares `name` with the holder of `iban`, "
        "ignoring case, accents, punctuation and word order. `match`: the same words; `close_match` "
        "(difflib ratio at least 0.8 with the typed words in their nearest order: a typo or two) with the "
        "holder's `name` so the payer can correct it; `no_match` (never with a name; also for a Flux IBAN no "
        "customer holds); "
        "`unavailable` for another bank's IBAN. Rate-limited per user (429 `throttled`, setting "
        "`FLUX_THROTTLE_PAYEE_CHECK`, default 30/min) so that it cannot list who holds which IBAN.",
        parameters=[
            OpenApiParameter("iban", str, required=True, description="The payee's IBAN (spaces accepted)."),
            OpenApiParameter("name", str, required=True, description="The payee's name as the payer knows it."),
        ],
        responses={200: PayeeCheckSerializer, **errors(400, "invalid_iban", 429)},
        examples=[
            OpenApiExample("match", value={"result": "match"}, response_only=True),
            OpenApiExample("close_match", value={"result": "close_match", "name": "Alice Martin"},
                           response_only=True),
            OpenApiExample("no_match", value={"result": "no_match"}, response_only=True),
            OpenApiExample("unavailable", value={"result": "unavailable"}, response_only=True),
        ],
        tags=["payees"],
    )
    def get(self, request: Request) -> Response:
        check = payee_check(iban=request.query_params.get("iban", ""), name=request.query_params.get("name", ""))
        return Response(check.as_body())
