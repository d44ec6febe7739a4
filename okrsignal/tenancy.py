"""The tenant context: which organisation the current code acts for.

Two walls keep organisations apart:

1. Application scoping. ``TenantModel.objects`` raises ``TenantContextMissing`` unless an organisation is
   in context, and then filters every query to it. Views set the context from the URL after checking
   membership (``okrsignal.permissions``), tasks from their ``org_id`` argument (``okrsignal.tasks``).
2. PostgreSQL row-level security. ``tenant_context`` opens a transaction and sets the transaction-local
   setting ``okrsignal.organization_id`` that every tenant table's policy compares with its
   ``organization_id`` (see ``okrsignal.migration_operations``). A query with no organisation set sees
   no rows and can write none.

The only way past both is ``cross_organization()``, an explicit, greppable opt-out for the few places
that must look across tenants (the organisation switcher, a webhook finding its organisation).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction

if TYPE_CHECKING:
    from okrsignal.models import Organization

logger = logging.getLogger(__name__)

_organization_id: ContextVar[int | None] = ContextVar("okrsignal_organization_id", default=None)
_all_organizations: ContextVar[bool] = ContextVar("okrsignal_all_organizations", default=False)


class TenantContextMissing(RuntimeError):
    """A tenant-owned model was queried with no organisation in context."""


class TenantMismatch(ValueError):
    """A service was handed an object that belongs to another organisation."""


def current_organization_id() -> int | None:
    return _organization_id.get()


def require_organization_id() -> int:
    organization_id = _organization_id.get()
    if organization_id is None:
        raise TenantContextMissing(
            "No organisation is in context. Wrap the code in tenant_context(organization), "
            "or in cross_organization() where looking across tenants is intended."
        )
    return organization_id


def _apply_database_setting(organization_id: int | None, all_organizations: bool) -> None:
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('okrsignal.organization_id', %s, true),"
            " set_config('okrsignal.all_organizations', %s, true)",
            ["" if organization_id is None else str(organization_id), "on" if all_organizations else "off"],
        )


@contextmanager
def _scope(organization_id: int | None, all_organizations: bool) -> Iterator[None]:
    previous = (_organization_id.get(), _all_organizations.get())
    nested = connection.in_atomic_block
    # Inside an enclosing scope of the same organisation, its transaction has the setting already.
    inherited = nested and previous == (organization_id, all_organizations)
    id_token = _organization_id.set(organization_id)
    all_token = _all_organizations.set(all_organizations)
    try:
        with transaction.atomic():
            if not inherited:
                _apply_database_setting(organization_id, all_organizations)
            yield
            # When nested, hand the enclosing transaction back its own setting. (On an exception, or when
            # the block was marked for rollback, the savepoint rollback restores it; an outermost
            # transaction takes its setting with it, the setting being local to the transaction.)
            if nested and not inherited and not transaction.get_rollback():
                _apply_database_setting(*previous)
    finally:
        _organization_id.reset(id_token)
        _all_organizations.reset(all_token)


def tenant_context(organization: Organization | int) -> Any:
    """Act for one organisation, inside one transaction, until the block ends."""
    organization_id = organization if isinstance(organization, int) else organization.pk
    if organization_id is None:
        raise ValueError("tenant_context needs a saved organisation.")
    return _scope(organization_id, False)


def cross_organization() -> Any:
    """Look across every organisation. Use only where the code itself filters what it may see."""
    return _scope(None, True)


def require_same_organization(*objects: Any) -> None:
    """Refuse related objects from another organisation.

    Foreign keys are not filtered by row-level security, and following one uses Django's unscoped base
    manager, so every service that links objects checks them here first.
    """
    organization_id = require_organization_id()
    for obj in objects:
        if obj is not None and getattr(obj, "organization_id", organization_id) != organization_id:
            raise TenantMismatch(f"{type(obj).__name__} {obj.pk} belongs to another organisation.")


def require_relations_in_organization(instance: models.Model) -> None:
    """Refuse to save ``instance`` if any object it points to belongs to another organisation."""
    for field in instance._meta.concrete_fields:
        if (
            field.many_to_one
            and field.name != "organization"
            and getattr(instance, field.attname) is not None
        ):
            require_same_organization(getattr(instance, field.name))


def tenant_cache_key(*parts: object) -> str:
    """A cache key that carries the organisation, so cached data can never be served to another tenant."""
    return ":".join(["org", str(require_organization_id()), *(str(part) for part in parts)])


def scope_to_current_organization(queryset: models.QuerySet) -> models.QuerySet:
    """Filter a queryset of a tenant-owned model to the organisation in context, or raise."""
    if _all_organizations.get():
        return queryset
    return queryset.filter(organization_id=require_organization_id())


class TenantManager(models.Manager):
    """Fail-closed manager: every query is filtered to the organisation in context, or raises."""

    def get_queryset(self) -> models.QuerySet:
        return scope_to_current_organization(super().get_queryset())

    def create(self, **kwargs: Any) -> Any:
        if "organization" not in kwargs and "organization_id" not in kwargs:
            kwargs["organization_id"] = require_organization_id()
        return super().create(**kwargs)


class TenantModel(models.Model):
    """Base of every tenant-owned model. Its table must also get row-level security in its migration."""

    organization = models.ForeignKey("okrsignal.Organization", on_delete=models.CASCADE, editable=False)

    objects = TenantManager()

    class Meta:
        abstract = True


def tenant_models() -> list[type[models.Model]]:
    from django.apps import apps

    # Tenant-owned models are those whose default manager is fail-closed (historical models included).
    return [model for model in apps.get_models() if isinstance(model._default_manager, TenantManager)]
