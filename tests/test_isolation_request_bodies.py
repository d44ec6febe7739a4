"""Foreign ids in a request body never link one organisation's rows to another's.

The routes and the victim are those of ``test_isolation``; a file of its own so that it runs beside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from okrsignal.models import Organization, Role
from okrsignal.tenancy import cross_organization, tenant_models
from tests.conftest import client_for
from tests.test_isolation import (
    ATTACK_CASES,
    OWN_ORG,
    SENTINEL,
    VICTIM_ORG,
    Case,
    Victim,
    _body,
    _url,
    _victim_snapshot,
    build_victim,
    victim_fixture,  # noqa: F401 - the fixture
)

# --- Foreign ids in the request body ----------------------------------------------------------------
# A form or API body names related objects by id. Posted to the attacker's OWN objects, every such field
# carries the victim's id; the answer may be a form error, but the victim must not change and no row of
# the attacker may come to point at the victim's objects. Keyed by body field name; later forms add theirs.

VICTIM_BODY_VALUES: dict[str, Callable[[Victim], object]] = {
    "team": lambda victim: victim.world.team.pk,
    "manager": lambda victim: victim.world.manager.pk,
    "lead": lambda victim: victim.world.manager.pk,
    "parent": lambda victim: victim.world.team.pk,
    "role": lambda victim: Role.EMPLOYEE,
    "name": lambda victim: "Smuggled",
    "email": lambda victim: "smuggled@example.test",
}

BODY_CASES = [
    case
    for case in ATTACK_CASES
    if case.variant in (OWN_ORG, VICTIM_ORG)
    and case.method in ("POST", "PUT", "PATCH")
    and case.attacker_role == Role.ADMIN
]


def _links_to_other_organisations(organization: Organization) -> list[str]:
    """Rows of ``organization`` whose foreign keys point at another organisation's objects."""
    found = []
    with cross_organization():
        for model in tenant_models():
            for relation in model._meta.concrete_fields:
                related = relation.related_model
                if (
                    not relation.many_to_one
                    or relation.name == "organization"
                    or related not in tenant_models()
                ):
                    continue
                foreign_ids = related._default_manager.exclude(organization=organization).values("pk")
                rows = model._default_manager.filter(
                    organization=organization, **{f"{relation.attname}__in": foreign_ids}
                )
                if rows.exists():
                    found.append(f"{model._meta.label}.{relation.name}")
    return found


@pytest.mark.parametrize("case", BODY_CASES, ids=[case.id for case in BODY_CASES])
def test_foreign_ids_in_the_body_never_link_across_organisations(case: Case, victim: Victim) -> None:
    attacker = build_victim(name="Attacker", slug="attacker-organisation")
    body = {name: value(victim) for name, value in VICTIM_BODY_VALUES.items()}
    url = _url(case.route, attacker.organization.slug, attacker)
    before = _victim_snapshot(victim)

    client = client_for(attacker.world.admin)
    if case.route.is_api:
        response = client.generic(case.method, url, data=json.dumps(body), content_type="application/json")
    else:
        response = client.post(url, body)

    assert response.status_code < 500, f"{case.method} {url} answered {response.status_code}"
    assert SENTINEL.lower() not in _body(response).lower()
    assert _victim_snapshot(victim) == before, f"{case.method} {url} changed the victim's data"
    assert _links_to_other_organisations(attacker.organization) == []
