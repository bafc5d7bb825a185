"""French and English: chosen from the browser, switchable, amounts formatted for the language."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

from core.templatetags.money import format_money

NBSP = "\N{NO-BREAK SPACE}"


def test_the_sign_in_page_speaks_french_to_a_french_browser(client, db):
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9").content.decode()

    assert '<html lang="fr"' in html
    assert "Se connecter à Flux" in html
    assert "Nom d’utilisateur" in html or "Nom d'utilisateur" in html
    assert "Sign in to Flux" not in html


def test_an_english_browser_gets_english(client, db):
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9").content.decode()

    assert '<html lang="en"' in html
    assert "Sign in to Flux" in html


def test_the_switcher_changes_the_language(client, db):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'action="/i18n/setlang/"' in page.content.decode()

    switched = client.post("/i18n/setlang/", {"language": "fr", "next": "/login/"}, HTTP_ACCEPT_LANGUAGE="en")

    assert switched.status_code == 302
    assert switched["Location"] == "/login/"
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Se connecter à Flux" in html
    french_button = html.split('value="fr"', 1)[1].split(">", 1)[0]
    assert 'aria-pressed="true"' in french_button


@pytest.mark.parametrize(
    ("language", "minor", "expected"),
    [
        ("en", 123450, "1,234.50 EUR"),
        ("fr", 123450, f"1{NBSP}234,50 EUR"),
        ("en", -5, "-0.05 EUR"),
        ("fr", -100000000, f"-1{NBSP}000{NBSP}000,00 EUR"),
        ("en", 0, "0.00 EUR"),
    ],
)
def test_amounts_follow_the_language(language, minor, expected):
    with translation.override(language):
        assert format_money(minor, "EUR").replace(NBSP + "EUR", " EUR") == expected


def test_the_money_filter_in_a_template():
    template = Template("{% load money %}{{ amount|money:currency }}|{{ missing|money:'EUR' }}")
    with translation.override("fr"):
        rendered = template.render(Context({"amount": 123450, "currency": "EUR"}))
    assert rendered == f"1{NBSP}234,50{NBSP}EUR|"
