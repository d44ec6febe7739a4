"""Invitations: a signed link that works once, before it expires, for one organisation only."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from okrsignal import services
from okrsignal.models import Invitation, Membership, Role
from okrsignal.tenancy import tenant_context
from tests.conftest import client_for
from tests.factories import OrgWorld, make_user


def _invite(world: OrgWorld, email: str = "newcomer@example.test") -> tuple[Invitation, str]:
    with tenant_context(world.organization):
        invitation = services.invitation_create(
            email=email, role=Role.EMPLOYEE, invited_by=world.admin, team=world.team, manager=world.manager
        )
    return invitation, services.invitation_token(invitation)


def _accept_url(world: OrgWorld, token: str) -> str:
    return reverse("invitation_accept", kwargs={"org_slug": world.slug, "token": token})


def _join(client: Client, url: str):
    return client.post(url, {"full_name": "New Comer", "password": "a-good-long-passphrase"})


def test_an_admin_invites_through_the_page_and_an_email_goes_out(
    acme: OrgWorld, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(acme.admin).post(
            reverse("invite", kwargs={"org_slug": acme.slug}),
            {
                "email": "Newcomer@Example.test",
                "role": Role.MANAGER,
                "team": acme.team.pk,
                "manager": acme.admin.pk,
            },
        )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["newcomer@example.test"]
    assert "Acme" in message.subject
    assert f"/o/{acme.slug}/join/" in message.body
    with tenant_context(acme.organization):
        assert Invitation.objects.get(email="newcomer@example.test").sent_at is not None


def test_accepting_creates_the_membership_as_invited_and_signs_in(acme: OrgWorld) -> None:
    _, token = _invite(acme)
    client = Client()
    response = _join(client, _accept_url(acme, token))
    assert response.status_code == 302
    assert response.url == f"/o/{acme.slug}/"
    with tenant_context(acme.organization):
        membership = Membership.objects.get(user__email="newcomer@example.test")
    assert (membership.role, membership.team_id, membership.manager_id) == (
        Role.EMPLOYEE,
        acme.team.pk,
        acme.manager.pk,
    )
    assert client.get(response.url).status_code == 200


def test_a_used_invitation_cannot_be_used_again(acme: OrgWorld) -> None:
    _, token = _invite(acme)
    _join(Client(), _accept_url(acme, token))
    second = _join(Client(), _accept_url(acme, token))
    assert second.status_code == 404
    assert "already been used" in second.content.decode()


def test_an_expired_invitation_is_refused(acme: OrgWorld) -> None:
    invitation, token = _invite(acme)
    with tenant_context(acme.organization):
        Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = _join(Client(), _accept_url(acme, token))
    assert response.status_code == 404
    assert "expired" in response.content.decode()
    with tenant_context(acme.organization):
        assert not Membership.objects.filter(user__email="newcomer@example.test").exists()


def test_an_invitation_for_one_organisation_does_not_open_another(acme: OrgWorld, globex: OrgWorld) -> None:
    _, token = _invite(acme)
    response = _join(Client(), _accept_url(globex, token))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()
    with tenant_context(globex.organization):
        assert not Membership.objects.filter(user__email="newcomer@example.test").exists()


def test_a_tampered_token_is_refused(acme: OrgWorld) -> None:
    _, token = _invite(acme)
    response = Client().get(_accept_url(acme, token[:-2] + ("AA" if not token.endswith("AA") else "BB")))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_a_withdrawn_invitation_is_refused(acme: OrgWorld) -> None:
    invitation, token = _invite(acme)
    with tenant_context(acme.organization):
        services.invitation_revoke(invitation=invitation)
    assert "withdrawn" in Client().get(_accept_url(acme, token)).content.decode()


def test_signed_in_as_someone_else_cannot_accept(acme: OrgWorld) -> None:
    _, token = _invite(acme)
    response = client_for(make_user()).post(_accept_url(acme, token))
    assert response.status_code == 400
    assert "newcomer@example.test" in response.content.decode()


def test_an_existing_account_joins_after_signing_in(acme: OrgWorld, globex: OrgWorld) -> None:
    existing = globex.report.user
    _, token = _invite(acme, email=existing.email)
    anonymous = Client().get(_accept_url(acme, token)).content.decode()
    assert "Sign in to accept" in anonymous
    response = client_for(existing).post(_accept_url(acme, token))
    assert response.status_code == 302
    with tenant_context(acme.organization):
        assert Membership.objects.filter(user=existing, is_active=True).exists()


def test_inviting_a_current_member_says_so_on_the_email_field(acme: OrgWorld) -> None:
    with tenant_context(acme.organization), pytest.raises(services.ValidationError) as error:
        services.invitation_create(email=acme.peer.user.email, role=Role.EMPLOYEE, invited_by=acme.admin)
    assert "already a member" in error.value.message_dict["email"][0]


def test_an_invitation_never_changes_the_role_of_someone_already_in(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        invitation = Invitation.objects.create(
            email=acme.manager.user.email,
            role=Role.EMPLOYEE,
            invited_by=acme.admin,
            expires_at=timezone.now() + timedelta(days=1),
        )
        services.invitation_accept(
            organization=acme.organization,
            token=services.invitation_token(invitation),
            user=acme.manager.user,
        )
        assert Membership.objects.get(pk=acme.manager.pk).role == Role.MANAGER
