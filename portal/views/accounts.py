"""The customer's accounts overview and an account's history (newest first, searchable, on the
same cursor as the API: the first page is rendered with the page, the next ones are fetched as
HTML fragments by the `entryScroll` component in static/js/portal.js)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET
from rest_framework.exceptions import ValidationError as PaginationError
from rest_framework.request import Request

from banking import selectors
from banking.access import account_for_user, accounts_visible_to
from banking.filters import EntryFilter
from core.api.pagination import IdCursorPagination
from core.money import AmountError, format_minor, parse_typed_amount
from portal.views.customer import customer_required

# The search form's fields, in the order the API names them; they travel with the cursor.
SEARCH_PARAMS = ("q", "min", "max", "from", "to")
PAGE_SIZE = 25
NEXT_PAGE_HEADER = "X-Next-Page"


class EntryPagination(IdCursorPagination):
    """The API's cursor on the entry id, with a page that fits a phone screen and no size override
    (so a page costs the same whatever the URL says)."""

    page_size = PAGE_SIZE
    page_size_query_param = None


@require_GET
@customer_required
def account_list(request: HttpRequest) -> HttpResponse:
    accounts = with_freeze_reasons(list(accounts_visible_to(request.user).order_by("id")))
    pending = selectors.pending_transfers_of_customer(customer=request.user)
    return render(request, "portal/accounts.html", {"accounts": accounts, "pending": pending})


def with_freeze_reasons(accounts: list) -> list:
    """Each account with `freeze_reason`: why the bank froze it ("" when it is not frozen)."""
    reasons = selectors.freeze_reasons(accounts=accounts)
    for account in accounts:
        account.freeze_reason = reasons.get(account.pk, "")
    return accounts


def _next_url(request: HttpRequest, next_link: str | None, search: dict[str, str]) -> str:
    """The full-page URL of the next page (the component adds `partial=1` to fetch a fragment)."""
    if not next_link:
        return ""
    cursor = parse_qs(urlsplit(next_link).query).get("cursor", [""])[0]
    return f"{request.path}?{urlencode({**search, 'cursor': cursor})}"


def typed_amounts_as_plain(params: QueryDict) -> QueryDict:
    """The search's amounts as the customer typed them in the page's language ("1 234,50") turned
    into the plain decimals the API's filterset reads; one that does not parse is left for the
    filterset to refuse with its own error."""
    params = params.copy()
    for name in ("min", "max"):
        if params.get(name, "").strip():
            try:
                params[name] = format_minor(parse_typed_amount(params[name], language=get_language(), allow_zero=True))
            except AmountError:
                pass
    return params


@require_GET
@customer_required
def account_detail(request: HttpRequest, pk: str) -> HttpResponse:
    [account] = with_freeze_reasons([account_for_user(request.user, pk)])
    # The API's filterset and selector: the same search, the same query, the same errors.
    search = {name: request.GET[name] for name in SEARCH_PARAMS if request.GET.get(name, "").strip()}
    filterset = EntryFilter(typed_amounts_as_plain(request.GET),
                            queryset=selectors.entry_list_for_account(account=account))
    entries: list = []
    next_url = ""
    cursor_invalid = False
    status = 200
    if filterset.is_valid():
        paginator = EntryPagination()
        try:
            entries = paginator.paginate_queryset(filterset.qs, Request(request))
        except PaginationError:
            cursor_invalid, status = True, 400
        else:
            next_url = _next_url(request, paginator.get_next_link(), search)
    else:
        status = 400
    context = {
        "account": account,
        "pending": selectors.pending_transfers_of_customer(customer=request.user, account=account),
        "entries": entries,
        "next_url": next_url,
        "form": filterset.form,
        "searching": bool(search),
        "search_valid": not filterset.form.errors,
        "cursor_invalid": cursor_invalid,
        "is_first_page": not request.GET.get("cursor"),
        "first_page_url": f"{request.path}?{urlencode(search)}" if search else request.path,
    }
    if request.GET.get("partial") == "1":
        response = render(request, "portal/_entries.html", context, status=status)
        response[NEXT_PAGE_HEADER] = next_url
    else:
        response = render(request, "portal/account.html", context, status=status)
    # The history changes with every movement; a restored back-navigation must not show a stale one.
    response["Cache-Control"] = "no-store"
    return response
