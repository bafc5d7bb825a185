"""core.db.select.any_of: one array parameter on PostgreSQL, a list of placeholders elsewhere, the
same rows either way (the relay and the consumer read and delete up to 500 events by id with it)."""

from __future__ import annotations

import pytest
from django.db import connection

from audit import actions
from audit.models import AuditEvent
from audit.services import audit_record
from core.db.select import any_of, select

pytestmark = pytest.mark.django_db


def test_the_rows_whose_column_is_one_of_the_values_and_no_other():
    for number in range(6):
        audit_record(actor=None, action=actions.TRANSACTION_POSTED, target_type="transaction",
                     target_id=str(number), data={})
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    wanted = [ids[4], ids[0], ids[2], 10**12]  # in any order, one that is nowhere

    where, params = any_of("id", wanted)
    found = select(AuditEvent, where, params, order_by="id")

    assert [event.pk for event in found] == [ids[0], ids[2], ids[4]]
    assert [event.target_id for event in found] == ["0", "2", "4"]
    assert len(params) == (1 if connection.vendor == "postgresql" else 4)
