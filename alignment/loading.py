"""Building an organisation from a scenario, through the product's own services and ingestion pipeline.

``load_scenario`` turns a validated ``Scenario`` into a tenant a person can sign in to: people and their
accounts, teams, reporting lines, the cycle, objectives, key results and KPIs, vendor identities,
integrations and their mapping rules; then it applies every event in file order at the event's own time,
so that history reads as if the quarter had happened. Goal edits, check-ins, pulses, progress and KPI
readings go through the goal services; vendor payloads go through the same pipeline as webhooks (stored as
raw events with origin ``replay``, then normalised into work items, signals and key-result links).

Goals are taken as the file states them: the validation warnings a person would have to explain (too many
key results, a goal added mid-cycle without a parent, a KPI reading that crosses a threshold without a
comment) are recorded on the goal as given, never enforced. What the services refuse outright stops the
load with a ``ScenarioError`` naming the file, the JSON path of the item and the problem.

The whole load is one transaction: if anything fails, nothing of it remains (not even the deletion of the
organisation it was to replace). It runs under ``alignment.triggers.replaying()``: writing a quarter at once
asks for no drift scoring and sends no alerts.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction

from alignment import scenario as format_
from alignment.scenario import (
    AlignmentReview,
    Checkin,
    Event,
    HubspotObject,
    JiraWebhook,
    KeyResultAdd,
    KeyResultChange,
    KpiValue,
    KrUpdate,
    ObjectiveAdd,
    ObjectiveChange,
    Pulse,
    Scenario,
    ScenarioError,
    SlackEvent,
    cycle_starts_at,
)
from alignment.triggers import replaying
from goals import checkins
from goals import services as goal_services
from goals.checkin_weeks import checkin_week, week_monday
from goals.models import KPI, Cycle, KeyResult, Objective
from okrsignal import services as people_services
from okrsignal.models import Membership, Organization, Role, Team, User, normalize_email_address
from okrsignal.tenancy import TenantMismatch, tenant_context
from signals_ingest import services as ingest_services
from signals_ingest.models import Integration, RawEvent
from signals_ingest.normalisers import dedupe_key_for
from signals_ingest.pipeline import reapply_mapping_rules, store_and_process_raw_events

# Vendor payloads sent to the pipeline in one call at most; the pipeline writes a batch with a handful of
# queries whatever its size, so bigger batches load faster, within a bounded memory.
VENDOR_BATCH_SIZE = 1000
# A replayed quarter has no vendor behind it. Integrations still need credentials to be connected; these
# say what they are and open nothing.
REPLAY_CREDENTIALS = {"replay": "scenario file; no vendor account"}

VendorEvent = JiraWebhook | SlackEvent | HubspotObject
_PROVIDER_OF_KIND = {"jira_webhook": "jira", "slack_event": "slack", "hubspot_object": "hubspot"}


@dataclass
class LoadedScenario:
    """What a load built: the organisation, and the database id behind every key of the file.

    ``scenario`` is the scenario as loaded, after any shift in time, so its event times and cycle weeks
    are those of the data. Ids are read inside ``tenant_context(organization)``.
    """

    scenario: Scenario
    organization: Organization
    shift_weeks: int
    cycle_id: int
    people: dict[str, int] = field(default_factory=dict)  # person key -> membership id
    users: dict[str, int] = field(default_factory=dict)  # person key -> user id
    teams: dict[str, int] = field(default_factory=dict)
    objectives: dict[str, int] = field(default_factory=dict)
    key_results: dict[str, int] = field(default_factory=dict)
    kpis: dict[str, int] = field(default_factory=dict)
    integrations: dict[str, int] = field(default_factory=dict)  # source -> integration id
    created_emails: list[str] = field(default_factory=list)  # accounts made by this load, with its password
    reused_emails: list[str] = field(default_factory=list)  # accounts that existed; password unchanged
    replaced_organization: bool = False
    events_applied: Counter[str] = field(default_factory=Counter)
    raw_events_stored: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def organization_id(self) -> int:
        return self.organization.pk

    @property
    def slug(self) -> str:
        return self.organization.slug

    @property
    def path(self) -> str:
        return f"/o/{self.organization.slug}/"


def load_scenario(
    scenario: Scenario,
    *,
    password: str,
    slug: str | None = None,
    shift_weeks: int = 0,
    replace: bool = False,
) -> LoadedScenario:
    """Build a new organisation from ``scenario``; see the module docstring.

    ``slug`` overrides the file's organisation slug. ``shift_weeks`` moves every time of the scenario,
    vendor payloads included, by that many whole weeks. A slug in use is refused unless ``replace`` is
    set, which deletes that organisation (and everything in it) first. ``password`` is given to the
    accounts this load creates; people who already have an account keep theirs.
    """
    if shift_weeks:
        scenario = scenario_shifted(scenario, shift_weeks)
    # A quarter written in one go is no news to anyone: nothing is scored or alerted on its account (the
    # quarter is evaluated week by week by whoever loads it for that).
    with replaying(), transaction.atomic():
        return _Loader(scenario, slug=slug, shift_weeks=shift_weeks).load(password=password, replace=replace)


def scenario_shifted(scenario: Scenario, weeks: int) -> Scenario:
    """``scenario`` moved by ``weeks`` whole weeks: the cycle, every event's time and the vendors' own
    times inside the payloads (through ``alignment.scenario.shift_weeks``, which keeps each notation)."""
    if weeks == 0:
        return scenario
    delta = timedelta(weeks=weeks)
    vendor = [event for event in scenario.events if isinstance(event, VendorEvent)]
    moved = format_.shift_weeks({"events": [{"kind": e.kind, "payload": e.payload} for e in vendor]}, weeks)
    payloads = {
        event.index: shifted["payload"] for event, shifted in zip(vendor, moved["events"], strict=True)
    }
    events = tuple(
        dataclasses.replace(event, at=event.at + delta, payload=payloads[event.index])  # type: ignore[call-arg]
        if event.index in payloads
        else dataclasses.replace(event, at=event.at + delta)
        for event in scenario.events
    )
    cycle = dataclasses.replace(
        scenario.cycle, start=scenario.cycle.start + delta, end=scenario.cycle.end + delta
    )
    return dataclasses.replace(scenario, cycle=cycle, events=events)


def _problem_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(
                f"{name}: {' '.join(messages)}" if name != "__all__" else " ".join(messages)
                for name, messages in error.message_dict.items()
            )
        return " ".join(error.messages)
    return str(error)


def _parents_first(
    items: Sequence[Any], key: Callable[[Any], str], parent: Callable[[Any], str | None]
) -> list[Any]:
    """``items`` ordered so that each comes after its parent (when the parent is among them)."""
    by_key = {key(item): item for item in items}
    ordered: list[Any] = []
    placed: set[str] = set()

    def place(item: Any) -> None:
        if key(item) in placed:
            return
        placed.add(key(item))
        parent_key = parent(item)
        if parent_key in by_key:
            place(by_key[parent_key])
        ordered.append(item)

    for item in items:
        place(item)
    return ordered


class _Loader:
    def __init__(self, scenario: Scenario, *, slug: str | None, shift_weeks: int) -> None:
        self.scenario = scenario
        self.file = scenario.file
        self.slug = (slug or scenario.organization.slug).strip().lower()
        self.shift_weeks = shift_weeks
        # The moment the organisation is set up: the start of its cycle, before any event.
        self.setup_at = cycle_starts_at(scenario.cycle)
        self.memberships: dict[str, Membership] = {}
        self.cycle_row: Cycle  # set by ``cycle``, before any goal is made
        self.teams: dict[str, Team] = {}
        # Goals are kept by id and read afresh for each change: services save whole rows, and a copy held
        # here would undo what another service changed since (a child marked for re-alignment, a value).
        self.objective_ids: dict[str, int] = {}
        self.key_result_ids: dict[str, int] = {}
        self.kpis: dict[str, KPI] = {}
        self.integrations: dict[str, Integration] = {}
        # Mapping rules and KPI tags naming goals that an event adds later wait for that event.
        self.rules_waiting: dict[str, list[tuple[Integration, Mapping[str, str], str]]] = defaultdict(list)
        self.tags_waiting: dict[str, list[KPI]] = defaultdict(list)
        # Vendor payloads not yet sent to the pipeline, by provider, with the path of their event.
        self.vendor_pending: dict[str, list[tuple[str, Mapping[str, Any], str]]] = defaultdict(list)
        self.vendor_keys: dict[str, dict[str, Mapping[str, Any]]] = defaultdict(dict)
        self.rules_added_after_ingestion: set[int] = set()
        self.checkin_week_of: dict[int, date] = {}
        self.ingested_any = False

    # -- errors -----------------------------------------------------------------------------------

    @contextmanager
    def item(self, path: str) -> Iterator[None]:
        """Report what a service refuses as a problem of the file at ``path``."""
        try:
            yield
        except ScenarioError:
            raise
        except (ValidationError, TenantMismatch, ValueError) as error:
            raise ScenarioError(self.file, path, _problem_text(error)) from error

    # -- the whole load ---------------------------------------------------------------------------

    def load(self, *, password: str, replace: bool) -> LoadedScenario:
        replaced = self.clear_slug(replace=replace)
        users, created, reused = self.accounts(password)
        organization = self.organization(users)
        loaded = LoadedScenario(
            scenario=self.scenario,
            organization=organization,
            shift_weeks=self.shift_weeks,
            cycle_id=0,
            created_emails=created,
            reused_emails=reused,
            replaced_organization=replaced,
            users={key: user.pk for key, user in users.items()},
        )
        with tenant_context(organization):
            self.people(organization, users, loaded)
            cycle = self.cycle()
            self.goals(cycle)
            self.kpi_definitions()
            self.identities()
            self.connect_integrations()
            self.apply_events(loaded)
            self.flush_vendor_events()
            # Rules for goals added mid-quarter re-map the work stored before them, as an admin adding
            # a rule would; done here so that the load is complete before it commits.
            for integration_id in sorted(self.rules_added_after_ingestion):
                reapply_mapping_rules(integration_id=integration_id)
            loaded.cycle_id = cycle.pk
            loaded.people = {key: membership.pk for key, membership in self.memberships.items()}
            loaded.teams = {key: team.pk for key, team in self.teams.items()}
            loaded.objectives = dict(self.objective_ids)
            loaded.key_results = dict(self.key_result_ids)
            loaded.kpis = {key: kpi.pk for key, kpi in self.kpis.items()}
            loaded.integrations = {
                source: integration.pk for source, integration in self.integrations.items()
            }
            loaded.raw_events_stored = RawEvent.objects.count()
        return loaded

    def clear_slug(self, *, replace: bool) -> bool:
        existing = Organization.objects.filter(slug=self.slug).first()
        if existing is None:
            return False
        if not replace:
            raise ScenarioError(
                self.file,
                "$.organization.slug",
                f"an organisation at /o/{self.slug}/ exists already ({existing.name}); "
                "replace it to load this scenario there",
            )
        people_services.organization_delete(organization=existing)
        return True

    # -- people -----------------------------------------------------------------------------------

    def accounts(self, password: str) -> tuple[dict[str, User], list[str], list[str]]:
        """An account per person: the existing one for a known e-mail, else a new one with ``password``."""
        users: dict[str, User] = {}
        created: list[str] = []
        reused: list[str] = []
        for index, person in enumerate(self.scenario.people):
            email = normalize_email_address(person.email)
            user = User.objects.filter(email__iexact=email).first()
            if user is not None:
                reused.append(user.email)
            else:
                with self.item(f"$.people[{index}].email"):
                    user = people_services.user_create(email=email, full_name=person.name, password=None)
                created.append(user.email)
            users[person.key] = user
        if created:
            # One hash for every new account (they share the password): hashing is slow on purpose.
            User.objects.filter(email__in=created).update(password=make_password(password))
        return users, created, reused

    def organization(self, users: Mapping[str, User]) -> Organization:
        people = self.scenario.people
        if not people:
            raise ScenarioError(self.file, "$.people", "an organisation needs at least one person")
        first_admin = next((person for person in people if person.role == Role.ADMIN), people[0])
        details = self.scenario.organization
        with self.item("$.organization"):
            organization = people_services.organization_create(
                name=details.name,
                slug=self.slug,
                first_admin=users[first_admin.key],
                time_zone=details.time_zone,
            )
        # The organisation existed before the quarter it tells.
        Organization.objects.filter(pk=organization.pk).update(created_at=self.setup_at)
        organization.created_at = self.setup_at
        return organization

    def people(self, organization: Organization, users: Mapping[str, User], loaded: LoadedScenario) -> None:
        people = self.scenario.people
        for person in people:
            membership = Membership.objects.filter(user=users[person.key]).first()
            if membership is None:
                membership = Membership.objects.create(user=users[person.key], role=person.role)
            membership.organization = organization
            self.memberships[person.key] = membership
        Membership.objects.update(joined_at=self.setup_at)
        indexes = {team.key: index for index, team in enumerate(self.scenario.teams)}
        for team in _parents_first(self.scenario.teams, lambda t: t.key, lambda t: t.parent):
            with self.item(f"$.teams[{indexes[team.key]}]"):
                self.teams[team.key] = people_services.team_create(
                    name=team.name,
                    parent=self.teams[team.parent] if team.parent else None,
                    lead=self.memberships[team.lead] if team.lead else None,
                )
        has_admin = any(person.role == Role.ADMIN for person in people)
        for index, person in enumerate(people):
            role = person.role
            if not has_admin and index == 0:
                role = Role.ADMIN
                loaded.notes.append(
                    f"The file names no admin; {person.email} is the organisation's admin so that someone is."
                )
            with self.item(f"$.people[{index}]"):
                people_services.membership_update(
                    membership=self.memberships[person.key],
                    role=role,
                    team=self.teams[person.team] if person.team else None,
                    manager=self.memberships[person.manager] if person.manager else None,
                )

    def identities(self) -> None:
        for index, person in enumerate(self.scenario.people):
            for provider, external_id in sorted(person.identities.items()):
                with self.item(f"$.people[{index}].identities.{provider}"):
                    ingest_services.identity_link_account(
                        provider=provider,
                        external_id=external_id,
                        membership=self.memberships[person.key],
                        display_name=person.name,
                    )

    # -- goals ------------------------------------------------------------------------------------

    def cycle(self) -> Cycle:
        cycle = self.scenario.cycle
        with self.item("$.cycle"):
            self.cycle_row = goal_services.cycle_create(name=cycle.name, start=cycle.start, end=cycle.end)
        return self.cycle_row

    def goals(self, cycle: Cycle) -> None:
        objectives = self.scenario.objectives
        indexes = {objective.key: index for index, objective in enumerate(objectives)}
        for objective in _parents_first(objectives, lambda o: o.key, lambda o: o.parent):
            self.create_objective(
                objective, cycle=cycle, at=self.setup_at, path=f"$.objectives[{indexes[objective.key]}]"
            )
        key_results = [
            (kr, f"$.objectives[{indexes[objective.key]}].key_results[{position}]")
            for objective in objectives
            for position, kr in enumerate(objective.key_results)
        ]
        for kr, path in _parents_first(
            key_results, lambda item: item[0].key, lambda item: item[0].parent_key_result
        ):
            self.create_key_result(kr, at=self.setup_at, path=path)

    def create_objective(
        self, objective: format_.Objective, *, cycle: Cycle, at: datetime, path: str
    ) -> None:
        owner = self.memberships[objective.owner]
        with self.item(path):
            created = goal_services.objective_create(
                by=owner,
                cycle=cycle,
                title=objective.title,
                description=objective.description,
                level=objective.level,
                owner=owner,
                team=self.teams[objective.team] if objective.team else None,
                parent=self.objective(objective.parent) if objective.parent else None,
                type=objective.type,
                as_given=True,
                at=at,
            )
        self.objective_ids[objective.key] = created.pk
        waiting = self.tags_waiting.pop(objective.key, [])
        for kpi in waiting:
            with self.item(path):
                goal_services.kpi_tag_objectives(kpi=kpi, objectives=[created], by=kpi.owner, at=at)

    def create_key_result(
        self, kr: format_.KeyResult, *, at: datetime, path: str, by: Membership | None = None
    ) -> None:
        objective = self.objective(kr.objective)
        with self.item(path):
            created = goal_services.key_result_create(
                by=by or objective.owner,
                objective=objective,
                title=kr.title,
                unit=kr.unit,
                baseline=kr.baseline,
                target=kr.target,
                direction=kr.direction,
                owner=self.memberships[kr.owner] if kr.owner else None,
                contributors=[self.memberships[person] for person in kr.contributors],
                parent_key_result=self.key_result(kr.parent_key_result) if kr.parent_key_result else None,
                as_given=True,
                at=at,
            )
        self.key_result_ids[kr.key] = created.pk
        for integration, match, rule_path in self.rules_waiting.pop(kr.key, []):
            self.create_rule(integration, match, created, rule_path)

    def objective(self, key: str) -> Objective:
        return Objective.objects.select_related("cycle", "owner").get(pk=self.objective_ids[key])

    def key_result(self, key: str) -> KeyResult:
        return KeyResult.objects.select_related("objective__cycle").get(pk=self.key_result_ids[key])

    def kpi_definitions(self) -> None:
        for index, kpi in enumerate(self.scenario.kpis):
            existing = [key for key in kpi.objectives if key in self.objective_ids]
            with self.item(f"$.kpis[{index}]"):
                created = goal_services.kpi_create(
                    by=self.memberships[kpi.owner],
                    name=kpi.name,
                    unit=kpi.unit,
                    direction=kpi.direction,
                    green=kpi.green,
                    red=kpi.red,
                    owner=self.memberships[kpi.owner],
                    team=self.teams[kpi.team] if kpi.team else None,
                    objectives=[self.objective(key) for key in existing],
                    at=self.setup_at,
                )
            self.kpis[kpi.key] = created
            for key in kpi.objectives:
                if key not in self.objective_ids:
                    self.tags_waiting[key].append(created)

    # -- integrations -----------------------------------------------------------------------------

    def connect_integrations(self) -> None:
        declared = {
            integration.source: (index, integration)
            for index, integration in enumerate(self.scenario.integrations)
        }
        used = {
            _PROVIDER_OF_KIND[event.kind] for event in self.scenario.events if event.kind in _PROVIDER_OF_KIND
        }
        for source in format_.SOURCES:
            if source not in declared and source not in used:
                continue
            index, integration = declared.get(source, (None, None))
            path = f"$.integrations[{index}]" if index is not None else "$.integrations"
            settings = dict(integration.settings) if integration else {}
            if source == "slack":
                settings["channels"] = self.slack_channels(settings.get("channels"))
            with self.item(path):
                self.integrations[source] = ingest_services.integration_connect(
                    provider=source, credentials=REPLAY_CREDENTIALS, settings=settings
                )
            for position, rule in enumerate(integration.mappings if integration else ()):
                rule_path = f"{path}.mappings[{position}]"
                if rule.key_result in self.key_result_ids:
                    self.create_rule(
                        self.integrations[source], rule.match, self.key_result(rule.key_result), rule_path
                    )
                else:
                    self.rules_waiting[rule.key_result].append(
                        (self.integrations[source], rule.match, rule_path)
                    )

    def slack_channels(self, given: Any) -> list[dict[str, Any]]:
        """Every channel the file's Slack events and rules name (only listed channels are read).

        Direct messages are never read, so they are not listed: such events are dropped as live ones are.
        """
        channels: dict[str, dict[str, Any]] = {}
        for channel in given if isinstance(given, list) else []:
            if isinstance(channel, Mapping) and isinstance(channel.get("id"), str):
                channels[channel["id"]] = dict(channel)
        wanted: dict[str, bool] = {}
        for integration in self.scenario.integrations:
            if integration.source == "slack":
                for rule in integration.mappings:
                    if "channel" in rule.match:
                        wanted.setdefault(rule.match["channel"], False)
        for event in self.scenario.events:
            if isinstance(event, SlackEvent):
                private = event.payload["event"].get("channel_type") == "group"
                wanted[event.channel] = wanted.get(event.channel, False) or private
        for channel_id, private in wanted.items():
            if channel_id.startswith("D"):
                continue
            if channel_id in channels:
                # A listed channel that says nothing of its kind is private if its messages say so.
                channels[channel_id].setdefault("is_private", private)
            else:
                channels[channel_id] = {"id": channel_id, "name": channel_id, "is_private": private}
        return list(channels.values())

    def create_rule(
        self, integration: Integration, match: Mapping[str, str], key_result: KeyResult, path: str
    ) -> None:
        with self.item(path):
            ingest_services.mapping_rule_create(integration=integration, match=match, key_result=key_result)
        if self.ingested_any:
            self.rules_added_after_ingestion.add(integration.pk)

    # -- events -----------------------------------------------------------------------------------

    def apply_events(self, loaded: LoadedScenario) -> None:
        appliers: dict[type[Event], Callable[[Any, str], None]] = {
            ObjectiveChange: self.objective_change,
            KeyResultChange: self.key_result_change,
            KeyResultAdd: self.key_result_add,
            ObjectiveAdd: self.objective_add,
            AlignmentReview: self.alignment_review,
            KrUpdate: self.kr_update,
            KpiValue: self.kpi_value,
            Checkin: self.checkin,
            Pulse: self.pulse,
        }
        self.checkin_week_of = self.checkin_weeks()
        for event in self.scenario.events:
            path = f"$.events[{event.index}]"
            if isinstance(event, VendorEvent):
                self.queue_vendor_event(event, path)
            else:
                if isinstance(event, KeyResultAdd | ObjectiveAdd):
                    # New goals bring mapping rules: the work before them is ingested under the rules before.
                    self.flush_vendor_events()
                appliers[type(event)](event, path)
            loaded.events_applied[event.kind] += 1

    def objective_change(self, event: ObjectiveChange, path: str) -> None:
        changes: dict[str, Any] = {}
        for name, value in event.changes.items():
            if name == "parent":
                changes[name] = self.objective(value) if value else None
            elif name == "owner":
                changes[name] = self.memberships[value]
            else:
                changes[name] = value
        with self.item(path):
            goal_services.objective_update(
                objective=self.objective(event.objective),
                by=self.memberships[event.by],
                changes=changes,
                as_given=True,
                at=event.at,
            )

    def key_result_change(self, event: KeyResultChange, path: str) -> None:
        changes: dict[str, Any] = {}
        contributors: list[Membership] | None = None
        for name, value in event.changes.items():
            if name == "contributors":
                contributors = [self.memberships[person] for person in value]
            elif name == "owner":
                changes[name] = self.memberships[value] if value else None
            elif name == "parent_key_result":
                changes[name] = self.key_result(value) if value else None
            else:
                changes[name] = value
        with self.item(path):
            goal_services.key_result_update(
                key_result=self.key_result(event.key_result),
                by=self.memberships[event.by],
                changes=changes,
                contributors=contributors,
                as_given=True,
                at=event.at,
            )

    def key_result_add(self, event: KeyResultAdd, path: str) -> None:
        self.create_key_result(
            event.key_result, at=event.at, path=f"{path}.key_result", by=self.memberships[event.by]
        )

    def objective_add(self, event: ObjectiveAdd, path: str) -> None:
        objective = event.objective
        self.create_objective(objective, cycle=self.cycle_row, at=event.at, path=f"{path}.objective")
        positions = {kr.key: position for position, kr in enumerate(objective.key_results)}
        for kr in _parents_first(objective.key_results, lambda k: k.key, lambda k: k.parent_key_result):
            self.create_key_result(
                kr,
                at=event.at,
                path=f"{path}.objective.key_results[{positions[kr.key]}]",
                by=self.memberships[event.by],
            )

    def alignment_review(self, event: AlignmentReview, path: str) -> None:
        with self.item(path):
            goal_services.objective_confirm_alignment(
                objective=self.objective(event.objective), by=self.memberships[event.by], at=event.at
            )

    def kr_update(self, event: KrUpdate, path: str) -> None:
        with self.item(path):
            goal_services.key_result_record_progress(
                key_result=self.key_result(event.key_result),
                by=self.memberships[event.by],
                value=event.value,
                confidence=event.confidence,
                note=event.note or "",
                at=event.at,
            )

    def kpi_value(self, event: KpiValue, path: str) -> None:
        kpi = self.kpis[event.kpi]
        with self.item(path):
            goal_services.kpi_record_reading(
                kpi=kpi,
                by=kpi.owner,
                value=event.value,
                note=event.note or "",
                objective=self.objective(event.objective) if event.objective else None,
                # A reading that crosses a threshold asks for a comment and an objective; what the file
                # does not give is recorded as given, as an import does.
                as_given=not (event.note and event.objective),
                at=event.at,
            )

    def checkin_weeks(self) -> dict[int, date]:
        """The week each check-in is for, by event index: the organisation week its ``at`` falls in,
        unless that would make it change a later check-in of the same person.

        A week has one check-in per person; submitting again changes it. So when someone checks in twice
        in one week, the earlier one is the previous week's check-in handed in late (as people do on a
        Monday morning), provided that week is free and a week of the cycle; otherwise it is the same
        week's, changed by the later one. Each person's check-ins are placed latest first, so that a
        run of late ones each moves back a week.
        """
        time_zone = self.scenario.organization.time_zone
        first_week = week_monday(self.scenario.cycle.start)
        by_person: dict[str, list[Checkin]] = defaultdict(list)
        for event in self.scenario.events:
            if isinstance(event, Checkin):
                by_person[event.person].append(event)
        weeks: dict[int, date] = {}
        for events in by_person.values():
            taken: set[date] = set()
            for event in reversed(events):
                week = checkin_week(event.at, time_zone)
                previous = week - timedelta(days=7)
                if week in taken and previous >= first_week and previous not in taken:
                    week = previous
                taken.add(week)
                weeks[event.index] = week
        return weeks

    def checkin(self, event: Checkin, path: str) -> None:
        author = self.memberships[event.person]
        named = {p.key_result for p in event.priorities if p.key_result} | {
            u.key_result for u in event.updates
        }
        key_results = KeyResult.objects.select_related("objective__cycle").in_bulk(
            [self.key_result_ids[key] for key in named]
        )

        def kr(key: str) -> KeyResult:
            return key_results[self.key_result_ids[key]]

        with self.item(path):
            checkins.check_in_submit(
                author=author,
                week=self.checkin_week_of[event.index],
                priorities=[
                    checkins.PriorityEntry(
                        text=priority.text,
                        key_result=kr(priority.key_result) if priority.key_result else None,
                        unlinked=priority.key_result is None,
                    )
                    for priority in event.priorities
                ],
                key_result_updates=[
                    checkins.KeyResultUpdateEntry(
                        key_result=kr(update.key_result),
                        status=update.status,
                        value=update.value,
                        note=update.note or "",
                    )
                    for update in event.updates
                ],
                blockers=event.blockers,
                upward_feedback=event.upward_feedback,
                next_week_success=event.next_week,
                at=event.at,
            )

    def pulse(self, event: Pulse, path: str) -> None:
        with self.item(path):
            checkins.pulse_answer_record(
                membership=self.memberships[event.person], score=event.score, at=event.at
            )

    # -- vendor payloads --------------------------------------------------------------------------

    def queue_vendor_event(self, event: VendorEvent, path: str) -> None:
        provider = _PROVIDER_OF_KIND[event.kind]
        payload: Mapping[str, Any] = (
            {"object_type": event.object_type, "object": event.payload}
            if isinstance(event, HubspotObject)
            else event.payload
        )
        key = dedupe_key_for(provider, payload)
        earlier = self.vendor_keys[provider].get(key)
        if earlier is not None and earlier != payload:
            # Two different payloads the key cannot tell apart: both are kept, as two webhook deliveries
            # with their own delivery ids would be.
            key = f"{path}:{key}"[:255]
        self.vendor_keys[provider].setdefault(key, payload)
        self.vendor_pending[provider].append((key, payload, path))
        if sum(len(items) for items in self.vendor_pending.values()) >= VENDOR_BATCH_SIZE:
            self.flush_vendor_events()

    def flush_vendor_events(self) -> None:
        """Send the waiting payloads to the pipeline, one call per provider.

        Payloads of one provider keep their order; those of different providers touch different work
        items, signals and rules, and nothing else in the load reads what ingestion writes, so sending
        them per provider changes nothing but the time it takes.
        """
        for provider, items in self.vendor_pending.items():
            if not items:
                continue
            result = store_and_process_raw_events(
                integration=self.integrations[provider],
                origin=RawEvent.Origin.REPLAY,
                items=[(key, payload) for key, payload, _path in items],
            )
            self.ingested_any = True
            if result.failed:
                errors = {
                    dedupe_key: result.failed[pk]
                    for pk, dedupe_key in RawEvent.objects.filter(pk__in=result.failed).values_list(
                        "pk", "dedupe_key"
                    )
                }
                key, path = next((key, path) for key, _payload, path in items if key in errors)
                raise ScenarioError(
                    self.file, path, f"the {provider} payload could not be processed: {errors[key]}"
                )
        self.vendor_pending.clear()
