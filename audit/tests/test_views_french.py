"""The staff dashboards speak French too (issue 14's walk): the audit log, its filter form and its
errors, the NATS dashboard, the no-access page; and dates and times follow one format per language,
in the bank's time zone."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import formats, translation

from audit.tests.support import log


@pytest.fixture
def french(client):
    client.cookies["django_language"] = "fr"
    return client


def visible_text(response) -> str:
    page = response.content.decode()
    page = re.sub(r"<script.*?</script>", "", page, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))


def test_the_audit_log_in_french(french, sam):
    french.force_login(sam)
    log("auth.login", actor="sam")

    text = visible_text(french.get(reverse("staff-audit")))

    assert "Journal d’audit" in text
    for label in ("Acteur", "Type de cible", "Id de la cible", "Filtrer", "Heure", "Cible"):
        assert label in text
    for english in ("Audit log", "Target type", "Connecting to the live tail", "Live tail paused", "Filter "):
        assert english not in text


def test_a_bad_filter_is_explained_in_french(french, sam):
    french.force_login(sam)

    text = visible_text(french.get(reverse("staff-audit"), {"from": "yesterday"}))

    assert "Indiquez une date (2026-01-31) ou une date et heure ISO 8601." in text
    assert "Ces filtres ne sont pas valides." in text


def test_the_nats_dashboard_in_french(french, sam, nats_down):
    french.force_login(sam)

    text = visible_text(french.get(reverse("staff-nats")))

    assert "NATS est injoignable." in text
    for label in ("Serveur", "Processus de la chaîne", "Boîte d’envoi et journal d’audit", "Connexions"):
        assert label in text
    for english in ("NATS is unreachable", "Pipeline processes", "refreshed every", "Relay lag"):
        assert english not in text


def test_the_no_access_page_in_french(french, agnes):
    french.force_login(agnes)

    text = visible_text(french.get(reverse("staff-audit")))

    assert "Les tableaux de bord du personnel sont réservés aux superviseurs." in text


@pytest.mark.parametrize(("language", "date", "moment"), [
    ("fr", "2 août 2026", "2 août 2026, 14:05"),
    ("en", "August 2, 2026", "August 2, 2026, 14:05"),
])
def test_one_date_format_per_language_in_the_banks_time_zone(language, date, moment):
    # 12:05 UTC is 14:05 in Paris (summer time): the bank's zone, whatever the browser's.
    at = datetime(2026, 8, 2, 12, 5, tzinfo=ZoneInfo("UTC"))
    with translation.override(language):
        assert formats.date_format(at.astimezone(ZoneInfo("Europe/Paris")), "DATE_FORMAT") == date
        from django.template import Context, Template
        rendered = Template('{{ at|date:"DATETIME_FORMAT" }}').render(Context({"at": at}))
    assert rendered == moment


def test_pages_tell_their_scripts_the_banks_time_zone(client, db):
    page = client.get("/").content.decode()

    assert '<html lang="en" class="h-full" data-time-zone="Europe/Paris">' in page


def test_the_history_searchs_amount_error_and_the_desks_cash_label_in_french(client, alice, sam, alice_account):
    client.cookies["django_language"] = "fr"
    client.force_login(alice)
    text = visible_text(client.get(reverse("portal:account", args=[alice_account.pk]), {"min": "abc"}))
    assert "Saisissez un montant" in text and "Amounts are positive" not in text

    client.force_login(sam)
    text = visible_text(client.get(reverse("workspace:account", args=[alice_account.pk])))
    assert " Espèces " in text and " Cash " not in text
