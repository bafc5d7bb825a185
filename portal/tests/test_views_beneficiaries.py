"""The beneficiaries pages: list and add, rename, delete after a confirmation."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.urls import reverse

from audit import actions
from audit.models import AuditEvent
from banking.models import Beneficiary
from banking.services import beneficiary_create
from banking.tests.factories import EXTERNAL_IBAN
from core.testing.users import TEST_PASSWORD
from portal.views.beneficiaries import REFUSAL_FIELDS, BeneficiaryForm

pytestmark = pytest.mark.django_db

LIST = reverse("portal:beneficiaries")
OTHER_IBAN = "GB82WEST12345698765432"


def test_each_refusal_is_said_next_to_a_field_of_the_add_form():
    assert set(REFUSAL_FIELDS.values()) <= set(BeneficiaryForm().fields)


def rows() -> list[tuple]:
    return list(Beneficiary.objects.order_by("pk").values_list("pk", "customer_id", "name", "iban"))


@pytest.fixture
def nothing_changes(unchanged):
    @contextmanager
    def check():
        before = rows()
        with unchanged():
            yield
        assert rows() == before

    return check


def signed_in(client, user):
    assert client.login(username=user.username, password=TEST_PASSWORD)
    return client


@pytest.fixture
def landlord(alice):
    return beneficiary_create(customer=alice, name="Landlord", iban=EXTERNAL_IBAN)


def urls(beneficiary) -> list[str]:
    return [LIST, reverse("portal:beneficiary-rename", args=[beneficiary.pk]),
            reverse("portal:beneficiary-delete", args=[beneficiary.pk])]


def test_signed_out_visitors_go_to_the_sign_in_page(client, landlord):
    for url in urls(landlord):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_staff_are_refused(client, agnes, landlord, nothing_changes):
    signed_in(client, agnes)
    with nothing_changes():
        for url in urls(landlord):
            assert client.get(url).status_code == 403
        assert client.post(urls(landlord)[2]).status_code == 403
        assert client.post(LIST, {"name": "X", "iban": OTHER_IBAN}).status_code == 403


def test_empty_state(client, alice):
    response = signed_in(client, alice).get(LIST)
    assert response.status_code == 200
    assert b'data-testid="beneficiaries-empty"' in response.content


def test_list_shows_only_your_own(client, alice, bob, landlord, django_assert_max_num_queries):
    beneficiary_create(customer=bob, name="Bob's gym", iban=OTHER_IBAN)
    friends = ["NL91ABNA0417164300", "FR1420041010050500013M02606", "BE68539007547034",
               "IT60X0542811101000000123456", "ES9121000418450200051332"]
    for n, iban in enumerate(friends):
        beneficiary_create(customer=alice, name=f"Friend {n}", iban=iban)
    signed_in(client, alice)
    with django_assert_max_num_queries(6):
        response = client.get(LIST)
    html = response.content.decode()
    assert "Landlord" in html and "DE89 3704 0044 0532 0130 00" in html and "Friend 4" in html
    assert "Bob&#x27;s gym" not in html and "Bob's gym" not in html


def test_add_a_beneficiary(client, alice):
    response = signed_in(client, alice).post(LIST, {"name": "Gym", "iban": "gb82 west 1234 5698 7654 32"}, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert Beneficiary.objects.filter(customer=alice, name="Gym", iban=OTHER_IBAN).exists()
    assert "Gym is saved as a beneficiary." in response.content.decode()


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "Gym", "iban": "GB82WEST12345698765431"}, "This is not a valid IBAN"),
    ({"name": "Gym", "iban": EXTERNAL_IBAN}, "You already saved this IBAN as “Landlord”."),
    ({"name": "", "iban": OTHER_IBAN}, "This field is required."),
    ({"name": "Gym", "iban": ""}, "This field is required."),
])
def test_refused_additions_say_why_and_change_nothing(client, alice, landlord, nothing_changes, data, message):
    signed_in(client, alice)
    with nothing_changes():
        response = client.post(LIST, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()


def test_rename(client, alice, landlord):
    url = reverse("portal:beneficiary-rename", args=[landlord.pk])
    signed_in(client, alice)
    assert 'value="Landlord"' in client.get(url).content.decode()
    response = client.post(url, {"name": "Mr Smith"})
    assert response.status_code == 302 and response["Location"] == LIST
    assert Beneficiary.objects.get(pk=landlord.pk).name == "Mr Smith"
    assert AuditEvent.objects.filter(action=actions.BENEFICIARY_RENAMED, target_id=str(landlord.pk)).exists()


def test_rename_to_nothing_is_refused(client, alice, landlord, nothing_changes):
    signed_in(client, alice)
    with nothing_changes():
        response = client.post(reverse("portal:beneficiary-rename", args=[landlord.pk]), {"name": "   "})
    assert response.status_code == 400


def test_delete_asks_first(client, alice, landlord):
    url = reverse("portal:beneficiary-delete", args=[landlord.pk])
    signed_in(client, alice)
    confirmation = client.get(url)
    assert confirmation.status_code == 200 and "Delete <strong>Landlord</strong>" in confirmation.content.decode()
    assert Beneficiary.objects.filter(pk=landlord.pk).exists()
    response = client.post(url, follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert not Beneficiary.objects.filter(pk=landlord.pk).exists()
    assert "Landlord is no longer a beneficiary." in response.content.decode()


def test_another_customers_beneficiary_is_404(client, bob, landlord, nothing_changes):
    signed_in(client, bob)
    with nothing_changes():
        for url in urls(landlord)[1:]:
            assert client.get(url).status_code == 404
            assert client.post(url, {"name": "Mine"}).status_code == 404
        assert client.get(reverse("portal:beneficiary-rename", args=["x"])).status_code == 404
