"""Sign-up, sign-in, the front door, lockout, password reset and the audit log."""

import re

import pytest
from django.core import mail
from django.db import DatabaseError, transaction
from django.test import Client
from django.urls import reverse

from okrsignal.models import AuditEvent, Membership, Organization, Role
from okrsignal.tenancy import tenant_context
from tests.conftest import client_for
from tests.factories import PASSWORD, OrgWorld, make_organization, make_user

LOGIN = "/accounts/login/"


def _sign_in(client: Client, email: str, password: str, ip: str = "203.0.113.9"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def test_anonymous_visitor_is_sent_to_sign_in(db: None) -> None:
    response = Client().get("/")
    assert response.status_code == 302
    assert response.url == reverse("login")


def test_member_of_one_organisation_lands_on_its_home(acme: OrgWorld) -> None:
    response = client_for(acme.report).get("/")
    assert response.url == f"/o/{acme.slug}/"


def test_member_of_several_organisations_gets_the_switcher(acme: OrgWorld, globex: OrgWorld) -> None:
    with tenant_context(globex.organization):
        Membership.objects.create(user=acme.report.user, role=Role.EMPLOYEE)
    client = client_for(acme.report)
    assert client.get("/").url == reverse("organization_switcher")
    page = client.get(reverse("organization_switcher")).content.decode()
    assert "Acme" in page
    assert "Globex" in page


def test_sign_up_creates_an_organisation_with_its_first_admin(db: None) -> None:
    client = Client()
    response = client.post(
        reverse("signup"),
        {
            "full_name": "Ada Lovelace",
            "email": "Ada@Example.test",
            "password": "analytical-engine-1843",
            "organization_name": "Difference Engines",
            "organization_slug": "",
        },
    )
    assert response.status_code == 302
    organization = Organization.objects.get(slug="difference-engines")
    assert response.url == f"/o/{organization.slug}/"
    with tenant_context(organization):
        membership = Membership.objects.get()
    assert membership.role == Role.ADMIN
    assert membership.user.email == "ada@example.test"
    assert client.get(response.url).status_code == 200


def test_sign_up_with_a_taken_address_says_so_on_the_field(acme: OrgWorld) -> None:
    response = Client().post(
        reverse("signup"),
        {
            "full_name": "Someone",
            "email": "someone@example.test",
            "password": "analytical-engine-1843",
            "organization_name": "Another",
            "organization_slug": acme.slug,
        },
    )
    assert response.status_code == 200
    assert "is taken" in response.context["form"].errors["organization_slug"][0]
    assert not Organization.objects.filter(name="Another").exists()


def test_sign_in_with_email_is_audited(acme: OrgWorld) -> None:
    response = _sign_in(Client(), acme.report.user.email.upper(), PASSWORD)
    assert response.status_code == 302
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOGIN)
    assert event.actor_id == acme.report.user_id
    assert event.ip_address == "203.0.113.9"


def test_failed_sign_in_shows_an_error_and_is_audited(acme: OrgWorld) -> None:
    response = _sign_in(Client(), acme.report.user.email, "wrong-password")
    assert response.status_code == 200
    assert "correct" in response.content.decode()
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.LOGIN_FAILED)
    assert event.actor_identifier == acme.report.user.email
    assert event.ip_address == "203.0.113.9"


def test_refused_access_to_another_organisation_is_audited(acme: OrgWorld, globex: OrgWorld) -> None:
    response = client_for(globex.admin).get(f"/o/{acme.slug}/")
    assert response.status_code == 404
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.AUTHORIZATION_REFUSED)
    assert (event.organization_id, event.actor_id) == (acme.organization.pk, globex.admin.user_id)


def test_the_audit_log_is_append_only(acme: OrgWorld) -> None:
    _sign_in(Client(), acme.report.user.email, PASSWORD)
    event = AuditEvent.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(path="/rewritten")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()


def test_repeated_failures_lock_out_that_address_only(acme: OrgWorld) -> None:
    email = acme.report.user.email
    for _ in range(5):
        _sign_in(Client(), email, "wrong-password", ip="198.51.100.7")
    locked = _sign_in(Client(), email, PASSWORD, ip="198.51.100.7")
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    # The real person, signing in from their own address, is not locked out by the attacker.
    assert _sign_in(Client(), email, PASSWORD, ip="203.0.113.50").status_code == 302


def test_password_reset_frees_a_locked_out_account(acme: OrgWorld) -> None:
    email = acme.report.user.email
    for _ in range(5):
        _sign_in(Client(), email, "wrong-password", ip="198.51.100.8")
    assert _sign_in(Client(), email, PASSWORD, ip="198.51.100.8").status_code == 429

    client = Client()
    client.post(reverse("password_reset"), {"email": email})
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[-1].body).group(1)
    form_page = client.get(link, follow=True)
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-brand-new-passphrase", "new_password2": "a-brand-new-passphrase"},
    )
    assert _sign_in(Client(), email, "a-brand-new-passphrase", ip="198.51.100.8").status_code == 302


def test_pages_carry_a_strict_content_security_policy(db: None) -> None:
    response = Client().get(LOGIN)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


def test_htmx_requests_carry_the_csrf_token(db: None) -> None:
    page = Client().get(LOGIN).content.decode()
    assert re.search(r"hx-headers='\{\"X-CSRFToken\": \"[\w-]+\"\}'", page)
    assert '"allowEval": false' in page


def test_a_deactivated_member_can_no_longer_open_the_organisation(db: None) -> None:
    world = make_organization("Initech")
    from okrsignal.services import membership_deactivate

    with tenant_context(world.organization):
        membership_deactivate(membership=Membership.objects.get(pk=world.peer.pk))
    assert client_for(world.peer).get(f"/o/{world.slug}/").status_code == 404


def test_someone_with_no_organisation_sees_what_to_do_next(db: None) -> None:
    client = client_for(make_user())
    page = client.get(reverse("organization_switcher")).content.decode()
    assert "not in any organisation yet" in page


def test_behind_a_proxy_the_lockout_keys_on_the_clients_own_address(acme: OrgWorld, settings) -> None:
    settings.AXES_IPWARE_PROXY_COUNT = 0  # what TRUSTED_PROXY_COUNT=1 sets: one proxy in front
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")
    email = acme.report.user.email
    proxy = {"REMOTE_ADDR": "10.0.0.2"}

    def through_proxy(client_address: str, password: str):
        return Client().post(
            LOGIN, {"username": email, "password": password}, HTTP_X_FORWARDED_FOR=client_address, **proxy
        )

    for _ in range(5):
        through_proxy("198.51.100.7", "wrong-password")
    assert through_proxy("198.51.100.7", PASSWORD).status_code == 429
    assert through_proxy("203.0.113.50", PASSWORD).status_code == 302
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.LOGIN, ip_address="203.0.113.50").exists()
