"""``manage.py load_scenario``: a scenario file becomes an organisation, built through the real services and
the real ingestion pipeline, in one transaction."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.utils import timezone

from alignment import scenarios
from alignment.loading import LoadedScenario, load_scenario
from alignment.scenario import (
    AlignmentReview,
    Checkin,
    KpiValue,
    KrUpdate,
    Pulse,
    Scenario,
    cycle_starts_at,
    read_scenario,
    week_of,
)
from goals.models import (
    KPI,
    CheckIn,
    CheckInState,
    Cycle,
    KeyResult,
    KeyResultContributor,
    KPIReading,
    Objective,
    PulseAnswer,
)
from okrsignal.models import Membership, Organization, User
from okrsignal.tenancy import cross_organization, tenant_context, tenant_models
from signals_ingest.models import ExecutionSignal, ExternalIdentity, MappingRule, RawEvent, SignalKeyResult
from tests.factories import make_organization

DEMO = Path(scenarios.__file__).resolve().parent / "demo-quarter.json"
PASSWORD = "quarter-replayed-2026"
VENDOR_KINDS = ("jira_webhook", "slack_event", "hubspot_object")
LOGIN = "/accounts/login/"
MARKETING_CHANNEL = "C0PL80O3WL5"  # the demo's Slack channel mapped to KR-MKT-1


def run(*args: str) -> str:
    out = StringIO()
    call_command("load_scenario", *args, stdout=out)
    return out.getvalue()


def vendor_event_count(scenario: Scenario) -> int:
    return sum(1 for event in scenario.events if event.kind in VENDOR_KINDS)


def signs_in(email: str, password: str) -> bool:
    response = Client().post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR="203.0.113.40")
    return response.status_code == 302 and not response.url.startswith(LOGIN)


@pytest.fixture
def three_weeks(tmp_path: Path) -> Path:
    """The demo quarter's first three weeks, with a goal edited, a key result added (with a Slack rule that
    names it from the start) and an alignment review at the end, so every kind of event is in it."""
    document = json.loads(DEMO.read_text(encoding="utf-8"))
    document["events"] = [event for event in document["events"] if event["at"] < "2026-10-26"]
    document["events"] += [
        {
            "at": "2026-10-25T20:00:00Z",
            "kind": "objective_change",
            "objective": "O-ONB",
            "by": "ceo",
            "changes": {"title": "Make onboarding effortless for every customer"},
        },
        {
            "at": "2026-10-25T20:10:00Z",
            "kind": "key_result_change",
            "key_result": "KR-ACT-1",
            "by": "eng_lead",
            "changes": {"target": 60, "contributors": ["eng1"]},
        },
        {"at": "2026-10-25T20:20:00Z", "kind": "alignment_review", "objective": "O-SETUP", "by": "eng_lead"},
        {
            "at": "2026-10-25T20:30:00Z",
            "kind": "key_result_add",
            "objective": "O-MKT",
            "by": "mkt_lead",
            "key_result": {
                "key": "KR-MKT-2",
                "title": "Webinar sign-ups from 0 to 400",
                "owner": "mkt_lead",
                "unit": "sign-ups",
                "baseline": 0,
                "target": 400,
                "direction": "increase",
            },
        },
    ]
    slack = next(item for item in document["integrations"] if item["source"] == "slack")
    slack["mappings"].append({"match": {"channel": MARKETING_CHANNEL}, "key_result": "KR-MKT-2"})
    document["expect"] = {}
    path = tmp_path / "three-weeks.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def load(path: Path, slug: str) -> LoadedScenario:
    return load_scenario(read_scenario(path), password=PASSWORD, slug=slug)


# --- A whole quarter ---------------------------------------------------------------------------------


def test_the_demo_quarter_loads_whole_with_its_history_at_the_events_times(db: None) -> None:
    scenario = read_scenario(DEMO)

    output = run(str(DEMO), "--password", PASSWORD)

    organization = Organization.objects.get(slug="northwind")
    assert organization.name == "Northwind Analytics"
    assert organization.time_zone == "Europe/Berlin"
    assert "/o/northwind/" in output
    assert PASSWORD in output
    assert scenario.people[0].email in output
    events = scenario.events
    with tenant_context(organization):
        assert Membership.objects.count() == len(scenario.people)
        assert {m.user.email for m in Membership.objects.select_related("user")} == {
            p.email for p in scenario.people
        }
        assert list(Cycle.objects.values_list("name", "start", "end")) == [
            (scenario.cycle.name, scenario.cycle.start, scenario.cycle.end)
        ]
        assert Objective.objects.count() == len(scenario.all_objectives())
        assert KeyResult.objects.count() == len(scenario.all_key_results())
        assert KPI.objects.count() == len(scenario.kpis)
        identities = sum(len(person.identities) for person in scenario.people)
        assert (
            ExternalIdentity.objects.filter(matched_by=ExternalIdentity.MatchedBy.MANUAL).count()
            == identities
        )

        # Every check-in and pulse is kept, each submitted at its own time.
        check_ins = [event for event in events if isinstance(event, Checkin)]
        assert CheckIn.objects.count() == len(check_ins)
        assert not CheckIn.objects.exclude(state=CheckInState.SUBMITTED).exists()
        assert set(CheckIn.objects.values_list("submitted_at", flat=True)) == {e.at for e in check_ins}
        assert PulseAnswer.objects.count() == sum(1 for event in events if isinstance(event, Pulse))

        # Vendor payloads went through the pipeline: one raw event each, all processed into signals.
        assert RawEvent.objects.count() == vendor_event_count(scenario)
        assert set(RawEvent.objects.values_list("origin", flat=True)) == {RawEvent.Origin.REPLAY}
        assert not RawEvent.objects.filter(processed_at__isnull=True).exists()
        assert not RawEvent.objects.exclude(error="").exists()
        assert ExecutionSignal.objects.count() > 0
        assert SignalKeyResult.objects.filter(actor_membership__isnull=False).count() > 0
        cycle_begins = cycle_starts_at(scenario.cycle)
        cycle_ends = cycle_begins + timedelta(days=(scenario.cycle.end - scenario.cycle.start).days + 1)
        assert all(
            cycle_begins <= at < cycle_ends
            for at in ExecutionSignal.objects.values_list("occurred_at", flat=True)
        )

        # History carries the time each thing happened, not the time of the load.
        key_result_ids = dict(KeyResult.objects.values_list("title", "id"))
        titles = {kr.key: kr.title for kr in scenario.all_key_results()}
        progress = set(KeyResult.history.values_list("id", "history_date"))
        updates = [event for event in events if isinstance(event, KrUpdate)]
        assert {(key_result_ids[titles[e.key_result]], e.at) for e in updates} <= progress
        reviews = [event for event in events if isinstance(event, AlignmentReview)]
        confirmed = set(
            Objective.history.filter(history_change_reason="Alignment confirmed").values_list(
                "history_date", flat=True
            )
        )
        assert {event.at for event in reviews} == confirmed
        readings = [event for event in events if isinstance(event, KpiValue)]
        assert sorted(KPIReading.objects.values_list("recorded_at", flat=True)) == [e.at for e in readings]
        added = Objective.objects.get(title="Pass the ISO 27001 surveillance audit")
        assert added.created_at == next(e.at for e in events if e.kind == "objective_add")
        assert [w["code"] for w in added.warnings] == ["added_mid_cycle_without_parent"]

    for person in scenario.people:
        assert signs_in(person.email, PASSWORD), person.email


# --- Mid-quarter changes -----------------------------------------------------------------------------


def test_goal_edits_additions_and_reviews_are_applied_in_order(three_weeks: Path, db: None) -> None:
    loaded = load(three_weeks, "edits")

    with tenant_context(loaded.organization):
        company = Objective.objects.get(pk=loaded.objectives["O-ONB"])
        assert company.title == "Make onboarding effortless for every customer"
        children = dict(Objective.objects.filter(parent=company).values_list("id", "needs_realignment"))
        # The rewrite asks every child to re-confirm; only the activation team did.
        assert children.pop(loaded.objectives["O-SETUP"]) is False
        assert children
        assert all(children.values())

        activation = KeyResult.objects.get(pk=loaded.key_results["KR-ACT-1"])
        assert activation.target == 60
        assert list(
            KeyResultContributor.objects.filter(key_result=activation).values_list("membership_id", flat=True)
        ) == [loaded.people["eng1"]]
        edited_at = datetime(2026, 10, 25, 20, 10, tzinfo=UTC)
        assert activation.history.filter(history_date=edited_at, target=60).exists()

        # The rule naming the added key result waited for it, then took in the channel's earlier work.
        webinar = KeyResult.objects.get(pk=loaded.key_results["KR-MKT-2"])
        assert webinar.created_at == datetime(2026, 10, 25, 20, 30, tzinfo=UTC)
        assert MappingRule.objects.filter(key_result=webinar, match={"channel": MARKETING_CHANNEL}).exists()
        channel_messages = set(
            ExecutionSignal.objects.filter(
                provider="slack", work_item__attributes__channel=MARKETING_CHANNEL
            ).values_list("id", flat=True)
        )
        assert channel_messages
        linked = set(SignalKeyResult.objects.filter(key_result=webinar).values_list("signal_id", flat=True))
        assert linked == channel_messages


def test_a_file_without_an_admin_makes_its_first_person_the_admin(three_weeks: Path, db: None) -> None:
    document = json.loads(three_weeks.read_text(encoding="utf-8"))
    for person in document["people"]:
        person["role"] = "employee" if person["role"] == "admin" else person["role"]
    document["events"] = document["events"][:40]
    for integration in document["integrations"]:
        integration["mappings"] = [m for m in integration["mappings"] if m["key_result"] != "KR-MKT-2"]
    no_admin = three_weeks.with_name("no-admin.json")
    no_admin.write_text(json.dumps(document), encoding="utf-8")

    output = run(str(no_admin), "--password", PASSWORD)

    first = document["people"][0]
    assert f"The file names no admin; {first['email']} is the organisation's admin" in output
    with tenant_context(Organization.objects.get(slug="northwind")):
        admins = Membership.objects.filter(role="admin").values_list("user__email", flat=True)
        assert list(admins) == [first["email"]]


# --- Addresses: taken, replaced, shared ---------------------------------------------------------------


def test_an_address_in_use_is_refused_and_left_as_it_was(three_weeks: Path, db: None) -> None:
    first = load(three_weeks, "taken")

    with pytest.raises(CommandError, match=r"\$\.organization\.slug: an organisation at /o/taken/ exists"):
        run(str(three_weeks), "--slug", "taken", "--password", "other-password-1")

    assert list(Organization.objects.filter(slug="taken").values_list("pk", flat=True)) == [
        first.organization_id
    ]
    with tenant_context(first.organization):
        assert Objective.objects.count() == len(first.objectives)


def test_replace_deletes_the_old_organisation_and_everything_in_it(three_weeks: Path, db: None) -> None:
    scenario = read_scenario(three_weeks)
    old = load(three_weeks, "again")
    # One of its people also works elsewhere: that account must survive the old organisation.
    elsewhere = make_organization("Elsewhere")
    staying = User.objects.get(pk=old.users["cro"])
    with tenant_context(elsewhere.organization):
        Membership.objects.create(user=staying, role="employee")

    output = run(str(three_weeks), "--slug", "again", "--replace", "--password", "a-new-password-9")

    new = Organization.objects.get(slug="again")
    assert new.pk != old.organization_id
    assert "was deleted first" in output
    assert not Organization.objects.filter(pk=old.organization_id).exists()
    with cross_organization():
        for model in tenant_models():
            assert not model._base_manager.filter(organization_id=old.organization_id).exists(), model
    # People who belonged nowhere else went with it and were made anew; the one who did kept their account.
    assert User.objects.filter(pk=staying.pk).exists()
    assert not User.objects.filter(pk__in=[pk for key, pk in old.users.items() if key != "cro"]).exists()
    assert staying.email in output.split("already had an account")[1]
    assert signs_in(scenario.people[0].email, "a-new-password-9")
    with tenant_context(new):
        assert Membership.objects.count() == len(scenario.people)
        assert RawEvent.objects.count() == vendor_event_count(scenario)
    with tenant_context(elsewhere.organization):
        assert Membership.objects.filter(user=staying).exists()


def test_the_same_file_under_two_addresses_gives_two_separate_organisations(
    three_weeks: Path, db: None
) -> None:
    scenario = read_scenario(three_weeks)

    first = load(three_weeks, "twin-a")
    second = load(three_weeks, "twin-b")

    # Accounts are global: the second load finds them and leaves their passwords alone.
    assert second.created_emails == []
    assert sorted(second.reused_emails) == sorted(p.email for p in scenario.people)
    assert set(first.objectives.values()).isdisjoint(second.objectives.values())
    assert set(first.key_results.values()).isdisjoint(second.key_results.values())
    for loaded, other in ((first, second), (second, first)):
        with tenant_context(loaded.organization):
            assert Membership.objects.filter(pk__in=loaded.people.values()).count() == len(scenario.people)
            assert not Objective.objects.filter(pk__in=other.objectives.values()).exists()
            assert RawEvent.objects.count() == vendor_event_count(scenario)
            assert CheckIn.objects.count() == sum(1 for e in scenario.events if isinstance(e, Checkin))
            with connection.cursor() as cursor:  # row-level security, below the application
                cursor.execute("SELECT count(*) FROM goals_keyresult")
                assert cursor.fetchone() == (len(loaded.key_results),)


# --- Bad files -----------------------------------------------------------------------------------------


def test_an_invalid_file_names_the_file_and_path_and_leaves_nothing(three_weeks: Path, db: None) -> None:
    document = json.loads(three_weeks.read_text(encoding="utf-8"))
    index = next(i for i, event in enumerate(document["events"]) if event["kind"] == "kr_update")
    document["events"][index]["key_result"] = "KR-NOPE"
    broken = three_weeks.with_name("broken.json")
    broken.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        run(str(broken), "--password", PASSWORD)

    assert str(refused.value) == (
        f'{broken}: $.events[{index}].key_result: refers to unknown key result "KR-NOPE"'
    )
    assert not Organization.objects.exists()
    assert not User.objects.exists()


def test_a_file_the_services_refuse_late_leaves_nothing_behind(three_weeks: Path, db: None) -> None:
    """Valid as a file, refused by the goal services at its last progress update: the whole load goes,
    and an organisation it was to replace stays as it was."""
    kept = load(three_weeks, "northwind")
    document = json.loads(three_weeks.read_text(encoding="utf-8"))
    index = max(i for i, event in enumerate(document["events"]) if event["kind"] == "kr_update")
    document["events"][index]["value"] = 1e13
    refused_late = three_weeks.with_name("refused-late.json")
    refused_late.write_text(json.dumps(document), encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        run(str(refused_late), "--replace", "--password", "another-password-2")

    assert str(refused.value).startswith(f"{refused_late}: $.events[{index}]: value: 1e+13 is not a figure")
    # The people of the organisation it was to replace still have their accounts, and their password.
    assert set(User.objects.values_list("pk", flat=True)) == set(kept.users.values())
    assert signs_in(kept.created_emails[0], PASSWORD)

    assert list(Organization.objects.values_list("pk", flat=True)) == [kept.organization_id]
    with cross_organization():
        assert RawEvent.objects.count() == vendor_event_count(read_scenario(three_weeks))
        assert set(RawEvent.objects.values_list("organization_id", flat=True)) == {kept.organization_id}
    with tenant_context(kept.organization):
        assert Objective.objects.count() == len(kept.objectives)


# --- Moving a quarter to now ---------------------------------------------------------------------------


def test_relative_moves_everything_by_whole_weeks_so_the_last_event_is_this_week(
    three_weeks: Path, db: None
) -> None:
    scenario = read_scenario(three_weeks)

    output = run(str(three_weeks), "--relative", "--slug", "live")

    organization = Organization.objects.get(slug="live")
    with tenant_context(organization):
        cycle = Cycle.objects.get()
        shift = cycle.start - scenario.cycle.start
        assert shift.days % 7 == 0
        assert cycle.end - scenario.cycle.end == shift
        moved = dataclasses.replace(scenario.cycle, start=cycle.start, end=cycle.end)
        last = scenario.events[-1].at + shift
        assert week_of(moved, last) == week_of(moved, timezone.now())
        # Vendor times inside the payloads moved with the events.
        last_vendor = max(e.at for e in scenario.events if e.kind in VENDOR_KINDS) + shift
        assert abs(ExecutionSignal.objects.latest("occurred_at").occurred_at - last_vendor) < timedelta(
            seconds=1
        )
        check_ins = [e.at + shift for e in scenario.events if isinstance(e, Checkin)]
        assert CheckIn.objects.latest("submitted_at").submitted_at == max(check_ins)
    assert f"Moved {shift.days // 7} weeks" in output
    # No password given: a generated one is printed, and it works.
    generated = re.search(r"password \(generated\): (\S+)", output)
    assert generated is not None
    assert signs_in(scenario.people[0].email, generated.group(1))
