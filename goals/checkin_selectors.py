"""Reads of weekly check-ins, and who may see what: one set of rules for the pages, the API and tasks.

- Everyone sees their own check-ins, drafts included.
- Anyone sees the submitted check-ins of the people who report to them, directly or indirectly: the
  reporting line decides (``okrsignal.permissions.report_ids``), not the role.
- ``upward_feedback`` is read only by the check-in's author and its ``manager`` (the author's manager
  when it was submitted).
- Admins outside someone's reporting line see organisation-wide figures only, never a single check-in.

Every other check-in does not exist for the viewer: ``visible_check_in`` answers 404, exactly as for
another organisation's. Drafts are their author's alone until submitted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.module_loading import import_string

from goals.checkin_weeks import checkin_due_at, checkin_week
from goals.line_of_sight import line_of_sight_sentence
from goals.models import (
    CheckIn,
    CheckInKeyResultUpdate,
    CheckInPriority,
    CheckInReply,
    CheckInState,
    Cycle,
    KeyResult,
    KeyResultContributor,
    KeyResultStatus,
    ObjectiveState,
)
from okrsignal.models import Membership, Organization
from okrsignal.permissions import report_ids

# Everything ``line_of_sight_sentence`` follows from a key result up to its company objective (a cascade is
# at most three levels deep), so that a list of sentences costs one query.
KEY_RESULT_CHAIN = (
    "owner__user",
    "objective__cycle",
    "objective__team",
    "objective__owner__user",
    "objective__parent__team",
    "objective__parent__owner__user",
    "objective__parent__parent__team",
)
NEEDS_ATTENTION_STATUSES = (KeyResultStatus.AT_RISK, KeyResultStatus.BLOCKED)


def organization_week(membership: Membership, at: datetime | None = None) -> date:
    """The check-in week ``at`` (default now) falls in, in the time zone of the membership's organisation."""
    return checkin_week(at or timezone.now(), membership.organization.time_zone)


def check_in_due_at(organization: Organization, week: date) -> datetime:
    """When the week's check-in is due: the organisation's check-in day and time, in its time zone (UTC)."""
    return checkin_due_at(
        week, organization.checkin_weekday, organization.checkin_time, organization.time_zone
    )


# --- Key results a check-in can name ----------------------------------------------------------------


def visible_key_results(viewer: Membership) -> QuerySet[KeyResult]:
    """The key results ``viewer`` may read: everyone in the organisation reads every goal."""
    return KeyResult.objects.all()


def check_in_cycles(week: date) -> QuerySet[Cycle]:
    """The cycles a week's check-in is about: open ones overlapping the week (two, at a quarter's turn)."""
    return Cycle.objects.filter(start__lte=week + timedelta(days=6), end__gte=week, closed_at__isnull=True)


def linkable_key_results(week: date) -> QuerySet[KeyResult]:
    """Key results a priority of the week may be linked to: those of the current cycle, except where the
    objective was cancelled."""
    return KeyResult.objects.filter(objective__cycle__in=check_in_cycles(week)).exclude(
        objective__state=ObjectiveState.CANCELLED
    )


def own_key_results(membership: Membership, week: date) -> QuerySet[KeyResult]:
    """The key results of the week's cycle that ``membership`` owns or contributes to."""
    contributes = KeyResultContributor.objects.filter(key_result=OuterRef("pk"), membership=membership)
    return (
        linkable_key_results(week)
        .filter(Q(owner=membership) | Q(Exists(contributes)))
        .select_related(*KEY_RESULT_CHAIN)
        .order_by("objective__title", "created_at", "pk")
    )


@dataclass(frozen=True)
class KeyResultChoice:
    """A key result offered to link a priority to, with its line-of-sight sentence."""

    key_result: KeyResult
    line_of_sight: str
    is_own: bool  # the viewer owns it or contributes to it


MAX_SEARCH_WORDS = 8


def key_result_search(
    viewer: Membership, query: str, *, week: date | None = None, limit: int = 20
) -> list[KeyResultChoice]:
    """Key results of the current cycle visible to ``viewer`` whose title, or whose objective's title,
    contains every word of ``query``; the viewer's own first. An empty query lists the viewer's own."""
    week = week or organization_week(viewer)
    contributes = KeyResultContributor.objects.filter(key_result=OuterRef("pk"), membership=viewer)
    key_results = (visible_key_results(viewer) & linkable_key_results(week)).annotate(
        is_own=ExpressionWrapper(Q(owner=viewer) | Q(Exists(contributes)), output_field=BooleanField())
    )
    words = query.split()[:MAX_SEARCH_WORDS]
    if not words:
        key_results = key_results.filter(is_own=True)
    for word in words:
        key_results = key_results.filter(Q(title__icontains=word) | Q(objective__title__icontains=word))
    ordered = key_results.select_related(*KEY_RESULT_CHAIN).order_by("-is_own", "title", "pk")[:limit]
    return [
        KeyResultChoice(
            key_result=key_result,
            line_of_sight=line_of_sight_sentence(key_result, viewer=viewer),
            is_own=key_result.is_own,
        )
        for key_result in ordered
    ]


# --- Who may see what -------------------------------------------------------------------------------


def may_see_check_in(viewer: Membership, check_in: CheckIn) -> bool:
    if check_in.membership_id == viewer.pk:
        return True
    return check_in.is_submitted and check_in.membership_id in report_ids(viewer)


def may_read_upward_feedback(viewer: Membership, check_in: CheckIn) -> bool:
    """Feedback for a manager is read by that manager (and written by its author), nobody else."""
    return viewer.pk == check_in.membership_id or (
        check_in.manager_id is not None and viewer.pk == check_in.manager_id
    )


def may_mark_discussed(viewer: Membership, check_in: CheckIn) -> bool:
    """Anyone above the author in the reporting line; never the author."""
    return check_in.membership_id in report_ids(viewer)


def check_in_queryset() -> QuerySet[CheckIn]:
    """Check-ins with everything a page or the API shows of them, in a fixed number of queries."""
    return (
        CheckIn.objects.select_related("membership__user", "membership__team", "manager__user")
        .prefetch_related(
            Prefetch(
                "priorities",
                queryset=CheckInPriority.objects.select_related(
                    *(f"key_result__{path}" for path in KEY_RESULT_CHAIN)
                ).order_by("position"),
            ),
            Prefetch(
                "key_result_updates",
                queryset=CheckInKeyResultUpdate.objects.select_related("key_result").order_by("id"),
            ),
        )
        .annotate(reply_count=Count("replies"))
        .order_by("-week", "membership__user__full_name", "pk")
    )


def visible_check_ins(viewer: Membership) -> QuerySet[CheckIn]:
    """Every check-in ``viewer`` may read: their own, and the submitted ones of their reporting line."""
    reports = report_ids(viewer)
    return check_in_queryset().filter(
        Q(membership=viewer) | Q(membership_id__in=reports, state=CheckInState.SUBMITTED)
    )


def visible_check_in(viewer: Membership, pk: object) -> CheckIn:
    """The check-in ``pk`` if ``viewer`` may read it; ``Http404`` otherwise, whatever the reason."""
    try:
        check_in_id = int(str(pk))
    except ValueError:
        raise Http404("No such check-in.") from None
    check_in = visible_check_ins(viewer).filter(pk=check_in_id).first()
    if check_in is None:
        raise Http404("No such check-in.")
    return check_in


def check_in_for_week(author: Membership, week: date) -> CheckIn | None:
    """The author's check-in (draft or submitted) for the week, if they have started one."""
    return check_in_queryset().filter(membership=author, week=week).first()


def previous_check_in(author: Membership, week: date) -> CheckIn | None:
    """The author's latest submitted check-in before the week, shown beside the form."""
    return (
        check_in_queryset()
        .filter(membership=author, week__lt=week, state=CheckInState.SUBMITTED)
        .order_by("-week")
        .first()
    )


def check_in_replies(check_in: CheckIn) -> list[CheckInReply]:
    """Replies on a check-in, oldest first. Whoever may read the check-in may read them."""
    return list(
        CheckInReply.objects.filter(check_in=check_in)
        .select_related("author__user")
        .order_by("created_at", "pk")
    )


def _needs_attention(check_in: CheckIn) -> list[CheckInKeyResultUpdate]:
    return [
        update for update in check_in.key_result_updates.all() if update.status in NEEDS_ATTENTION_STATUSES
    ]


# --- The manager's inbox ----------------------------------------------------------------------------


@dataclass
class InboxRow:
    """One person in a manager's reporting line and their check-in for the week, if submitted."""

    membership: Membership
    check_in: CheckIn | None
    is_direct_report: bool
    key_results_needing_attention: list[CheckInKeyResultUpdate] = field(default_factory=list)

    @property
    def has_checked_in(self) -> bool:
        return self.check_in is not None

    @property
    def has_blockers(self) -> bool:
        return self.check_in is not None and bool(self.check_in.blockers.strip())

    @property
    def needs_attention(self) -> bool:
        return self.has_blockers or bool(self.key_results_needing_attention)

    @property
    def rank(self) -> int:
        """Blockers or at-risk and blocked key results first, then the other check-ins, then who has not
        checked in."""
        if self.check_in is None:
            return 2
        return 0 if self.needs_attention else 1


def team_inbox(manager: Membership, week: date) -> list[InboxRow]:
    """Everyone who reports to ``manager``, directly or indirectly, with their submitted check-in for the
    week (None if they have not checked in), those needing attention first. Five queries."""
    reports = report_ids(manager)
    people = Membership.objects.filter(pk__in=reports, is_active=True).select_related("user", "team")
    check_ins = {
        check_in.membership_id: check_in
        for check_in in check_in_queryset().filter(
            membership_id__in=reports, week=week, state=CheckInState.SUBMITTED
        )
    }
    rows = []
    for person in people:
        check_in = check_ins.get(person.pk)
        rows.append(
            InboxRow(
                membership=person,
                check_in=check_in,
                is_direct_report=person.manager_id == manager.pk,
                key_results_needing_attention=_needs_attention(check_in) if check_in else [],
            )
        )
    rows.sort(key=lambda row: (row.rank, row.membership.user.full_name.lower(), row.membership.pk))
    return rows


# --- The 1:1 agenda ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgendaItem:
    """Something to talk about, and the check-in it comes from."""

    check_in: CheckIn
    kind: str  # "blocker", "upward_feedback", "next_week_success", or a key result status
    text: str
    key_result: KeyResult | None = None


@dataclass
class AgendaSection:
    """A part of the agenda. Its items are ``AgendaItem``s, listed with the check-in each comes from,
    unless ``template_name`` names the template that lists them (included with ``section`` in its
    context): a builder whose items are not check-in items, such as drift findings, brings its own."""

    title: str
    items: Sequence[object]
    template_name: str = ""


# A section builder adds a part to every 1:1 agenda: given the manager, the report and the report's
# submitted check-ins of the agenda's weeks (newest first), it returns a section, or None when it has
# nothing to say. Findings of the drift engine about the report's goals join the agenda this way. The
# ``ONE_ON_ONE_AGENDA_SECTIONS`` setting names them by dotted path, imported when an agenda is built:
# a process that never builds one (an ingestion worker) never loads the pages they draw on.
AgendaSectionBuilder = Callable[[Membership, Membership, Sequence[CheckIn]], AgendaSection | None]


def agenda_section_builders() -> list[AgendaSectionBuilder]:
    return [import_string(path) for path in settings.ONE_ON_ONE_AGENDA_SECTIONS]


@dataclass
class OneOnOneAgenda:
    manager: Membership
    report: Membership
    since: date  # the first week the agenda looks at
    blockers: list[AgendaItem]
    key_results: list[AgendaItem]  # at risk or blocked, as last reported
    open_questions: list[AgendaItem]
    sections: list[AgendaSection] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (
            self.blockers or self.key_results or self.open_questions or any(s.items for s in self.sections)
        )


def one_on_one_agenda(
    manager: Membership, report: Membership, *, weeks: int = 4, at: datetime | None = None
) -> OneOnOneAgenda:
    """What ``manager`` and ``report`` should talk about, from the report's last ``weeks`` weeks:

    - blockers of check-ins not yet marked discussed;
    - key results whose latest reported status is at risk or blocked;
    - open questions: feedback for the manager (only when ``manager`` is the one it was written for) and
      what success looks like next week, on check-ins nobody but their author has replied to.

    ``Http404`` unless ``report`` reports to ``manager``, directly or indirectly.
    """
    if report.pk not in report_ids(manager):
        raise Http404("No such person.")
    since = organization_week(manager, at) - timedelta(weeks=weeks - 1)
    check_ins = list(
        check_in_queryset()
        .filter(membership=report, state=CheckInState.SUBMITTED, week__gte=since)
        .prefetch_related(Prefetch("replies", queryset=CheckInReply.objects.order_by("created_at", "pk")))
        .order_by("-week")
    )
    blockers = [
        AgendaItem(check_in=check_in, kind="blocker", text=check_in.blockers)
        for check_in in check_ins
        if check_in.blockers.strip() and check_in.discussed_at is None
    ]
    latest: dict[int, tuple[CheckIn, CheckInKeyResultUpdate]] = {}
    for check_in in check_ins:
        for update in check_in.key_result_updates.all():
            latest.setdefault(update.key_result_id, (check_in, update))
    key_results = [
        AgendaItem(check_in=check_in, kind=update.status, text=update.note, key_result=update.key_result)
        for check_in, update in latest.values()
        if update.status in NEEDS_ATTENTION_STATUSES
    ]
    open_questions = []
    for check_in in check_ins:
        if any(reply.author_id != check_in.membership_id for reply in check_in.replies.all()):
            continue
        if check_in.upward_feedback.strip() and check_in.manager_id == manager.pk:
            open_questions.append(
                AgendaItem(check_in=check_in, kind="upward_feedback", text=check_in.upward_feedback)
            )
        if check_in.next_week_success.strip():
            open_questions.append(
                AgendaItem(check_in=check_in, kind="next_week_success", text=check_in.next_week_success)
            )
    sections = [
        section
        for builder in agenda_section_builders()
        if (section := builder(manager, report, check_ins)) is not None
    ]
    return OneOnOneAgenda(
        manager=manager,
        report=report,
        since=since,
        blockers=blockers,
        key_results=key_results,
        open_questions=open_questions,
        sections=sections,
    )
