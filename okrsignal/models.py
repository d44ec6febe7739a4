"""People and tenancy: users, organisations, teams, memberships, invitations and the audit log."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from okrsignal.tenancy import TenantModel


def normalize_email_address(email: str) -> str:
    return email.strip().lower()


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=normalize_email_address(username or ""))

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("A user needs an e-mail address.")
        user = self.model(email=normalize_email_address(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who can sign in. They belong to organisations through memberships."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=150)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_unique_ci")]

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Organization(models.Model):
    """The tenant. Everything a customer owns hangs off one organisation."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=50, unique=True)
    time_zone = models.CharField(max_length=64, default="UTC")
    # When the weekly check-in is due, in the organisation's time zone: Monday is 0, Sunday 6.
    checkin_weekday = models.PositiveSmallIntegerField(
        default=4, validators=[MinValueValidator(0), MaxValueValidator(6)]
    )
    checkin_time = models.TimeField(default=datetime.time(10, 0))
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "Admin"
    MANAGER = "manager", "Manager"
    EMPLOYEE = "employee", "Employee"


class Team(TenantModel):
    """A node of the organisation's team tree."""

    name = models.CharField(max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    lead = models.ForeignKey(
        "okrsignal.Membership", null=True, blank=True, on_delete=models.SET_NULL, related_name="teams_led"
    )

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="team_name_unique_per_org"),
            models.CheckConstraint(condition=~models.Q(parent=models.F("id")), name="team_not_own_parent"),
        ]

    def __str__(self) -> str:
        return self.name


class AlertDelivery(models.TextChoices):
    """How drift alerts reach someone outside the app (they always appear in the app)."""

    IMMEDIATE = "immediate", "As they happen (e-mail and Slack)"
    WEEKLY_DIGEST = "weekly_digest", "One e-mail every Monday morning"


class Membership(TenantModel):
    """A person in an organisation: their role, team and manager. Reporting lines form a tree."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EMPLOYEE)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members")
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="direct_reports"
    )
    title = models.CharField(max_length=120, blank=True)
    is_active = models.BooleanField(default=True)
    joined_at = models.DateTimeField(default=timezone.now)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    alert_delivery = models.CharField(
        max_length=16, choices=AlertDelivery.choices, default=AlertDelivery.IMMEDIATE
    )

    class Meta:
        ordering = ["user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="membership_unique_per_org"),
            models.CheckConstraint(
                condition=~models.Q(manager=models.F("id")), name="membership_not_own_manager"
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN


class Invitation(TenantModel):
    """An e-mailed invitation to join an organisation. The link carries a signed token; it works once."""

    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.EMPLOYEE)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    manager = models.ForeignKey(
        Membership, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    invited_by = models.ForeignKey(
        Membership, null=True, on_delete=models.SET_NULL, related_name="invitations_sent"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class NotificationKind(models.TextChoices):
    DRIFT_ALERT = "drift_alert", "Drift alert"
    DRIFT_DIGEST = "drift_digest", "Weekly drift digest"


class Notification(TenantModel):
    """Something the product tells one person, shown in the app (and sent on by ``NotificationDelivery``).

    ``subject_key`` names what it is about (``finding:12:1`` is the first time finding 12 opened): one
    person is told about one subject of one kind once, whoever asks how often.
    """

    recipient = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=32, choices=NotificationKind.choices)
    subject_key = models.CharField(max_length=100)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # A path on this site (``/o/<slug>/...``); e-mails put ``SITE_URL`` in front of it.
    link = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "recipient", "kind", "subject_key"],
                name="notification_once_per_subject",
            )
        ]
        indexes = [
            models.Index(fields=["organization", "recipient", "read_at"], name="notification_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.recipient_id}: {self.title}"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SLACK = "slack", "Slack direct message"


class NotificationDelivery(TenantModel):
    """A notification sent outside the app. Recorded (and committed) before it is sent: the unique
    constraint lets each notification go out by each channel once, however many workers race."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=16, choices=NotificationChannel.choices)
    recorded_at = models.DateTimeField(default=timezone.now)
    # When the message left, or why it never will (the cause went away, Slack was disconnected).
    delivered_at = models.DateTimeField(null=True, blank=True)
    not_sent_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "notification", "channel"], name="notification_delivery_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} of notification {self.notification_id}"


class AuditEvent(models.Model):
    """Append-only record of sign-ins and refusals. The database refuses updates and deletes.

    Not a tenant table: a failed sign-in belongs to no organisation. Rows outlive the users and
    organisations they name, so the references carry no database constraint.
    """

    class Kind(models.TextChoices):
        LOGIN = "login", "Signed in"
        LOGIN_FAILED = "login_failed", "Failed sign-in"
        LOGOUT = "logout", "Signed out"
        AUTHORIZATION_REFUSED = "authorization_refused", "Refused access"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    actor_identifier = models.CharField(max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} {self.actor_identifier} {self.created_at:%Y-%m-%d %H:%M}"


class ApiTokenScope(models.TextChoices):
    READ = "read", "Read"
    WRITE = "write", "Read and write"


class ApiToken(TenantModel):
    """A credential for the API of one organisation, acting as the membership that created it.

    Only a SHA-256 digest of the token is stored; the token itself is shown once, when it is created.
    ``prefix`` (the token's first characters) is kept in the clear so people can tell their tokens apart.
    """

    name = models.CharField(max_length=100)
    created_by = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="api_tokens")
    prefix = models.CharField(max_length=16)
    hashed_secret = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=8, choices=ApiTokenScope.choices, default=ApiTokenScope.READ)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == ApiTokenScope.WRITE
