"""The one-time link with which new staff and customers onboarded without a password choose their
own (identity/password_links.py, identity.views.PasswordSetView): the mail, the page, the link
working once, expired and garbage links refused without a change, and the mail files of
development."""

from __future__ import annotations

import email
import re
from datetime import datetime, timedelta
from smtplib import SMTPException
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail.backends.base import BaseEmailBackend
from django.test import Client
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from audit import actions
from audit.models import AuditEvent
from core.errors import ApplicationError
from core.testing.request_ids import request_data
from identity import password_links
from identity.models import Role, User
from identity.services import customer_create, token_obtain
from identity.staff_services import agent_create
from identity.tests.factories import AgentFactory, CustomerFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://\S+/account/password/(?P<uid>[^/\s]+)/(?P<token>[^/\s]+)/")
CHOSEN = "a-passphrase-only-i-know-2026"


def new_agent(sam, capture, **overrides) -> User:
    arguments = {"username": "nora", "first_name": "Nora", "last_name": "Agent", "email": "nora@flux.example"}
    with capture(execute=True):
        return agent_create(actor=sam, base_url="https://flux.example", **(arguments | overrides))


def the_link(mailoutbox) -> str:
    [mail] = mailoutbox
    return LINK.search(mail.body).group(0)


def path_of(link: str) -> str:
    return urlsplit(link).path


def user_state(user: User) -> tuple:
    return User.objects.filter(pk=user.pk).values_list("password", "is_active", "last_login").get()


def open_form(client: Client, link: str):
    """Follow the link as a browser does: the token moves into the session, the form shows."""
    response = client.get(path_of(link))
    assert response.status_code == 302, response.status_code
    form_url = response["Location"]
    assert "/set-password/" in form_url and LINK.search(link).group("token") not in form_url
    return form_url


# --- The mail -----------------------------------------------------------------------------------


def test_a_new_agent_is_mailed_a_link_and_has_no_password(sam, mailoutbox, django_capture_on_commit_callbacks):
    agent = new_agent(sam, django_capture_on_commit_callbacks)

    assert agent.role == Role.AGENT and not agent.has_usable_password()
    [mail] = mailoutbox
    assert mail.to == ["nora@flux.example"] and mail.subject == "Choose your Flux password"
    assert mail.from_email == "Flux <no-reply@flux.localhost>"
    assert mail.content_subtype == "plain" and not getattr(mail, "alternatives", None)
    assert "Hello Nora," in mail.body and "Your username is nora." in mail.body
    assert "member of the bank's staff" in mail.body and "two-factor sign-in" in mail.body
    assert "It works once, for 3 days" in mail.body
    assert the_link(mailoutbox).startswith("https://flux.example/account/password/")


def test_a_customer_mail_says_so(agnes, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        customer_create(actor=agnes, username="carol", first_name="Carol", last_name="C", email="carol@example.test")
    [mail] = mailoutbox
    assert "Your Flux account is open. Your username is carol." in mail.body
    assert "member of the bank's staff" not in mail.body and "two-factor" not in mail.body


def test_the_link_starts_with_flux_public_url_when_set(settings, sam, mailoutbox,
                                                       django_capture_on_commit_callbacks):
    settings.FLUX_PUBLIC_URL = "https://bank.example"
    with django_capture_on_commit_callbacks(execute=True):
        agent_create(actor=sam, username="nora", first_name="N", last_name="A", email="nora@flux.example")
    assert the_link(mailoutbox).startswith("https://bank.example/account/password/")


def test_development_writes_each_mail_as_a_file(settings, tmp_path, sam, django_capture_on_commit_callbacks):
    from project.settings import base  # the configured backend, before pytest-django's in-memory one

    assert base.MAILERS == {"default": {"BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                                        "OPTIONS": {"file_path": base.VAR_DIR / "mail"}}}
    settings.MAILERS = {"default": {**base.FILE_MAILER, "OPTIONS": {"file_path": tmp_path / "mail"}}}

    new_agent(sam, django_capture_on_commit_callbacks)

    [written] = list((tmp_path / "mail").iterdir())
    message = email.message_from_string(written.read_text().split("\n" + "-" * 79, 1)[0])
    assert message["To"] == "nora@flux.example" and message["Subject"] == "Choose your Flux password"
    assert LINK.search(message.get_payload(decode=True).decode())


class BrokenBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise SMTPException("relay down")


def test_a_mail_that_cannot_leave_is_logged_without_its_link_and_the_agent_stays(
    settings, sam, caplog, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}.BrokenBackend"}}
    settings.FLUX_PUBLIC_URL = "https://flux.example"

    agent = new_agent(sam, django_capture_on_commit_callbacks)

    assert User.objects.filter(pk=agent.pk).exists()
    assert f"The password link for user #{agent.pk} could not be mailed." in caplog.text
    assert "/account/password/" not in caplog.text


# --- The page -----------------------------------------------------------------------------------


def test_the_link_sets_the_password_once(sam, mailoutbox, django_capture_on_commit_callbacks):
    agent = new_agent(sam, django_capture_on_commit_callbacks)
    link = the_link(mailoutbox)
    client = Client()
    form_url = open_form(client, link)
    page = client.get(form_url).content.decode()
    assert "Choose your password" in page and 'data-testid="password-set-form"' in page
    assert 'autocomplete="new-password"' in page and "nora" in page

    response = client.post(form_url, {"new_password1": CHOSEN, "new_password2": CHOSEN}, follow=True)

    assert response.redirect_chain == [("/login/", 302)]
    assert "Your password is set." in response.content.decode()
    agent.refresh_from_db()
    assert agent.check_password(CHOSEN)
    assert token_obtain(username="nora", password=CHOSEN)["access"]
    event = AuditEvent.objects.get(action=actions.AUTH_PASSWORD_SET)
    assert (event.actor_id, event.target_id, request_data(event)) == (agent.pk, str(agent.pk), {"channel": "link"})

    # A second use, from the mail or in the same browser, is refused and changes nothing.
    before, events = user_state(agent), AuditEvent.objects.count()
    again = Client().get(path_of(link))
    assert again.status_code == 400 and 'data-testid="password-link-invalid"' in again.content.decode()
    replay = client.post(form_url, {"new_password1": "another-one-2026-x", "new_password2": "another-one-2026-x"})
    assert replay.status_code == 400 and b'data-testid="password-link-invalid"' in replay.content
    assert user_state(agent) == before and AuditEvent.objects.count() == events


def test_the_password_rules_apply(sam, mailoutbox, django_capture_on_commit_callbacks):
    agent = new_agent(sam, django_capture_on_commit_callbacks)
    client = Client()
    form_url = open_form(client, the_link(mailoutbox))
    before, events = user_state(agent), AuditEvent.objects.count()

    for first, second in (("short", "short"), ("1234567890123", "1234567890123"), (CHOSEN, CHOSEN + "x")):
        response = client.post(form_url, {"new_password1": first, "new_password2": second})
        assert response.status_code == 200 and b'aria-invalid="true"' in response.content

    assert user_state(agent) == before and AuditEvent.objects.count() == events
    # The link still works for a good one.
    assert client.post(form_url, {"new_password1": CHOSEN, "new_password2": CHOSEN}).status_code == 302


class FourDaysAgo(PasswordResetTokenGenerator):
    def _now(self):
        return datetime.now() - timedelta(days=4)


def test_an_expired_link_is_refused(sam, django_capture_on_commit_callbacks):
    agent = new_agent(sam, django_capture_on_commit_callbacks)
    uid = urlsafe_base64_encode(force_bytes(agent.pk))
    before, events = user_state(agent), AuditEvent.objects.count()

    response = Client().get(f"/account/password/{uid}/{FourDaysAgo().make_token(agent)}/")

    assert response.status_code == 400 and b"This link no longer works" in response.content
    assert user_state(agent) == before and AuditEvent.objects.count() == events


@pytest.mark.parametrize("which", ["garbage uid", "garbage token", "another user's token", "unknown user"])
def test_a_garbage_link_is_refused(sam, mailoutbox, django_capture_on_commit_callbacks, which):
    agent = new_agent(sam, django_capture_on_commit_callbacks)
    other = new_agent(sam, django_capture_on_commit_callbacks, username="otto", email="otto@flux.example")
    good = LINK.search(mailoutbox[0].body)
    other_token = LINK.search(mailoutbox[1].body).group("token")
    uid, token = {
        "garbage uid": ("!!notbase64", good.group("token")),
        "garbage token": (good.group("uid"), "abc-123"),
        "another user's token": (good.group("uid"), other_token),
        "unknown user": (urlsafe_base64_encode(b"999999999"), good.group("token")),
    }[which]
    before = (user_state(agent), user_state(other), AuditEvent.objects.count())
    client = Client()

    response = client.get(f"/account/password/{uid}/{token}/")
    posted = client.post(f"/account/password/{uid}/set-password/", {"new_password1": CHOSEN,
                                                                    "new_password2": CHOSEN})

    assert response.status_code == 400 and posted.status_code == 400
    assert (user_state(agent), user_state(other), AuditEvent.objects.count()) == before


def test_a_deactivated_members_link_is_refused(sam, mailoutbox, django_capture_on_commit_callbacks):
    agent = new_agent(sam, django_capture_on_commit_callbacks)
    User.objects.filter(pk=agent.pk).update(is_active=False)
    before = user_state(agent)
    assert Client().get(path_of(the_link(mailoutbox))).status_code == 400
    assert user_state(agent) == before


# --- Resending ----------------------------------------------------------------------------------


def test_a_supervisor_resends_a_customers_link_at_the_desk(sam, agnes, mailoutbox,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        carol = customer_create(actor=agnes, username="carol", first_name="Carol", last_name="C",
                                email="carol@example.test")
    supervisor, agent = Client(), Client()
    supervisor.force_login(sam)
    agent.force_login(agnes)
    page = agent.get(f"/agent/customers/{carol.pk}/").content.decode()
    assert 'data-testid="customer-no-password"' in page and "/password-link/" not in page
    before = (user_state(carol), AuditEvent.objects.count())
    assert agent.post(f"/agent/customers/{carol.pk}/password-link/").status_code == 403
    assert (user_state(carol), AuditEvent.objects.count()) == before

    with django_capture_on_commit_callbacks(execute=True):
        response = supervisor.post(f"/agent/customers/{carol.pk}/password-link/", follow=True)

    assert "A new link to choose a password is on its way to carol@example.test" in response.content.decode()
    assert len(mailoutbox) == 2 and mailoutbox[1].to == ["carol@example.test"]
    first, second = (LINK.search(mail.body).group(0) for mail in mailoutbox)
    assert second.startswith("http://testserver/account/password/")  # built on the desk's own address
    assert Client().get(path_of(first)).status_code == 400  # replaced by the new one
    assert Client().get(path_of(second)).status_code == 302


def test_nothing_to_resend_once_a_password_is_chosen(sam, unchanged):
    customer = CustomerFactory(username="carol")  # has a password
    inactive = AgentFactory(username="gone", password=None, is_active=False)
    for user, message in ((customer, "already chosen a password"), (inactive, "deactivated")):
        before = user_state(user)
        with unchanged(), pytest.raises(ApplicationError) as refusal:
            password_links.password_link_resend(actor=sam, user=user, base_url="https://flux.example")
        assert refusal.value.code == "validation_error" and message in refusal.value.message
        assert user_state(user) == before


def test_production_sends_through_smtp_from_the_environment():
    from core.testing.prod import run_with_prod_settings

    result = run_with_prod_settings(
        "shell", "-c", "from django.core import mail; m = mail.mailers.default; "
        "print(type(m).__name__, m.host, m.port, m.username, m.use_tls, m.use_ssl, m.timeout)",
        EMAIL_HOST="smtp.bank.example", EMAIL_PORT="2525", EMAIL_HOST_USER="flux", EMAIL_HOST_PASSWORD="s3cret",
        DEFAULT_FROM_EMAIL="Flux <flux@bank.example>",
    )

    assert result.returncode == 0, result.stderr
    printed = result.stdout.strip().splitlines()[-1].split()
    assert printed == ["EmailBackend", "smtp.bank.example", "2525", "flux", "True", "False", "10"]
