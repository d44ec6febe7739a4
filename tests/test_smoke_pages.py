"""Every page of the platform renders for the people allowed to see it."""

from django.urls import reverse

from tests.conftest import client_for
from tests.factories import OrgWorld


def test_admin_sees_every_platform_page(acme: OrgWorld) -> None:
    client = client_for(acme.admin)
    slug = acme.slug
    for name, kwargs in [
        ("organization_home", {}),
        ("people", {}),
        ("invite", {}),
        ("teams", {}),
        ("team_create", {}),
        ("team_edit", {"team_id": acme.team.pk}),
        ("my_team", {}),
        ("membership_detail", {"membership_id": acme.report.pk}),
        ("membership_edit", {"membership_id": acme.report.pk}),
    ]:
        response = client.get(reverse(name, kwargs={"org_slug": slug, **kwargs}))
        assert response.status_code == 200, name
