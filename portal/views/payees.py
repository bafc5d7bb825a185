"""The verification of payee for the customer pages: the API's GET payees/check/ (banking/api/payees.py)
under /app/, signed in by the session cookie, so that the transfer and beneficiary forms can check a
name as it is typed (static/js/lib/payee-check.js). Same answer, same errors, same rate limit (scope
`payee_check`, per user)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.authentication import SessionAuthentication

from banking.api.payees import PayeeCheckView


@extend_schema_view(get=extend_schema(exclude=True))  # the API's own is documented
class PortalPayeeCheckView(PayeeCheckView):
    # A GET changes nothing: DRF asks for no CSRF token on it.
    authentication_classes = [SessionAuthentication]
