"""The evidence behind findings, turned into things a manager can click: the Jira issue, the Slack thread, the
HubSpot record, the check-in, the goal's history, the KPI reading.

A finding keeps the engine's evidence references (``alignment.engine.outputs.EvidenceKind``): which
person's activity on which key result or unlinked theme in which week, and the ids of the check-in status
rows, history rows, readings and blocked work items behind it. ``finding_evidence`` resolves the references
of any number of findings in a fixed number of queries.

What a viewer may see of people's work follows the reporting line, as everywhere else: admins see
everyone's, others their own and that of the people who report to them. Work by anyone else is counted
(it is in the finding) but not listed; the page says how many people that leaves out. Check-ins link only
for those who may read them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef
from django.db.models.fields.json import KT
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property

from alignment.cycles import cycle_of
from alignment.engine.outputs import EvidenceKind
from alignment.models import Finding
from alignment.themes import ThemeNamer
from goals.charts import number
from goals.guardrails import kpi_status
from goals.models import CheckInKeyResultUpdate, Cycle, KeyResult, KPIReading, Objective
from okrsignal.models import Membership
from okrsignal.permissions import report_ids, visible_membership_ids
from signals_ingest.models import ExecutionSignal, Integration, Provider, SignalKeyResult, WorkItem

# Entries listed per group at most (the most telling first); the rest are counted.
ENTRIES_SHOWN = 6
# HubSpot's object type ids for the record page of an engagement without a deal.
HUBSPOT_ENGAGEMENT_TYPES = {
    "note": "0-46",
    "call": "0-48",
    "meeting": "0-47",
    "email": "0-49",
    "task": "0-27",
}
SOURCE_NAMES = {Provider.JIRA: "Jira", Provider.SLACK: "Slack", Provider.HUBSPOT: "HubSpot"}

ON_GOAL = "on_goal"
ELSEWHERE = "elsewhere"
CHECK_INS = "check_ins"
PROGRESS = "progress"
GOAL_CHANGES = "goal_changes"
KPI_READINGS = "kpi_readings"
BLOCKED = "blocked"
GROUP_TITLES = {
    ON_GOAL: "Work on this goal",
    ELSEWHERE: "Where the effort went instead",
    BLOCKED: "Blocked work",
    CHECK_INS: "Check-ins",
    PROGRESS: "Progress records",
    GOAL_CHANGES: "Goal changes",
    KPI_READINGS: "KPI readings",
}
GROUP_ORDER = list(GROUP_TITLES)


HISTORY_KINDS = (EvidenceKind.VALUE_UPDATE, EvidenceKind.GOAL_CHANGE, EvidenceKind.ALIGNMENT_REVIEW)
HISTORY_FIELDS = (
    "history_id",
    "history_date",
    "history_change_reason",
    "history_user__full_name",
    "id",
    "title",
)


def names_key_result_history(ref: Mapping[str, Any], finding: Finding) -> bool:
    """Whether a history reference is a key result's history row (else an objective's): values are
    always a key result's; an edit says whose by the goal it names, or else it is the finding's goal's."""
    if ref.get("kind") == EvidenceKind.VALUE_UPDATE or ref.get("key_result_id"):
        return True
    if ref.get("kind") == EvidenceKind.ALIGNMENT_REVIEW or ref.get("objective_id"):
        return False
    return finding.key_result_id is not None


@dataclass(frozen=True)
class EvidenceLink:
    text: str
    url: str
    external: bool = False


@dataclass
class EvidenceEntry:
    """One line of evidence: what it is, a detail line (who, when, how much) and where to click."""

    text: str
    detail: str = ""
    link: EvidenceLink | None = None
    tone: str = ""


@dataclass
class EvidenceGroup:
    key: str
    entries: list[EvidenceEntry] = field(default_factory=list)
    more: int = 0  # entries left out beyond the cap
    hidden_people: int = 0  # people whose work counts but is not listed for this viewer

    @property
    def title(self) -> str:
        return GROUP_TITLES[self.key]


def work_item_url(item: WorkItem, settings: Mapping[str, Any]) -> str:
    """The item's own address, or one built from the integration's settings when the payload gave none."""
    if item.url:
        return item.url
    attributes = item.attributes or {}
    if item.provider == Provider.JIRA:
        site = str(settings.get("site") or "").rstrip("/")
        return f"{site}/browse/{item.key}" if site and item.key else ""
    if item.provider == Provider.SLACK:
        workspace = str(settings.get("workspace_url") or "").rstrip("/")
        channel, thread_ts = attributes.get("channel"), str(attributes.get("thread_ts") or "")
        if workspace and channel and thread_ts:
            return f"{workspace}/archives/{channel}/p{thread_ts.replace('.', '')}"
        return ""
    if item.provider == Provider.HUBSPOT:
        portal = settings.get("portal_id")
        if not portal:
            return ""
        if item.kind == WorkItem.Kind.DEAL:
            return f"https://app.hubspot.com/contacts/{portal}/record/0-3/{item.external_id}"
        engagement = str(attributes.get("engagement") or item.external_id.partition(":")[0])
        object_type = HUBSPOT_ENGAGEMENT_TYPES.get(engagement)
        object_id = item.external_id.rpartition(":")[2]
        if object_type and object_id:
            return f"https://app.hubspot.com/contacts/{portal}/record/{object_type}/{object_id}"
    return ""


def work_item_label(item: WorkItem) -> str:
    if item.provider == Provider.JIRA:
        return f"{item.key} {item.title}".strip()
    if item.title:
        return item.title
    source = SOURCE_NAMES.get(Provider(item.provider), item.provider)
    return f"{source} {item.get_kind_display().lower()} {item.key}"


def short_date(moment: date | datetime, *, year: bool = False) -> str:
    """``2 Nov`` (or ``2 Nov 2026``), in the current time zone for an instant."""
    if isinstance(moment, datetime):
        moment = timezone.localtime(moment).date()
    return f"{moment.day} {moment:%b}" + (f" {moment.year}" if year else "")


def _weeks_phrase(weeks: Iterable[int]) -> str:
    ordered = sorted(set(weeks))
    if not ordered:
        return ""
    if len(ordered) == 1:
        return f"week {ordered[0]}"
    if ordered == list(range(ordered[0], ordered[-1] + 1)):
        return f"weeks {ordered[0]}-{ordered[-1]}"
    return "weeks " + ", ".join(str(week) for week in ordered)


def _names_phrase(names: Sequence[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return f"{names[0]}, {names[1]} and {len(names) - 2} more"


@dataclass
class _ItemTally:
    count: int = 0
    people: set[int] = field(default_factory=set)
    weeks: set[int] = field(default_factory=set)


class _Resolver:
    """Resolves the evidence of a batch of findings of one cycle for one viewer."""

    def __init__(self, findings: Sequence[Finding], *, viewer: Membership, cycle: Cycle, slug: str) -> None:
        self.findings = findings
        self.viewer = viewer
        self.cycle = cycle
        self.slug = slug
        self.engine_cycle = cycle_of(cycle)
        visible = visible_membership_ids(viewer)
        self.visible_people: set[int] | None = visible
        self.refs: dict[int, list[dict[str, Any]]] = {
            finding.pk: [ref for ref in finding.evidence if isinstance(ref, dict)] for finding in findings
        }

    @cached_property
    def reports(self) -> set[int]:
        return report_ids(self.viewer)

    def sees(self, person_id: int | None) -> bool:
        return person_id is not None and (self.visible_people is None or person_id in self.visible_people)

    def all_refs(self, kind: str) -> list[dict[str, Any]]:
        return [ref for refs in self.refs.values() for ref in refs if ref.get("kind") == kind]

    def window(self, refs: Sequence[dict[str, Any]]) -> tuple[datetime, datetime]:
        weeks = [int(ref["week"]) for ref in refs if ref.get("week")]
        return self.engine_cycle.week_start(min(weeks)), self.engine_cycle.week_start(max(weeks) + 1)

    # -- activity ---------------------------------------------------------------------------------

    def linked_activity(self) -> dict[tuple[int, int, int], dict[int, int]]:
        """Signal counts per (key result, person, week) and work item, for the referenced triples."""
        refs = [
            ref
            for ref in self.all_refs(EvidenceKind.KEY_RESULT_ACTIVITY)
            if ref.get("key_result_id") and ref.get("week") and self.sees(ref.get("person_id"))
        ]
        wanted = {(ref["key_result_id"], ref["person_id"], ref["week"]) for ref in refs}
        found: dict[tuple[int, int, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        if not wanted:
            return found
        start, end = self.window(refs)
        for row in (
            SignalKeyResult.objects.filter(
                key_result_id__in={key for key, _, _ in wanted},
                actor_membership_id__in={person for _, person, _ in wanted},
                occurred_at__gte=start,
                occurred_at__lt=end,
            )
            .annotate(day=TruncDate("occurred_at", tzinfo=UTC))
            .values("key_result_id", "actor_membership_id", "day", "signal__work_item_id")
            .annotate(count=Count("id"))
            .order_by()
        ):
            triple = (row["key_result_id"], row["actor_membership_id"], self.week(row["day"]))
            if triple in wanted:
                found[triple][row["signal__work_item_id"]] += row["count"]
        return found

    def unlinked_activity(self) -> dict[tuple[str, int, int], dict[int, int]]:
        """Signal counts per (theme, person, week) and work item, for the referenced triples."""
        refs = [
            ref
            for ref in self.all_refs(EvidenceKind.UNLINKED_ACTIVITY)
            if ref.get("theme_id") and ref.get("week") and self.sees(ref.get("person_id"))
        ]
        wanted = {(ref["theme_id"], ref["person_id"], ref["week"]) for ref in refs}
        found: dict[tuple[str, int, int], dict[int, int]] = defaultdict(lambda: defaultdict(int))
        if not wanted:
            return found
        start, end = self.window(refs)
        themes = ThemeNamer()
        counted = SignalKeyResult.objects.filter(signal_id=OuterRef("pk"))
        for row in (
            ExecutionSignal.objects.filter(
                occurred_at__gte=start,
                occurred_at__lt=end,
                actor__membership_id__in={person for _, person, _ in wanted},
            )
            .exclude(Exists(counted))
            .annotate(
                day=TruncDate("occurred_at", tzinfo=UTC),
                epic=KT("match_context__0__epic__0"),
                project=KT("match_context__0__project__0"),
                channel=KT("match_context__0__channel__0"),
                pipeline=KT("match_context__0__pipeline__0"),
            )
            .values(
                "actor__membership_id",
                "day",
                "provider",
                "epic",
                "project",
                "channel",
                "pipeline",
                "work_item_id",
            )
            .annotate(count=Count("id"))
            .order_by()
        ):
            triple = (themes.theme_id(row), row["actor__membership_id"], self.week(row["day"]))
            if triple in wanted:
                found[triple][row["work_item_id"]] += row["count"]
        return found

    def week(self, day: date) -> int:
        return (day - self.cycle.start).days // 7 + 1

    # -- everything ---------------------------------------------------------------------------------

    def resolve(self) -> dict[int, list[EvidenceGroup]]:
        linked = self.linked_activity()
        unlinked = self.unlinked_activity()
        dependency_ids = {int(ref["ref"]) for ref in self.all_refs(EvidenceKind.DEPENDENCY) if ref.get("ref")}
        item_ids = {
            item for counts in (*linked.values(), *unlinked.values()) for item in counts
        } | dependency_ids
        items = {item.pk: item for item in WorkItem.objects.filter(pk__in=item_ids)} if item_ids else {}
        settings = (
            dict(Integration.objects.values_list("provider", "settings"))
            if any(not item.url for item in items.values())
            else {}
        )
        people = self.people()
        check_ins = self.check_ins()
        key_result_history = self.key_result_history()
        objective_history = self.objective_history()
        readings = self.readings()
        objective_key_results: dict[int, set[int]] = defaultdict(set)
        objective_ids = {
            finding.objective_id for finding in self.findings if finding.objective_id is not None
        }
        if objective_ids:
            for key_result_id, objective_id in KeyResult.objects.filter(
                objective_id__in=objective_ids
            ).values_list("id", "objective_id"):
                objective_key_results[objective_id].add(key_result_id)
        groups: dict[int, list[EvidenceGroup]] = {}
        for finding in self.findings:
            # An objective's own work is the work on its key results.
            goal_key_results = (
                {finding.key_result_id}
                if finding.key_result_id is not None
                else objective_key_results.get(finding.objective_id or 0, set())
            )
            builder = _FindingEvidence(
                self,
                finding,
                items=items,
                settings=settings,
                people=people,
                goal_key_results=goal_key_results,
            )
            builder.activity(linked, unlinked)
            builder.dependencies()
            builder.check_ins(check_ins)
            builder.history(key_result_history, objective_history)
            builder.readings(readings)
            groups[finding.pk] = builder.groups()
        return groups

    def people(self) -> dict[int, str]:
        ids = {int(ref["person_id"]) for refs in self.refs.values() for ref in refs if ref.get("person_id")}
        if not ids:
            return {}
        return dict(Membership.objects.filter(pk__in=ids).values_list("pk", "user__full_name"))

    def check_ins(self) -> dict[int, CheckInKeyResultUpdate]:
        ids = {int(ref["ref"]) for ref in self.all_refs(EvidenceKind.CHECKIN) if ref.get("ref")}
        if not ids:
            return {}
        return {
            update.pk: update
            for update in CheckInKeyResultUpdate.objects.filter(pk__in=ids).select_related(
                "check_in__membership__user"
            )
        }

    def history_refs(self, *, on_key_result: bool) -> set[int]:
        """The history rows the findings name, of key results or of objectives."""
        return {
            int(ref["ref"])
            for finding in self.findings
            for ref in self.refs[finding.pk]
            if ref.get("kind") in HISTORY_KINDS
            and ref.get("ref")
            and names_key_result_history(ref, finding) == on_key_result
        }

    def key_result_history(self) -> dict[int, dict[str, Any]]:
        ids = self.history_refs(on_key_result=True)
        if not ids:
            return {}
        return {
            row["history_id"]: row
            for row in KeyResult.history.filter(history_id__in=ids).values(*HISTORY_FIELDS)
        }

    def objective_history(self) -> dict[int, dict[str, Any]]:
        ids = self.history_refs(on_key_result=False)
        if not ids:
            return {}
        return {
            row["history_id"]: row
            for row in Objective.history.filter(history_id__in=ids).values(*HISTORY_FIELDS)
        }

    def readings(self) -> dict[int, KPIReading]:
        ids = {int(ref["ref"]) for ref in self.all_refs(EvidenceKind.KPI_READING) if ref.get("ref")}
        if not ids:
            return {}
        return {
            reading.pk: reading for reading in KPIReading.objects.filter(pk__in=ids).select_related("kpi")
        }


class _FindingEvidence:
    """The groups of one finding's evidence."""

    def __init__(
        self,
        resolver: _Resolver,
        finding: Finding,
        *,
        items: Mapping[int, WorkItem],
        settings: Mapping[str, Mapping[str, Any]],
        people: Mapping[int, str],
        goal_key_results: set[int],
    ) -> None:
        self.resolver = resolver
        self.finding = finding
        self.refs = resolver.refs[finding.pk]
        self.items = items
        self.settings = settings
        self.people = people
        self._groups: dict[str, EvidenceGroup] = {}
        self.goal_key_results = goal_key_results

    def group(self, key: str) -> EvidenceGroup:
        return self._groups.setdefault(key, EvidenceGroup(key=key))

    def url(self, name: str, **kwargs: object) -> str:
        return reverse(name, kwargs={"org_slug": self.resolver.slug, **kwargs})

    def item_entry(self, item: WorkItem, tally: _ItemTally) -> EvidenceEntry:
        names = sorted(self.people.get(person, "someone") for person in tally.people)
        source = SOURCE_NAMES.get(Provider(item.provider), item.provider)
        detail = " · ".join(
            part
            for part in (
                source,
                _names_phrase(names),
                _weeks_phrase(tally.weeks),
                f"{tally.count} signal{'s' if tally.count != 1 else ''}",
            )
            if part
        )
        url = work_item_url(item, self.settings.get(item.provider, {}))
        label = work_item_label(item)
        return EvidenceEntry(
            text=label, detail=detail, link=EvidenceLink(label, url, external=True) if url else None
        )

    def activity(
        self,
        linked: Mapping[tuple[int, int, int], Mapping[int, int]],
        unlinked: Mapping[tuple[str, int, int], Mapping[int, int]],
    ) -> None:
        tallies: dict[str, dict[int, _ItemTally]] = {ON_GOAL: {}, ELSEWHERE: {}}
        hidden: dict[str, set[int]] = {ON_GOAL: set(), ELSEWHERE: set()}
        for ref in self.refs:
            kind = ref.get("kind")
            if not ref.get("person_id") or not ref.get("week"):
                continue
            person, week = int(ref["person_id"]), int(ref["week"])
            if kind == EvidenceKind.KEY_RESULT_ACTIVITY and ref.get("key_result_id"):
                key = ON_GOAL if ref["key_result_id"] in self.goal_key_results else ELSEWHERE
                counts = linked.get((ref["key_result_id"], person, week), {})
            elif kind == EvidenceKind.UNLINKED_ACTIVITY and ref.get("theme_id"):
                key = ELSEWHERE
                counts = unlinked.get((ref["theme_id"], person, week), {})
            else:
                continue
            if not self.resolver.sees(person):
                hidden[key].add(person)
                continue
            for item_id, count in counts.items():
                tally = tallies[key].setdefault(item_id, _ItemTally())
                tally.count += count
                tally.people.add(person)
                tally.weeks.add(week)
        for key, by_item in tallies.items():
            if not by_item and not hidden[key]:
                continue
            group = self.group(key)
            ordered = sorted(
                (item_id for item_id in by_item if item_id in self.items),
                key=lambda item_id: (-by_item[item_id].count, self.items[item_id].key),
            )
            group.entries = [self.item_entry(self.items[item_id], by_item[item_id]) for item_id in ordered]
            group.hidden_people = len(hidden[key])

    def dependencies(self) -> None:
        for ref in self.refs:
            if ref.get("kind") != EvidenceKind.DEPENDENCY or not ref.get("ref"):
                continue
            item = self.items.get(int(ref["ref"]))
            if item is None:
                continue
            url = work_item_url(item, self.settings.get(item.provider, {}))
            label = work_item_label(item)
            detail = " · ".join(
                part
                for part in (item.status, f"blocked since week {ref['week']}" if ref.get("week") else "")
                if part
            )
            entry = EvidenceEntry(
                text=label,
                detail=detail,
                link=EvidenceLink(label, url, external=True) if url else None,
                tone="bad",
            )
            self.group(BLOCKED).entries.append(entry)

    def check_ins(self, updates: Mapping[int, CheckInKeyResultUpdate]) -> None:
        viewer = self.resolver.viewer
        reports = self.resolver.reports
        for ref in sorted(
            (ref for ref in self.refs if ref.get("kind") == EvidenceKind.CHECKIN and ref.get("ref")),
            key=lambda ref: (-(ref.get("week") or 0), -int(ref["ref"])),
        ):
            update = updates.get(int(ref["ref"]))
            if update is None:
                continue
            check_in = update.check_in
            author = check_in.membership
            may_read = author.pk == viewer.pk or (check_in.is_submitted and author.pk in reports)
            status = update.get_status_display() or "No status"
            text = f"{author.user.full_name}: {status.lower()}"
            detail = f"Check-in for the week of {short_date(check_in.week)}"
            if ref.get("week"):
                detail += f" (week {ref['week']})"
            link = (
                EvidenceLink("Open the check-in", self.url("goals:check_in_detail", check_in_id=check_in.pk))
                if may_read
                else None
            )
            tone = {"on_track": "good", "at_risk": "warn", "blocked": "bad"}.get(update.status, "")
            self.group(CHECK_INS).entries.append(
                EvidenceEntry(text=text, detail=detail, link=link, tone=tone)
            )

    def history(
        self, key_results: Mapping[int, dict[str, Any]], objectives: Mapping[int, dict[str, Any]]
    ) -> None:
        for ref in self.refs:
            kind = ref.get("kind")
            if kind not in (
                EvidenceKind.VALUE_UPDATE,
                EvidenceKind.GOAL_CHANGE,
                EvidenceKind.ALIGNMENT_REVIEW,
            ):
                continue
            if not ref.get("ref"):
                continue
            on_key_result = names_key_result_history(ref, self.finding)
            row = (key_results if on_key_result else objectives).get(int(ref["ref"]))
            if row is None:
                continue
            who = row["history_user__full_name"] or "OKRSignal"
            when = short_date(row["history_date"], year=True)
            if on_key_result:
                link = EvidenceLink(
                    "See its history", self.url("goals:key_result_detail", key_result_id=row["id"])
                )
            else:
                link = EvidenceLink(
                    "See its history", self.url("goals:objective_detail", objective_id=row["id"])
                )
            if kind == EvidenceKind.VALUE_UPDATE:
                value = ref.get("value")
                text = f"Recorded {number(value)}" if value is not None else "Recorded a value"
                self.group(PROGRESS).entries.append(
                    EvidenceEntry(text=text, detail=f"{who} · {when}", link=link)
                )
            elif kind == EvidenceKind.ALIGNMENT_REVIEW:
                self.group(GOAL_CHANGES).entries.append(
                    EvidenceEntry(text="Alignment last confirmed", detail=f"{who} · {when}", link=link)
                )
            else:
                reason = row["history_change_reason"] or ""
                text = f"'{row['title']}' changed" + (f": {reason}" if reason else "")
                self.group(GOAL_CHANGES).entries.append(
                    EvidenceEntry(text=text, detail=f"{who} · {when}", link=link)
                )

    def readings(self, readings: Mapping[int, KPIReading]) -> None:
        for ref in self.refs:
            if ref.get("kind") != EvidenceKind.KPI_READING or not ref.get("ref"):
                continue
            reading = readings.get(int(ref["ref"]))
            if reading is None:
                continue
            kpi = reading.kpi
            status = kpi_status(
                direction=kpi.direction, green=kpi.green, red=kpi.red, value=reading.value
            ).value
            self.group(KPI_READINGS).entries.append(
                EvidenceEntry(
                    text=f"{kpi.name}: {number(reading.value)} {kpi.unit}".strip(),
                    detail=f"{status.capitalize()} · {short_date(reading.recorded_at, year=True)}",
                    link=EvidenceLink("Open the KPI", self.url("goals:kpi_detail", kpi_id=kpi.pk)),
                    tone={"green": "good", "amber": "warn", "red": "bad"}.get(status, ""),
                )
            )

    def groups(self) -> list[EvidenceGroup]:
        groups = [self._groups[key] for key in GROUP_ORDER if key in self._groups]
        for group in groups:
            group.more = max(0, len(group.entries) - ENTRIES_SHOWN)
            group.entries = group.entries[:ENTRIES_SHOWN]
        return groups


def finding_evidence(
    findings: Sequence[Finding], *, viewer: Membership, cycle: Cycle, slug: str
) -> dict[int, list[EvidenceGroup]]:
    """Each finding's evidence as groups of clickable entries, for ``viewer`` (about a dozen queries)."""
    if not findings:
        return {}
    return _Resolver(findings, viewer=viewer, cycle=cycle, slug=slug).resolve()
