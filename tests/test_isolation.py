"""No organisation can reach another's data through any URL of the product, pages or API.

The test walks every URL pattern the project serves, fills each pattern's parameters with the real ids
of a victim organisation's objects and requests it, with every method the route accepts, as someone who
belongs to a different organisation: once with the URL naming the attacker's own organisation (the
victim's ids smuggled into it) and once with the URL naming the victim's organisation. Every answer must be
a 404 that does not contain the sentinel string the victim's names carry, and no request may change the
victim's data.

Adding a route with a new kind of parameter makes ``test_every_route_is_covered_or_skipped`` fail until
the parameter gets an entry in ``VICTIM_VALUES`` (how to find the victim's real value for it) or the route
goes on ``SKIPPED_ROUTES`` with the reason it holds no tenant data. Extend the victim (``build_victim``)
and the tables; the mechanism stays as it is. The attacks by an employee (``test_isolation_as_employee``)
and the foreign ids in request bodies (``test_isolation_request_bodies``) have files of their own, so that
they run beside these on another test worker.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.http.response import HttpResponseBase
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern
from django.utils.text import slugify

from okrsignal import services
from okrsignal.api_tokens import api_token_create
from okrsignal.models import ApiToken, Invitation, Organization, Role, User
from okrsignal.tenancy import tenant_context, tenant_models
from signals_ingest import services as ingest_services
from signals_ingest.models import ExternalIdentity, MappingRule
from tests.checkin_factories import make_check_in_data
from tests.conftest import client_for
from tests.drift_factories import make_drift_data
from tests.factories import OrgWorld, make_organization
from tests.goal_factories import make_goal_data
from tests.ingest_factories import connect as ingest_connect
from tests.ingest_factories import make_ingest_data

# Written into the victim organisation's name, its people's names, its team names and its invitation's
# address. Kept out of the victim's slug, so that a URL echoed back in a response is not taken for a leak.
SENTINEL = "VICTIM-SENTINEL-3f9c"

ORG_SLUG = "org_slug"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")

# Variants: which organisation the URL names, and who asks.
OWN_ORG = "own-org"  # the attacker's own slug with the victim's ids
VICTIM_ORG = "victim-org"  # the victim's slug, which the attacker is not a member of
NO_ORG = "no-org"  # a route without an organisation in its URL, with the victim's ids
VICTIM_SELF = "victim-self"  # control: the victim's own admin, proving the values are real


# --- The victim -------------------------------------------------------------------------------------


@dataclass
class Victim:
    """The organisation under attack. Every object in it that a URL can name is reachable from here."""

    world: OrgWorld
    invitation: Invitation
    invitation_token: str
    goals: dict[str, Any]
    check_ins: dict[str, Any]
    integrations: dict[str, Any]
    drift: dict[str, Any]
    api_token: ApiToken

    @property
    def organization(self) -> Organization:
        return self.world.organization


def make_victim_integrations(world: OrgWorld, goals: dict[str, Any]) -> dict[str, Any]:
    """A connected Jira (with a rule, a work item, a signal and an identity) and Slack, pointing nowhere.

    Their addresses point at a closed local port, so the victim's own admin (the control requests) can press
    "test connection" or list channels without anything leaving the machine.
    """
    jira = make_ingest_data(world, goals["key_result"])
    jira = ingest_services.integration_update_settings(
        integration=jira, settings={**jira.settings, "site": "http://127.0.0.1:9"}
    )
    slack = ingest_connect("slack", api_base_url="http://127.0.0.1:9/api/")
    return {
        "jira": jira,
        "slack": slack,
        "rule": MappingRule.objects.filter(integration=jira).first(),
        "identity": ExternalIdentity.objects.first(),
    }


def build_victim(name: str = f"Victim {SENTINEL}", slug: str = "victim-organisation") -> Victim:
    world = make_organization(name, slug=slug)
    with tenant_context(world.organization):
        invitation = services.invitation_create(
            email=f"{slugify(name)}@example.test",
            role=Role.EMPLOYEE,
            invited_by=world.admin,
            team=world.team,
            manager=world.manager,
        )
        token = services.invitation_token(invitation)
        goals = make_goal_data(world)
        check_ins = make_check_in_data(world, goals)
        integrations = make_victim_integrations(world, goals)
        drift = make_drift_data(world, goals)
        api_token, _raw = api_token_create(created_by=world.admin, name=f"{name} integration", scope="write")
    return Victim(
        world=world,
        invitation=invitation,
        invitation_token=token,
        goals=goals,
        check_ins=check_ins,
        integrations=integrations,
        drift=drift,
        api_token=api_token,
    )


# --- The data table: how to fill each URL parameter with the victim's real value ----------------------
# Keyed by parameter name. A ``pk`` says nothing about what it names, so it is keyed by the route's
# DRF basename (or, for a plain Django view, its URL name): ``"api-member:pk"``.

VICTIM_VALUES: dict[str, Callable[[Victim], object]] = {
    "membership_id": lambda victim: victim.world.report.pk,
    "team_id": lambda victim: victim.world.team.pk,
    "invitation_id": lambda victim: victim.invitation.pk,
    "token": lambda victim: victim.invitation_token,
    "api-member:pk": lambda victim: victim.world.report.pk,
    "api-team:pk": lambda victim: victim.world.team.pk,
    "api_token_id": lambda victim: victim.api_token.pk,
    "cycle_id": lambda victim: victim.goals["cycle"].pk,
    "objective_id": lambda victim: victim.goals["objective"].pk,
    "key_result_id": lambda victim: victim.goals["key_result"].pk,
    "kpi_id": lambda victim: victim.goals["kpi"].pk,
    "api-cycle:pk": lambda victim: victim.goals["cycle"].pk,
    "api-objective:pk": lambda victim: victim.goals["objective"].pk,
    "api-key-result:pk": lambda victim: victim.goals["key_result"].pk,
    "api-initiative:pk": lambda victim: victim.goals["initiative"].pk,
    "api-kpi:pk": lambda victim: victim.goals["kpi"].pk,
    "api-kpi-reading:pk": lambda victim: victim.goals["reading"].pk,
    "api-check-in:pk": lambda victim: victim.check_ins["check_in"].pk,
    "check_in_id": lambda victim: victim.check_ins["check_in"].pk,
    "integration_id": lambda victim: victim.integrations["jira"].pk,
    "slack_integration_id": lambda victim: victim.integrations["slack"].pk,
    "rule_id": lambda victim: victim.integrations["rule"].pk,
    "identity_id": lambda victim: victim.integrations["identity"].pk,
    "finding_id": lambda victim: victim.drift["finding"].pk,
    "notification_id": lambda victim: victim.drift["notification"].pk,
}

WEBHOOK_SKIP_REASON = (
    "Vendor webhook: no organisation or session in the URL; authenticated by the unguessable per-integration"
    " token and the vendor's signature (401 without one). Isolation is tested in tests/test_webhooks.py and"
    " tests/test_webhook_concurrency.py."
)

# Routes that hold no tenant data, each with the reason.
OAUTH_CALLBACK_SKIP_REASON = (
    "The vendor's OAuth redirect: forwards to the page of the organisation the caller's own session started "
    "the connection for, which checks membership and the single-use state; reads and writes no tenant data."
)
SKIPPED_ROUTES: dict[str, str] = {
    "": "Redirects to the visitor's own organisation or the switcher; shows no organisation's data.",
    "orgs/": "The switcher lists only the caller's own memberships (selectors.memberships_of_user).",
    "signup/": "Creates a new organisation; reads no existing one.",
    "accounts/login/": "Sign-in; no organisation's data.",
    "accounts/logout/": "Sign-out; no organisation's data.",
    "accounts/password-reset/": "Asks for a reset e-mail by address; no organisation's data.",
    "accounts/password-reset/sent/": "A static confirmation page.",
    "accounts/reset/<uidb64>/<token>/": "Password reset for a user, authorised by Django's signed token.",
    "accounts/reset/done/": "A static confirmation page.",
    "api/v1/schema/": "The OpenAPI description of the API; the same for everyone, no data.",
    "api/v1/docs/": "The interactive API documentation page; the same for everyone, no data.",
    "healthz": "Load-balancer probe; no data.",
    "readyz": "Readiness probe; reports on the database, Redis and Celery, no tenant data.",
    "webhooks/jira/<webhook_token>/": WEBHOOK_SKIP_REASON,
    "webhooks/slack/<webhook_token>/": WEBHOOK_SKIP_REASON,
    "webhooks/hubspot/<webhook_token>/": WEBHOOK_SKIP_REASON,
    "oauth/hubspot/callback/": OAUTH_CALLBACK_SKIP_REASON,
    "oauth/jira/callback/": OAUTH_CALLBACK_SKIP_REASON,
}

# Organisation routes whose page, even for the organisation's own members, carries none of its data: the
# control cannot look for the sentinel there (the attack cases still run), each with the reason.
SHOWS_NO_ORGANISATION_DATA: dict[str, str] = {
    "o/<org_slug>/goals/import-template.csv": "The CSV template: a header and examples owned by the caller.",
}

# Single variants of otherwise covered routes that are allowed by design, each with the reason.
SKIPPED_VARIANTS: dict[tuple[str, str], str] = {
    ("o/<org_slug>/join/<token>/", VICTIM_ORG): (
        "The victim's own slug with the victim's own signed invitation token is a valid invitation link: "
        "the token, not membership, is the authorisation. The token under any other organisation's slug "
        "must 404 (the own-org variant)."
    ),
}


# --- Walking the URL patterns -----------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    template: str  # the full route with every parameter written ``<name>``
    parameters: tuple[str, ...]
    name: str | None
    callback: Callable[..., HttpResponseBase] = field(compare=False)

    @property
    def basename(self) -> str | None:
        initkwargs = getattr(self.callback, "initkwargs", None) or {}
        return initkwargs.get("basename") or self.name

    @property
    def is_api(self) -> bool:
        return hasattr(self.callback, "cls")

    @property
    def object_parameters(self) -> tuple[str, ...]:
        return tuple(parameter for parameter in self.parameters if parameter != ORG_SLUG)

    def table_key(self, parameter: str) -> str:
        return f"{self.basename}:{parameter}" if parameter == "pk" else parameter

    @property
    def missing_parameters(self) -> list[str]:
        return [
            self.table_key(parameter)
            for parameter in self.object_parameters
            if self.table_key(parameter) not in VICTIM_VALUES
        ]

    @property
    def is_covered(self) -> bool:
        return bool(self.parameters) and not self.missing_parameters

    @property
    def methods(self) -> tuple[str, ...]:
        """The methods the route accepts; for a function view every method, since only a request can tell."""
        actions = getattr(self.callback, "actions", None)
        if actions:  # a DRF viewset route: the router's method-to-action map
            return tuple(method for method in METHODS if method.lower() in actions)
        view_class = getattr(self.callback, "view_class", None)
        if view_class is not None:  # a class-based view: the handlers it implements
            return tuple(
                method
                for method in METHODS
                if method.lower() in view_class.http_method_names and hasattr(view_class, method.lower())
            )
        return METHODS

    @property
    def is_function_view(self) -> bool:
        return (
            not getattr(self.callback, "actions", None) and getattr(self.callback, "view_class", None) is None
        )

    @property
    def variants(self) -> tuple[str, ...]:
        if ORG_SLUG not in self.parameters:
            return (NO_ORG,)
        if not self.object_parameters:  # the attacker's own page is no isolation case
            return (VICTIM_ORG,)
        return (OWN_ORG, VICTIM_ORG)


def _readable(pattern: Any) -> str:
    """A pattern's text with every parameter written ``<name>``, whether it is a route or a regex."""
    if isinstance(pattern, RegexPattern):
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", pattern.regex.pattern)
        return text.removeprefix("^").removesuffix("$")
    return re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", str(pattern))


def _walk(resolver: URLResolver, prefix: str = "", parameters: tuple[str, ...] = ()) -> Iterator[Route]:
    for entry in resolver.url_patterns:
        text = prefix + _readable(entry.pattern)
        names = parameters + tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            yield from _walk(entry, text, names)
        elif isinstance(entry, URLPattern):
            yield Route(template=text, parameters=names, name=entry.name, callback=entry.callback)


ROUTES: list[Route] = list(_walk(get_resolver()))


@dataclass(frozen=True)
class Case:
    route: Route
    method: str
    variant: str
    attacker_role: str

    @property
    def id(self) -> str:
        return f"{self.attacker_role}-{self.variant}-{self.method}-/{self.route.template}"


def _attack_cases() -> list[Case]:
    return [
        Case(route, method, variant, role)
        for route in ROUTES
        if route.template not in SKIPPED_ROUTES and route.is_covered
        for variant in route.variants
        if (route.template, variant) not in SKIPPED_VARIANTS
        for method in route.methods
        for role in (Role.ADMIN, Role.EMPLOYEE)
    ]


def _control_cases() -> list[Case]:
    return [
        Case(route, method, VICTIM_SELF, Role.ADMIN)
        for route in ROUTES
        if route.template not in SKIPPED_ROUTES and route.is_covered and not route.is_function_view
        for method in route.methods
    ]


ATTACK_CASES = _attack_cases()
CONTROL_CASES = _control_cases()


# --- Requests and what they may change --------------------------------------------------------------


def _url(route: Route, org_slug: str, victim: Victim) -> str:
    values = {
        parameter: VICTIM_VALUES[route.table_key(parameter)](victim) for parameter in route.object_parameters
    }
    if ORG_SLUG in route.parameters:
        values[ORG_SLUG] = org_slug
    url = "/" + re.sub(r"<(\w+)>", lambda match: str(values[match.group(1)]), route.template)
    # The URL must reach the view under test, not a neighbouring pattern or nothing at all.
    assert resolve(url).func is route.callback, f"{url} does not resolve to the route /{route.template}"
    return url


def _send(client: Client, route: Route, method: str, url: str) -> HttpResponseBase:
    if method == "GET":
        return client.get(url)
    if method == "POST" and not route.is_api:
        return client.post(url, {})
    if route.is_api:
        return client.generic(method, url, data="{}", content_type="application/json")
    return client.generic(method, url, data="", content_type="application/x-www-form-urlencoded")


def _body(response: HttpResponseBase) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    else:
        content = response.content  # type: ignore[attr-defined]
    return content.decode(errors="replace")


def _victim_snapshot(victim: Victim) -> dict[str, object]:
    """Every tenant row of the victim, its organisation and its people, read as the victim."""
    organization = victim.organization
    with tenant_context(organization):
        snapshot: dict[str, object] = {
            model._meta.label: list(model._default_manager.order_by("pk").values())
            for model in tenant_models()
        }
        snapshot["users"] = list(
            User.objects.filter(memberships__organization=organization).order_by("pk").values()
        )
    snapshot["organization"] = list(Organization.objects.filter(pk=organization.pk).values())
    return snapshot


# Named through ``name=`` so that the other isolation files can import them as fixtures.
@pytest.fixture(name="victim")
def victim_fixture(db: None) -> Victim:
    return build_victim()


@pytest.fixture(name="attacker_world")
def attacker_world_fixture(db: None) -> OrgWorld:
    return make_organization("Attacker")


# --- The tests --------------------------------------------------------------------------------------


def assert_refused(case: Case, victim: Victim, attacker_world: OrgWorld) -> None:
    """The attack ``case`` gets a 404 that shows nothing of the victim's and changes none of it."""
    attacker = attacker_world.admin if case.attacker_role == Role.ADMIN else attacker_world.peer
    assert attacker.role == case.attacker_role
    org_slug = attacker_world.slug if case.variant == OWN_ORG else victim.organization.slug
    url = _url(case.route, org_slug, victim)
    before = _victim_snapshot(victim)

    response = _send(client_for(attacker), case.route, case.method, url)

    body = _body(response)
    assert SENTINEL.lower() not in body.lower(), f"{case.method} {url} shows the victim's data"
    # A function view can only say by answering which methods it takes: 405 means it turned this one away.
    turned_away = case.route.is_function_view and case.method != "GET" and response.status_code == 405
    assert turned_away or response.status_code == 404, f"{case.method} {url} answered {response.status_code}"
    assert _victim_snapshot(victim) == before, f"{case.method} {url} changed the victim's data"


# The attacks by an employee run in ``test_isolation_as_employee``, beside these (a file runs on one worker).
ADMIN_ATTACK_CASES = [case for case in ATTACK_CASES if case.attacker_role == Role.ADMIN]
EMPLOYEE_ATTACK_CASES = [case for case in ATTACK_CASES if case.attacker_role == Role.EMPLOYEE]


@pytest.mark.parametrize("case", ADMIN_ATTACK_CASES, ids=[case.id for case in ADMIN_ATTACK_CASES])
def test_other_organisation_gets_404(case: Case, victim: Victim, attacker_world: OrgWorld) -> None:
    assert_refused(case, victim, attacker_world)


@pytest.mark.parametrize("case", CONTROL_CASES, ids=[case.id for case in CONTROL_CASES])
def test_victim_reaches_route_with_the_table_values(case: Case, victim: Victim) -> None:
    """The control: the values in the table are real, so the 404s above are refusals, not typos."""
    url = _url(case.route, victim.organization.slug, victim)

    response = _send(client_for(victim.world.admin), case.route, case.method, url)

    assert response.status_code not in (404, 405), f"{case.method} {url} answered {response.status_code}"
    if case.method == "GET":
        assert response.status_code == 200, f"GET {url} answered {response.status_code}"
        if case.route.template not in SHOWS_NO_ORGANISATION_DATA:
            assert SENTINEL.lower() in _body(response).lower(), f"GET {url} shows none of the victim's data"


def test_every_route_is_covered_or_skipped() -> None:
    uncovered = {
        f"/{route.template}": route.missing_parameters or "no parameters: add it to SKIPPED_ROUTES"
        for route in ROUTES
        if route.template not in SKIPPED_ROUTES and not route.is_covered
    }
    assert not uncovered, (
        "Routes the isolation test cannot fill: add the parameters to VICTIM_VALUES, "
        f"or the route with a reason to SKIPPED_ROUTES: {uncovered}"
    )


def test_skipped_routes_exist() -> None:
    templates = {route.template for route in ROUTES}
    assert not set(SKIPPED_ROUTES) - templates, "SKIPPED_ROUTES names routes that no longer exist"
    routes = {route.template: route for route in ROUTES}
    stale = [key for key in SKIPPED_VARIANTS if key[0] not in routes or key[1] not in routes[key[0]].variants]
    assert not stale, f"SKIPPED_VARIANTS names routes or variants that no longer exist: {stale}"


def test_every_skip_gives_a_reason() -> None:
    reasons = [*SKIPPED_ROUTES.values(), *SKIPPED_VARIANTS.values()]
    assert all(reason.strip() for reason in reasons)


def test_walk_finds_the_organisation_pages_and_api() -> None:
    """A sanity check on the walk itself: it descends into include()s and DRF routers."""
    templates = {route.template for route in ROUTES}
    assert {"o/<org_slug>/people/<membership_id>/", "api/v1/o/<org_slug>/teams/<pk>/"} <= templates
    assert len(ATTACK_CASES) > len(ROUTES)
    assert len(ADMIN_ATTACK_CASES) + len(EMPLOYEE_ATTACK_CASES) == len(ATTACK_CASES)
