"""Application-level scoping: the first wall between organisations."""

import pytest
from django.db import connection

from okrsignal.models import Membership, Team
from okrsignal.tenancy import (
    TenantContextMissing,
    cross_organization,
    current_organization_id,
    tenant_cache_key,
    tenant_context,
)
from tests.factories import OrgWorld


def _database_organization_setting() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('okrsignal.organization_id', true)")
        return cursor.fetchone()[0] or ""


def test_querying_a_tenant_model_without_an_organisation_raises(acme: OrgWorld) -> None:
    with pytest.raises(TenantContextMissing):
        Membership.objects.count()


def test_queries_see_only_the_organisation_in_context(acme: OrgWorld, globex: OrgWorld) -> None:
    with tenant_context(acme.organization):
        names = set(Membership.objects.values_list("user__full_name", flat=True))
    assert names
    assert all(name.startswith("Acme") for name in names)


def test_another_organisations_object_is_not_found_by_id(acme: OrgWorld, globex: OrgWorld) -> None:
    with tenant_context(acme.organization), pytest.raises(Membership.DoesNotExist):
        Membership.objects.get(pk=globex.admin.pk)


def test_cross_organization_is_the_explicit_way_to_see_every_tenant(acme: OrgWorld, globex: OrgWorld) -> None:
    with cross_organization():
        organizations = set(Team.objects.values_list("organization_id", flat=True))
    assert organizations == {acme.organization.pk, globex.organization.pk}


def test_nested_context_hands_back_the_outer_organisation(acme: OrgWorld, globex: OrgWorld) -> None:
    with tenant_context(acme.organization):
        with tenant_context(globex.organization):
            assert _database_organization_setting() == str(globex.organization.pk)
        assert current_organization_id() == acme.organization.pk
        assert _database_organization_setting() == str(acme.organization.pk)
        assert Team.objects.get().pk == acme.team.pk
    assert current_organization_id() is None
    assert _database_organization_setting() == ""


def test_context_is_reset_when_the_block_fails(acme: OrgWorld) -> None:
    with pytest.raises(RuntimeError), tenant_context(acme.organization):
        raise RuntimeError("boom")
    assert current_organization_id() is None
    with pytest.raises(TenantContextMissing):
        Team.objects.count()


def test_create_takes_the_organisation_from_context(acme: OrgWorld) -> None:
    with tenant_context(acme.organization):
        team = Team.objects.create(name="Research")
    assert team.organization_id == acme.organization.pk


def test_cache_keys_carry_the_organisation(acme: OrgWorld, globex: OrgWorld) -> None:
    with tenant_context(acme.organization):
        acme_key = tenant_cache_key("summary", 1)
    with tenant_context(globex.organization):
        globex_key = tenant_cache_key("summary", 1)
    assert acme_key != globex_key
    assert str(acme.organization.pk) in acme_key
    with pytest.raises(TenantContextMissing):
        tenant_cache_key("summary")
