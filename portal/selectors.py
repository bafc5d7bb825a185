"""Reads for the app's offline data: the entries a customer's device does not have yet."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from banking.models import Entry
from banking.selectors import with_counterparty_names
from identity.models import User

RECENT_PER_ACCOUNT = 100
PAGE_SIZE = 500


def _customer_entries(customer: User) -> QuerySet[Entry]:
    return with_counterparty_names(Entry.objects.filter(account__customer=customer).select_related("transaction"))


def sync_entries(*, customer: User, after_id: int | None) -> tuple[list[Entry], int, bool]:
    """The customer's entries a device needs, oldest first, the cursor to send next time, and
    whether more are waiting.

    Without a cursor (a first sync): the last RECENT_PER_ACCOUNT entries of each account. With one:
    the entries with a larger id, PAGE_SIZE at most. Entries are append-only, so "id > cursor" is
    the whole difference, with one catch: ids are handed out before commit, so an entry can become
    visible after one with a larger id. The next cursor therefore stops before the first entry
    younger than FLUX_SYNC_SETTLE_SECONDS: those are sent again next time (the device stores
    entries by id, so a repeat changes nothing) and one committed late is never skipped.
    """
    entries_qs = _customer_entries(customer)
    if after_id is None:
        ranked = entries_qs.annotate(
            recent_rank=Window(RowNumber(), partition_by=[F("account_id")], order_by=F("id").desc())
        )
        entries = list(ranked.filter(recent_rank__lte=RECENT_PER_ACCOUNT).order_by("id"))
        has_more = False
        after_id = 0
    else:
        entries = list(entries_qs.filter(id__gt=after_id).order_by("id")[: PAGE_SIZE + 1])
        has_more = len(entries) > PAGE_SIZE
        entries = entries[:PAGE_SIZE]

    settled_before = timezone.now() - timedelta(seconds=settings.FLUX_SYNC_SETTLE_SECONDS)
    next_id = after_id
    for entry in entries:
        if entry.created_at > settled_before:
            break
        next_id = entry.id
    return entries, next_id, has_more
