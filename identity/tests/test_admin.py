"""The read-only Django admin: who gets in and what they see comes from the role alone
(identity/permissions.py, identity.backends.RoleBackend, identity/admin_site.py), never from
`is_staff`, groups or per-user grants, so an agent created by the staff service sees exactly what
a seeded one does. Agents: customers, accounts, transactions, entries. Supervisors: those and the
audit events, read-only. Nobody but a superuser: idempotency keys, tokens, lockouts, devices."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework_simplejwt.tokens import RefreshToken

from audit import actions
from audit.models import AuditEvent
from audit.services import audit_record
from core.models import IdempotencyKey
from core.testing.users import TEST_PASSWORD
from identity.models import Role, User
from identity.staff_services import agent_create

ADMIN = "/admin/"
# What an agent may open: the desk's own objects.
AGENT_PAGES = [
    "/admin/banking/account/",
    "/admin/banking/transaction/",
    "/admin/banking/entry/",
    "/admin/identity/user/",
]
AUDIT_PAGES = ["/admin/audit/auditevent/"]
# Registered in the admin, for superusers (operators) only.
OPERATOR_PAGES = [
    "/admin/core/idempotencykey/",
    "/admin/token_blacklist/outstandingtoken/",
    "/admin/token_blacklist/blacklistedtoken/",
    "/admin/auth/group/",
    "/admin/axes/accessattempt/",
    "/admin/otp_totp/totpdevice/",
]
# Not in the admin at all: the consumer's audit log and the relay's outbox.
UNREGISTERED_PAGES = ["/admin/audit/auditlogrecord/", "/admin/audit/outboxmessage/"]


def make_audit_event(customer: User) -> AuditEvent:
    with transaction.atomic():
        return audit_record(actor=customer, action=actions.AUTH_LOGIN, target_type="user", target_id=customer.pk,
                            data={"channel": "web"})


def make_idempotency_key(customer: User) -> IdempotencyKey:
    return IdempotencyKey.objects.create(user=customer, key="k-1", fingerprint="f", response_status=201,
                                         response_body={"id": 1}, created_at=timezone.now())


@pytest.fixture
def audit_event(alice) -> AuditEvent:
    return make_audit_event(alice)


@pytest.fixture
def idempotency_key(alice) -> IdempotencyKey:
    return make_idempotency_key(alice)


@pytest.fixture
def service_agent(sam) -> User:
    """An agent as a supervisor creates one (identity.staff_services.agent_create): no seeding."""
    agent = agent_create(actor=sam, username="nadia", first_name="Nadia", last_name="Haddad",
                         email="nadia@flux.example")
    return agent


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def admin_links(client: Client) -> set[str]:
    """The changelists the admin index offers this user."""
    response = client.get(ADMIN)
    assert response.status_code == 200
    return {model["admin_url"] for app in response.context["app_list"] for model in app["models"]}


def assert_agent_admin(client: Client, *, audit_event: AuditEvent, idempotency_key: IdempotencyKey) -> None:
    assert admin_links(client) == set(AGENT_PAGES)
    for page in AGENT_PAGES:
        assert client.get(page).status_code == 200, page
    for page in [*AUDIT_PAGES, f"/admin/audit/auditevent/{audit_event.pk}/change/", *OPERATOR_PAGES,
                 f"/admin/core/idempotencykey/{idempotency_key.pk}/change/"]:
        assert client.get(page).status_code == 403, page
    for page in [*UNREGISTERED_PAGES, "/admin/audit/", "/admin/token_blacklist/"]:
        assert client.get(page).status_code == 404, page


# --- Agents ---------------------------------------------------------------------------------------


def test_an_agent_sees_the_desk_objects_and_nothing_of_the_audit_keys_or_tokens(agnes, audit_event,
                                                                                 idempotency_key):
    assert not agnes.is_staff  # the role lets them in, not Django's flag
    assert_agent_admin(signed_in(agnes), audit_event=audit_event, idempotency_key=idempotency_key)


def test_an_agent_created_by_the_staff_service_gets_exactly_the_same(service_agent, audit_event,
                                                                     idempotency_key):
    assert service_agent.role == Role.AGENT and not service_agent.groups.exists()
    assert_agent_admin(signed_in(service_agent), audit_event=audit_event, idempotency_key=idempotency_key)


def test_a_group_or_a_per_user_grant_does_not_widen_an_agents_access(agnes, audit_event, idempotency_key):
    # What seed_demo used to do (a group with the audit and idempotency view permissions), and more.
    group = Group.objects.create(name="Bank staff (admin, read-only)")
    group.permissions.add(*Permission.objects.filter(codename__in=["view_auditevent", "view_idempotencykey"]))
    agnes.groups.add(group)
    agnes.user_permissions.add(*Permission.objects.filter(codename__in=["view_outstandingtoken", "change_account"]))

    assert_agent_admin(signed_in(agnes), audit_event=audit_event, idempotency_key=idempotency_key)
    agnes = User.objects.get(pk=agnes.pk)
    assert not agnes.has_perm("audit.view_auditevent") and not agnes.has_perm("banking.change_account")


def test_an_agent_sees_customers_but_not_the_staff_in_the_user_admin(agnes, sam, alice):
    client = signed_in(agnes)

    listed = set(client.get("/admin/identity/user/").context["cl"].result_list)

    assert alice in listed and sam not in listed and agnes not in listed
    assert client.get(f"/admin/identity/user/{alice.pk}/change/").status_code == 200
    # Another member of staff is "not found" (the admin's redirect to its index), as in the API.
    refused = client.get(f"/admin/identity/user/{sam.pk}/change/")
    assert refused.status_code == 302 and refused.url == ADMIN


def test_the_demo_agent_no_longer_reads_the_audit(db, settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO(), stderr=StringIO())
    agnes, alice = User.objects.get(username="agnes"), User.objects.get(username="alice")

    assert not Group.objects.exists()  # seed_demo grants nothing: the role does
    assert_agent_admin(signed_in(agnes), audit_event=make_audit_event(alice),
                       idempotency_key=make_idempotency_key(alice))
    sam = signed_in(User.objects.get(username="sam"))
    assert sam.get(AUDIT_PAGES[0]).status_code == 200


# --- Supervisors ----------------------------------------------------------------------------------


def test_a_supervisor_reads_the_audit_events_read_only(sam, agnes, audit_event, idempotency_key):
    client = signed_in(sam)
    before = list(AuditEvent.objects.values_list("pk", "action", "data"))

    assert admin_links(client) == {*AGENT_PAGES, *AUDIT_PAGES}
    listing = client.get(AUDIT_PAGES[0])
    assert listing.status_code == 200 and audit_event in listing.context["cl"].result_list
    detail = client.get(f"/admin/audit/auditevent/{audit_event.pk}/change/")
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.content.decode()
    assert client.post(f"/admin/audit/auditevent/{audit_event.pk}/change/", {"action": "x"}).status_code == 403
    assert client.get("/admin/audit/auditevent/add/").status_code == 403
    assert client.post(f"/admin/audit/auditevent/{audit_event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert list(AuditEvent.objects.values_list("pk", "action", "data")) == before
    # The staff directory is theirs.
    assert agnes in client.get("/admin/identity/user/").context["cl"].result_list
    for page in OPERATOR_PAGES:
        assert client.get(page).status_code == 403, page


# --- Who gets in ----------------------------------------------------------------------------------


def test_customers_and_inactive_staff_are_sent_to_the_admin_sign_in(alice, agnes):
    assert signed_in(alice).get(ADMIN).url.startswith("/admin/login/")
    alice.is_staff = True  # the flag alone lets no one in
    alice.save(update_fields=["is_staff"])
    assert signed_in(alice).get(ADMIN).url.startswith("/admin/login/")
    client = signed_in(agnes)
    User.objects.filter(pk=agnes.pk).update(is_active=False)
    assert client.get("/admin/banking/account/").status_code == 302


def test_the_admin_sign_in_page_takes_staff_by_role_and_refuses_customers(agnes, alice):
    staff = Client()
    response = staff.post("/admin/login/?next=/admin/", {"username": "agnes", "password": TEST_PASSWORD})
    assert response.status_code == 302 and response.url == ADMIN
    assert staff.get(ADMIN).status_code == 200

    customer = Client()
    response = customer.post("/admin/login/?next=/admin/", {"username": "alice", "password": TEST_PASSWORD})
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in customer.session


def test_a_superuser_sees_everything(db, audit_event, idempotency_key):
    operator = User.objects.create_superuser("ops", "ops@flux.example", TEST_PASSWORD)
    RefreshToken.for_user(operator)  # a row for the token admin
    client = signed_in(operator)

    for page in [*AGENT_PAGES, *AUDIT_PAGES, *OPERATOR_PAGES]:
        assert client.get(page).status_code == 200, page
