"""Every write to people and tenancy goes through these functions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import connection, models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from okrsignal.models import Invitation, Membership, Organization, Role, Team, User, normalize_email_address
from okrsignal.permissions import would_create_reporting_loop
from okrsignal.tenancy import cross_organization, require_same_organization, tenant_context, tenant_models

INVITATION_SALT = "okrsignal.invitation"
RESERVED_SLUGS = {"api", "admin", "static", "healthz", "readyz", "accounts", "signup", "orgs", "o", "join"}


# --- Users and organisations ------------------------------------------------------------------------


def user_create(*, email: str, full_name: str, password: str | None) -> User:
    email = normalize_email_address(email)
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError({"email": "An account with this e-mail address already exists."})
    return User.objects.create_user(email=email, password=password, full_name=full_name.strip())


def organization_slug_suggest(name: str) -> str:
    base = slugify(name)[:40] or "organisation"
    slug, counter = base, 2
    while slug in RESERVED_SLUGS or Organization.objects.filter(slug=slug).exists():
        slug, counter = f"{base}-{counter}", counter + 1
    return slug


@transaction.atomic
def organization_create(*, name: str, slug: str, first_admin: User, time_zone: str = "UTC") -> Organization:
    """Create an organisation with ``first_admin`` as its first member, an admin."""
    slug = slug.strip().lower()
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"'{slug}' is reserved; choose another address."})
    if Organization.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": f"The address '{slug}' is taken; choose another."})
    organization = Organization.objects.create(name=name.strip(), slug=slug, time_zone=time_zone)
    with tenant_context(organization):
        Membership.objects.create(user=first_admin, role=Role.ADMIN)
    return organization


# --- Teams ------------------------------------------------------------------------------------------


def _check_team_parent(team: Team | None, parent: Team | None) -> None:
    node = parent
    while node is not None:
        if team is not None and node.pk == team.pk:
            raise ValidationError({"parent": "A team cannot sit under itself or one of its own sub-teams."})
        node = node.parent


@transaction.atomic
def team_create(*, name: str, parent: Team | None = None, lead: Membership | None = None) -> Team:
    require_same_organization(parent, lead)
    if Team.objects.filter(name__iexact=name.strip()).exists():
        raise ValidationError({"name": "A team with this name already exists."})
    return Team.objects.create(name=name.strip(), parent=parent, lead=lead)


@transaction.atomic
def team_update(*, team: Team, name: str, parent: Team | None, lead: Membership | None) -> Team:
    require_same_organization(team, parent, lead)
    if Team.objects.filter(name__iexact=name.strip()).exclude(pk=team.pk).exists():
        raise ValidationError({"name": "A team with this name already exists."})
    _check_team_parent(team, parent)
    team.name, team.parent, team.lead = name.strip(), parent, lead
    team.save(update_fields=["name", "parent", "lead"])
    return team


# --- Memberships ------------------------------------------------------------------------------------


def _other_active_admins(membership: Membership) -> bool:
    return Membership.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=membership.pk).exists()


@transaction.atomic
def membership_update(
    *, membership: Membership, role: str, team: Team | None, manager: Membership | None, title: str = ""
) -> Membership:
    require_same_organization(membership, team, manager)
    if membership.role == Role.ADMIN and role != Role.ADMIN and not _other_active_admins(membership):
        raise ValidationError(
            {"role": "The organisation needs at least one admin; make someone else admin first."}
        )
    if would_create_reporting_loop(member=membership, manager=manager):
        raise ValidationError(
            {"manager": f"{manager} already reports to {membership}; reporting lines cannot loop."}
        )
    if manager is not None and not manager.is_active:
        raise ValidationError({"manager": f"{manager} is deactivated and cannot manage anyone."})
    membership.role, membership.team, membership.manager, membership.title = (
        role,
        team,
        manager,
        title.strip(),
    )
    membership.save(update_fields=["role", "team", "manager", "title"])
    return membership


@transaction.atomic
def membership_deactivate(*, membership: Membership) -> Membership:
    """Take someone out of the organisation while keeping everything they did.

    Their direct reports move up to the deactivated person's own manager, so no one is left
    reporting to someone who is gone.
    """
    require_same_organization(membership)
    if not membership.is_active:
        return membership
    if membership.role == Role.ADMIN and not _other_active_admins(membership):
        raise ValidationError({"role": "The organisation's last admin cannot be deactivated."})
    Membership.objects.filter(manager=membership).update(manager=membership.manager)
    membership.is_active = False
    membership.deactivated_at = timezone.now()
    membership.save(update_fields=["is_active", "deactivated_at"])
    return membership


@transaction.atomic
def membership_reactivate(*, membership: Membership) -> Membership:
    require_same_organization(membership)
    membership.is_active = True
    membership.deactivated_at = None
    membership.save(update_fields=["is_active", "deactivated_at"])
    return membership


# --- Invitations ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationProblem(Exception):
    message: str


def invitation_token(invitation: Invitation) -> str:
    return signing.dumps(
        {"invitation": invitation.pk, "organization": invitation.organization_id}, salt=INVITATION_SALT
    )


def invitation_url(invitation: Invitation) -> str:
    organization = Organization.objects.get(pk=invitation.organization_id)
    path = reverse(
        "invitation_accept", kwargs={"org_slug": organization.slug, "token": invitation_token(invitation)}
    )
    return f"{settings.SITE_URL}{path}"


@transaction.atomic
def invitation_create(
    *,
    email: str,
    role: str,
    invited_by: Membership,
    team: Team | None = None,
    manager: Membership | None = None,
) -> Invitation:
    require_same_organization(invited_by, team, manager)
    email = normalize_email_address(email)
    if Membership.objects.filter(user__email__iexact=email, is_active=True).exists():
        raise ValidationError({"email": f"{email} is already a member of this organisation."})
    now = timezone.now()
    # A new invitation replaces any still pending for the same address.
    Invitation.objects.filter(email=email, accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=now
    )
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        team=team,
        manager=manager,
        invited_by=invited_by,
        created_at=now,
        expires_at=now + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    from okrsignal.tasks import invitation_send_email

    organization_id = invitation.organization_id
    transaction.on_commit(lambda: invitation_send_email.delay(organization_id, invitation.pk))
    return invitation


def invitation_send(*, invitation_id: int) -> None:
    invitation = Invitation.objects.select_related("invited_by__user").get(pk=invitation_id)
    if not invitation.is_pending:
        return
    organization = Organization.objects.get(pk=invitation.organization_id)
    context = {"invitation": invitation, "organization": organization, "url": invitation_url(invitation)}
    send_mail(
        subject=f"You're invited to {organization.name} on OKRSignal",
        message=render_to_string("emails/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )
    Invitation.objects.filter(pk=invitation.pk).update(sent_at=timezone.now())


@transaction.atomic
def invitation_revoke(*, invitation: Invitation) -> None:
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(revoked_at=timezone.now())


def invitation_from_token(*, organization: Organization, token: str) -> Invitation:
    """The pending invitation a token names, or ``InvitationProblem`` saying what is wrong with it."""
    try:
        payload = signing.loads(token, salt=INVITATION_SALT)
    except signing.BadSignature as exc:
        raise InvitationProblem("This invitation link is not valid. Ask for a new one.") from exc
    if payload.get("organization") != organization.pk:
        raise InvitationProblem("This invitation link is not valid. Ask for a new one.")
    with tenant_context(organization):
        invitation = Invitation.objects.filter(pk=payload.get("invitation")).first()
    if invitation is None or invitation.revoked_at is not None:
        raise InvitationProblem("This invitation has been withdrawn. Ask an admin for a new one.")
    if invitation.accepted_at is not None:
        raise InvitationProblem("This invitation has already been used. Sign in instead.")
    if invitation.expires_at <= timezone.now():
        raise InvitationProblem("This invitation has expired. Ask an admin to send a new one.")
    return invitation


@transaction.atomic
def invitation_accept(*, organization: Organization, token: str, user: User) -> Membership:
    """Join the organisation. The invitation is claimed with compare-and-set, so it works exactly once."""
    invitation = invitation_from_token(organization=organization, token=token)
    if normalize_email_address(user.email) != invitation.email:
        raise InvitationProblem(f"This invitation was sent to {invitation.email}; sign in with that address.")
    with tenant_context(organization):
        claimed = Invitation.objects.filter(
            pk=invitation.pk, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(accepted_at=timezone.now(), accepted_by=user)
        if claimed != 1:
            raise InvitationProblem("This invitation has already been used. Sign in instead.")
        membership = Membership.objects.filter(user=user).first()
        if membership is None:
            membership = Membership.objects.create(
                user=user, role=invitation.role, team_id=invitation.team_id, manager_id=invitation.manager_id
            )
        elif membership.is_active:
            # Already in: an invitation never changes the role someone holds.
            return membership
        else:
            membership.role, membership.team_id, membership.manager_id = (
                invitation.role,
                invitation.team_id,
                invitation.manager_id,
            )
            membership.is_active, membership.deactivated_at = True, None
            membership.save()
    return membership


# --- Deleting an organisation -----------------------------------------------------------------------


@dataclass(frozen=True)
class OrganizationDeletion:
    """What ``organization_delete`` removed: rows per tenant table, and people who belonged nowhere else."""

    rows: dict[str, int]
    deleted_user_emails: list[str]


def _tenant_models_dependents_first() -> list[type[models.Model]]:
    """Every tenant model, each listed before the tenant models its enforced foreign keys point to.

    Loops (a team's lead is a member, a member's team is a team) have no such order; their constraints are
    deferred to the end of the transaction, so any order within a loop is fine.
    """
    tenant = tenant_models()
    dependents: dict[type[models.Model], list[type[models.Model]]] = {model: [] for model in tenant}
    for model in tenant:
        for field in model._meta.concrete_fields:
            if isinstance(field, models.ForeignKey) and getattr(field, "db_constraint", True):
                target = field.related_model
                if target in dependents and target is not model:
                    dependents[target].append(model)
    ordered: list[type[models.Model]] = []
    seen: set[type[models.Model]] = set()

    def visit(model: type[models.Model]) -> None:
        if model in seen:
            return
        seen.add(model)
        for dependent in sorted(dependents[model], key=lambda m: m._meta.label):
            visit(dependent)
        ordered.append(model)

    for model in sorted(tenant, key=lambda m: m._meta.label):
        visit(model)
    # ``visit`` appends a model after everything that depends on it: that is already dependents first.
    return ordered


@transaction.atomic
def organization_delete(*, organization: Organization) -> OrganizationDeletion:
    """Delete an organisation and everything in it; its people who belong to no other organisation go too.

    Row-level security shows a transaction only the rows of the organisation it acts for, so every tenant
    table is emptied inside this organisation's tenant context, dependents before what they depend on.
    The rows go with plain DELETE statements: recording each removal in history would only write new rows
    into tables that are being emptied. Foreign keys are then checked at once, so anything still pointing
    at a deleted row stops the deletion here, naming the constraint, rather than at commit.
    """
    rows: dict[str, int] = {}
    with tenant_context(organization):
        # Locked before anything is read: raw events, work items and signals name their organisation without
        # a database constraint, and ingestion holds the organisation's row while it writes them. A batch
        # in flight finishes first (its rows are then deleted with the rest), a later one finds it gone.
        Organization.objects.select_for_update().filter(pk=organization.pk).exists()
        user_ids = set(Membership.objects.values_list("user_id", flat=True))
        with connection.cursor() as cursor:
            for model in _tenant_models_dependents_first():
                table = connection.ops.quote_name(model._meta.db_table)
                cursor.execute(f"DELETE FROM {table} WHERE organization_id = %s", [organization.pk])  # noqa: S608
                if cursor.rowcount:
                    rows[model._meta.label] = cursor.rowcount
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        Organization.objects.filter(pk=organization.pk).delete()
    # Whether someone is a member elsewhere is a question about other organisations: asked only about the
    # people of the organisation just deleted.
    with cross_organization():
        elsewhere = set(Membership.objects.filter(user_id__in=user_ids).values_list("user_id", flat=True))
        leaving = User.objects.filter(pk__in=user_ids - elsewhere)
        deleted_user_emails = sorted(leaving.values_list("email", flat=True))
        leaving.delete()
    return OrganizationDeletion(rows=rows, deleted_user_emails=deleted_user_emails)
