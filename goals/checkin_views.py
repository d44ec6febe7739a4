"""The weekly check-in pages: one's own check-in, a check-in with its replies, the manager's team inbox and
the 1:1 agenda.

Every page is under ``/o/<org_slug>/goals/`` and runs through ``OrganizationViewMixin``. Who sees what is
``goals.checkin_selectors``' to say (a check-in one may not read is a 404, as if it did not exist); every
write goes through ``goals.checkins``. A week is chosen with ``?week=YYYY-MM-DD`` (any day of it; a future
week shows this one).

The check-in form saves itself: htmx posts it with ``?autosave=1`` when something changes, and the view
saves the draft (``check_in_save_draft``) and answers with the "Saved 10:42" line. Submitting posts it
normally; a refused submission shows every message on its field, with what was typed, and the draft
keeps whatever was well formed.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from goals import charts, checkins
from goals.checkin_forms import (
    MAX_ID_DIGITS,
    PULSE_QUESTION,
    UNLINKED,
    CheckInForm,
    PriorityForm,
    linkable_key_result,
)
from goals.checkin_selectors import (
    InboxRow,
    KeyResultChoice,
    check_in_cycles,
    check_in_due_at,
    check_in_for_week,
    check_in_replies,
    key_result_search,
    may_mark_discussed,
    may_read_upward_feedback,
    one_on_one_agenda,
    organization_week,
    team_inbox,
    visible_check_in,
)
from goals.checkin_weeks import week_monday
from goals.line_of_sight import line_of_sight_sentence
from goals.models import (
    MAX_CHECK_IN_PRIORITIES,
    CheckIn,
    CheckInKeyResultUpdate,
    CheckInPriority,
    CheckInReply,
    CheckInState,
    KeyResult,
    KeyResultStatus,
    PulseAnswer,
)
from goals.validation import GoalValidationError
from goals.views import GoalPage
from okrsignal.models import Membership
from okrsignal.permissions import refuse

# The query parameter with which htmx asks the check-in page to save the draft, not submit.
AUTOSAVE_PARAMETER = "autosave"
# The pieces htmx swaps in, shared by the check-in pages.
PARTS_TEMPLATE = "goals/checkin_parts.html"
RECENT_WEEKS = 6
# Weeks before this are no one's check-ins (and the navigation around year 1 would leave the calendar).
EARLIEST_WEEK = date(2000, 1, 3)
OWN_CHOICES_SHOWN = 8
SEARCH_RESULTS_SHOWN = 6
SEARCH_MAX_LENGTH = 200
NEEDS_ATTENTION = (KeyResultStatus.AT_RISK, KeyResultStatus.BLOCKED)


def _plain(value: float | None) -> str | None:
    return None if value is None else f"{value:g}"


# --- What the templates show of a check-in ------------------------------------------------------------


@dataclass
class ShownPriority:
    priority: CheckInPriority
    line_of_sight: str


@dataclass
class ShownCheckIn:
    """A check-in as one viewer may see it, with the line of sight of each priority."""

    check_in: CheckIn
    priorities: list[ShownPriority]
    updates: list[CheckInKeyResultUpdate]
    shows_feedback: bool
    may_mark_discussed: bool
    replies: list[CheckInReply] = field(default_factory=list)

    @property
    def needing_attention(self) -> list[CheckInKeyResultUpdate]:
        return [update for update in self.updates if update.status in NEEDS_ATTENTION]

    @property
    def other_updates(self) -> list[CheckInKeyResultUpdate]:
        return [update for update in self.updates if update.status not in NEEDS_ATTENTION]


def shown_check_in(
    check_in: CheckIn,
    viewer: Membership,
    replies: list[CheckInReply] | None = None,
    *,
    in_reporting_line: bool | None = None,
) -> ShownCheckIn:
    """``check_in`` (from ``check_in_queryset``, so its parts are prefetched) as ``viewer`` sees it.

    ``in_reporting_line`` says the author reports to the viewer when the caller already knows it (the
    inbox lists only them), which spares a look at the reporting line per check-in."""
    if in_reporting_line is None:
        in_reporting_line = check_in.is_submitted and may_mark_discussed(viewer, check_in)
    return ShownCheckIn(
        check_in=check_in,
        priorities=[
            ShownPriority(
                priority=priority,
                line_of_sight=line_of_sight_sentence(priority.key_result, viewer=viewer)
                if priority.key_result is not None
                else "",
            )
            for priority in check_in.priorities.all()
        ],
        updates=list(check_in.key_result_updates.all()),
        shows_feedback=may_read_upward_feedback(viewer, check_in),
        may_mark_discussed=check_in.is_submitted and in_reporting_line,
        replies=replies if replies is not None else [],
    )


@dataclass(frozen=True)
class WeekNavigation:
    week: date
    current: date

    @property
    def previous(self) -> date:
        return self.week - timedelta(weeks=1)

    @property
    def next(self) -> date | None:
        following = self.week + timedelta(weeks=1)
        return following if following <= self.current else None

    @property
    def is_current(self) -> bool:
        return self.week == self.current


@dataclass
class PriorityRow:
    """A priority's row on the form, with the key results its radio buttons offer."""

    form: PriorityForm
    options: list[KeyResultChoice]

    @property
    def chosen(self) -> KeyResultChoice | None:
        link = self.form.link_value
        return next((option for option in self.options if str(option.key_result.pk) == link), None)


@dataclass
class RecentWeek:
    week: date
    state: str  # "submitted", "draft" or "missing"
    check_in_id: int | None


# --- Shared pieces ----------------------------------------------------------------------------------


class CheckInPage(GoalPage):
    """A check-in page: the week it looks at comes from ``?week=``."""

    def chosen_week(self) -> date:
        current = organization_week(self.membership)
        raw = self.request.GET.get("week", "")
        try:
            day = date.fromisoformat(raw[:10])
        except ValueError:
            return current
        if day < EARLIEST_WEEK:
            return current
        return min(week_monday(day), current)

    def week_navigation(self, week: date) -> WeekNavigation:
        return WeekNavigation(week=week, current=organization_week(self.membership))

    def due_at(self, week: date) -> datetime:
        return check_in_due_at(self.organization, week)

    def render_part(self, name: str, context: dict[str, Any]) -> HttpResponse:
        return render(self.request, f"{PARTS_TEMPLATE}#{name}", {"membership": self.membership, **context})

    def check_in(self) -> CheckIn:
        """The check-in the URL names, if this viewer may read it; 404 otherwise, whatever the reason."""
        return visible_check_in(self.membership, self.kwargs["check_in_id"])


def _choices_with(
    chosen: KeyResult | None, choices: list[KeyResultChoice], viewer: Membership
) -> list[KeyResultChoice]:
    """The chosen key result first (whatever the search found), then the other choices."""
    if chosen is None:
        return choices
    own_ids = {choice.key_result.pk for choice in choices if choice.is_own}
    first = KeyResultChoice(
        key_result=chosen,
        line_of_sight=line_of_sight_sentence(chosen, viewer=viewer),
        is_own=chosen.owner_id == viewer.pk or chosen.pk in own_ids,
    )
    return [first, *(choice for choice in choices if choice.key_result.pk != chosen.pk)]


# --- My check-in ------------------------------------------------------------------------------------


class MyCheckInView(CheckInPage):
    """The author's check-in for a week: pre-filled from last week, saved as a draft while it is typed."""

    template_name = "goals/checkin_mine.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        week = self.chosen_week()
        return self.respond(self.build_form(week), week)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        week = self.chosen_week()
        form = self.build_form(week, request.POST)
        if AUTOSAVE_PARAMETER in request.GET:
            return self.autosave(form, week)
        return self.submit(form, week)

    # --- The form, from what is there ---------------------------------------------------------------

    def build_form(self, week: date, data: Any = None) -> CheckInForm:
        author = self.membership
        self.stored = check_in_for_week(author, week)
        self.prefill = checkins.check_in_prefill(author=author, week=week)
        key_results = [entry.key_result for entry in self.prefill.key_result_updates]
        updates: dict[int, dict[str, Any]] = {
            entry.key_result.pk: {"status": entry.status} for entry in self.prefill.key_result_updates
        }
        if self.stored is not None:
            for row in self.stored.key_result_updates.all():
                if row.key_result_id in updates:
                    updates[row.key_result_id] = {
                        "status": row.status,
                        "value": _plain(row.value),
                        "note": row.note,
                    }
            priorities = [
                {
                    "text": row.text,
                    "link": str(row.key_result_id)
                    if row.key_result_id
                    else (UNLINKED if row.unlinked else ""),
                    "key_result": row.key_result,
                }
                for row in self.stored.priorities.all()
            ]
            texts: dict[str, Any] = {
                "blockers": self.stored.blockers,
                "upward_feedback": self.stored.upward_feedback,
                "next_week_success": self.stored.next_week_success,
            }
        else:
            priorities = [
                {
                    "text": entry.text,
                    "link": str(entry.key_result.pk)
                    if entry.key_result
                    else (UNLINKED if entry.unlinked else ""),
                    "key_result": entry.key_result,
                }
                for entry in self.prefill.priorities
            ]
            texts = {}
        answer = PulseAnswer.objects.filter(membership=author, week=week).first()
        texts["pulse"] = answer.score if answer is not None else None
        return CheckInForm(
            data,
            key_results=key_results,
            initial_priorities=priorities[:MAX_CHECK_IN_PRIORITIES],
            initial_updates=updates,
            initial_texts=texts,
        )

    @property
    def is_submitted(self) -> bool:
        return self.stored is not None and self.stored.is_submitted

    # --- Saving and submitting ----------------------------------------------------------------------

    def _record_pulse(self, form: CheckInForm, week: date) -> None:
        if form.pulse is None:
            return
        try:
            checkins.pulse_answer_record(membership=self.membership, score=form.pulse, week=week)
        except GoalValidationError as error:
            form.add_problems(error.problems)

    def autosave(self, form: CheckInForm, week: date) -> HttpResponse:
        context: dict[str, Any] = {"week": week, "check_in": self.stored, "form": form}
        if self.is_submitted:
            return self.render_part("autosave-status", context)
        form.is_valid()
        try:
            self.stored = checkins.check_in_save_draft(author=self.membership, week=week, **form.changes())
        except GoalValidationError as error:
            form.add_problems(error.problems)
            context["not_saved"] = True
        else:
            self._record_pulse(form, week)
        context.update(check_in=self.stored, save_problems=form.error_links)
        return self.render_part("autosave-status", context)

    def submit(self, form: CheckInForm, week: date) -> HttpResponse:
        # The pulse is recorded after the check-in is written, as autosave does: a submission and an autosave
        # in flight together then lock the check-in and the pulse answer in the same order.
        if not form.is_valid():
            if not self.is_submitted:
                # What was well formed is kept, as an autosave would have kept it.
                with contextlib.suppress(GoalValidationError):
                    checkins.check_in_save_draft(author=self.membership, week=week, **form.changes())
            self._record_pulse(form, week)
            self.stored = check_in_for_week(self.membership, week)
            return self.respond(form, week, refused=True)
        first_time = not self.is_submitted
        try:
            check_in = checkins.check_in_submit(author=self.membership, week=week, **form.changes())
        except GoalValidationError as error:
            form.add_problems(error.problems)
            self._record_pulse(form, week)
            self.stored = check_in_for_week(self.membership, week)
            return self.respond(form, week, refused=True)
        self._record_pulse(form, week)
        manager = self.membership.manager
        who = f"{manager.user.full_name} sees it in their team inbox" if manager else "It is on record"
        messages.success(
            self.request,
            f"{'Checked in' if first_time else 'Check-in updated'} for the week of {week:%-d %b}. {who}.",
        )
        return redirect("goals:check_in_detail", org_slug=self.organization.slug, check_in_id=check_in.pk)

    # --- The page -----------------------------------------------------------------------------------

    def recent_weeks(self, current: date) -> list[RecentWeek]:
        weeks = [current - timedelta(weeks=back) for back in range(RECENT_WEEKS)]
        found = {
            week: (state, pk)
            for week, state, pk in CheckIn.objects.filter(
                membership=self.membership, week__in=weeks
            ).values_list("week", "state", "pk")
        }
        return [
            RecentWeek(
                week=week,
                state=found[week][0] if week in found else "missing",
                check_in_id=found[week][1] if week in found else None,
            )
            for week in weeks
        ]

    def priority_row(self, form: PriorityForm, own_choices: list[KeyResultChoice]) -> PriorityRow:
        """A row offers the author's own key results until one is chosen; then only that one (a search
        brings the others back). A row marked unlinked offers none until searched."""
        if form.is_unlinked:
            return PriorityRow(form=form, options=[])
        chosen = form.key_result
        if chosen is None:
            return PriorityRow(form=form, options=own_choices)
        return PriorityRow(form=form, options=_choices_with(chosen, own_choices, self.membership)[:1])

    def respond(self, form: CheckInForm, week: date, *, refused: bool = False) -> HttpResponse:
        viewer = self.membership
        own_choices = key_result_search(viewer, "", week=week, limit=OWN_CHOICES_SHOWN)
        navigation = self.week_navigation(week)
        previous = self.prefill.previous
        query = f"?week={week.isoformat()}"
        manager = (
            Membership.objects.select_related("user").filter(pk=viewer.manager_id).first()
            if viewer.manager_id
            else None
        )
        return self.render_page(
            {
                "week": week,
                "navigation": navigation,
                "due_at": self.due_at(week),
                "form": form,
                "priority_rows": [self.priority_row(row, own_choices) for row in form.shown_priorities],
                "folded_rows": [self.priority_row(row, own_choices) for row in form.folded_priorities],
                "has_cycle": check_in_cycles(week).exists(),
                "folded_open": any(row.is_filled or row.errors for row in form.folded_priorities),
                "update_rows": [
                    (
                        update,
                        charts.number(update.key_result.current_value)
                        if update.key_result.current_value is not None
                        else None,
                        charts.number(update.key_result.target),
                    )
                    for update in form.updates
                ],
                "check_in": self.stored,
                "is_submitted": self.is_submitted,
                "refused": refused,
                "problems": form.error_links if refused else [],
                "manager": manager,
                "previous": shown_check_in(previous, viewer) if previous is not None else None,
                "recent_weeks": self.recent_weeks(navigation.current),
                "pulse_question": PULSE_QUESTION,
                "action_url": f"{self.request.path}{query}",
                "autosave_url": f"{self.request.path}{query}&{AUTOSAVE_PARAMETER}=1",
                "search_url": reverse(
                    "goals:check_in_key_results", kwargs={"org_slug": self.organization.slug}
                )
                + query,
            }
        )


class CheckInKeyResultSearchView(CheckInPage):
    """Key results to link a priority to, found as the author types (htmx), the chosen one first.

    For htmx it answers the radio buttons of one priority row (``?row=``); opened directly, it is a page
    listing the key results of the week with their line of sight.
    """

    template_name = "goals/checkin_key_results.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        week = self.chosen_week()
        raw_row = request.GET.get("row", "1")
        row = int(raw_row) if raw_row.isascii() and raw_row.isdigit() and len(raw_row) < 3 else 1
        row = min(max(row, 1), MAX_CHECK_IN_PRIORITIES)
        prefix = f"priority-{row}"
        query = (request.GET.get(f"{prefix}-search") or request.GET.get("q") or "")[:SEARCH_MAX_LENGTH]
        link = request.GET.get(f"{prefix}-link", "")[:MAX_ID_DIGITS]
        chosen = linkable_key_result(link)
        found = key_result_search(
            self.membership,
            query,
            week=week,
            limit=SEARCH_RESULTS_SHOWN if query.strip() else OWN_CHOICES_SHOWN,
        )
        context = {
            "week": week,
            "row": row,
            "query": query,
            "found": found,
            "options": _choices_with(chosen, found, self.membership),
            "link_value": str(chosen.pk) if chosen is not None else "",
        }
        if request.htmx:  # type: ignore[attr-defined]
            return self.render_part("kr-options", context)
        return self.render_page(context)


# --- A check-in and its replies ---------------------------------------------------------------------


class CheckInDetailView(CheckInPage):
    template_name = "goals/checkin_detail.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.detail(self.check_in())

    def detail(self, check_in: CheckIn, **extra: Any) -> HttpResponse:
        viewer = self.membership
        shown = shown_check_in(check_in, viewer, check_in_replies(check_in))
        pulse = (
            PulseAnswer.objects.filter(membership=viewer, week=check_in.week).first()
            if check_in.membership_id == viewer.pk
            else None
        )
        return self.render_page(
            {
                "shown": shown,
                "check_in": check_in,
                "is_author": check_in.membership_id == viewer.pk,
                "week_end": check_in.week + timedelta(days=6),
                "pulse": pulse,
                "pulse_question": PULSE_QUESTION,
                "may_open_agenda": check_in.membership_id != viewer.pk,
                **extra,
            }
        )


class CheckInReplyView(CheckInDetailView):
    """Reply on a check-in: from the detail page, or inline from the team inbox (htmx)."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        check_in = self.check_in()
        text = str(request.POST.get("text") or "")
        errors: list[str] = []
        try:
            checkins.check_in_reply(check_in=check_in, by=self.membership, text=text)
        except GoalValidationError as error:
            errors = [problem.message for problem in error.problems]
        if request.htmx:  # type: ignore[attr-defined]
            return self.render_part(
                "thread",
                {
                    "shown": shown_check_in(check_in, self.membership, check_in_replies(check_in)),
                    "reply_errors": errors,
                    "reply_text": text if errors else "",
                    "just_replied": not errors,
                },
            )
        if errors:
            return self.detail(check_in, reply_errors=errors, reply_text=text)
        messages.success(self.request, f"Reply sent to {check_in.membership.user.full_name}.")
        url = reverse(
            "goals:check_in_detail", kwargs={"org_slug": self.organization.slug, "check_in_id": check_in.pk}
        )
        return redirect(f"{url}#replies")


class CheckInDiscussedView(CheckInDetailView):
    """Mark a check-in discussed: for the people its author reports to."""

    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        check_in = self.check_in()
        if not may_mark_discussed(self.membership, check_in):
            refuse()
        check_in = checkins.check_in_mark_discussed(check_in=check_in, by=self.membership)
        if request.htmx:  # type: ignore[attr-defined]
            return self.render_part("discussed", {"shown": shown_check_in(check_in, self.membership)})
        messages.success(self.request, "Marked as discussed.")
        return redirect("goals:check_in_detail", org_slug=self.organization.slug, check_in_id=check_in.pk)


# --- The manager's side -----------------------------------------------------------------------------


@dataclass
class ShownInboxRow:
    row: InboxRow
    shown: ShownCheckIn | None


class TeamCheckInsView(CheckInPage):
    """The week's check-ins of everyone who reports to the viewer: who needs attention first."""

    template_name = "goals/checkin_team.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        week = self.chosen_week()
        rows = team_inbox(self.membership, week)
        check_in_ids = [row.check_in.pk for row in rows if row.check_in is not None]
        replies: dict[int, list[CheckInReply]] = defaultdict(list)
        for reply in (
            CheckInReply.objects.filter(check_in_id__in=check_in_ids)
            .select_related("author__user")
            .order_by("created_at", "pk")
        ):
            replies[reply.check_in_id].append(reply)
        shown = [
            ShownInboxRow(
                row=row,
                shown=shown_check_in(
                    row.check_in, self.membership, replies[row.check_in.pk], in_reporting_line=True
                )
                if row.check_in is not None
                else None,
            )
            for row in rows
        ]
        return self.render_page(
            {
                "week": week,
                "navigation": self.week_navigation(week),
                "due_at": self.due_at(week),
                "has_reports": bool(rows),
                "attention": [item for item in shown if item.row.rank == 0],
                "fine": [item for item in shown if item.row.rank == 1],
                "missing": [item for item in shown if item.row.rank == 2],
                "checked_in": len(check_in_ids),
                "everyone": len(rows),
            }
        )


class OneOnOneAgendaView(CheckInPage):
    """What to talk about with one report: their blockers, key results at risk and open questions."""

    template_name = "goals/checkin_agenda.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        report = get_object_or_404(
            Membership.objects.select_related("user", "team", "manager__user"),
            pk=self.kwargs["membership_id"],
        )
        agenda = one_on_one_agenda(self.membership, report)
        recent = list(
            CheckIn.objects.filter(
                membership=report, state=CheckInState.SUBMITTED, week__gte=agenda.since
            ).order_by("-week")
        )
        # Each blocker can be marked discussed from here: everyone on the agenda reports to the viewer.
        blocker_items = [
            (item, shown_check_in(item.check_in, self.membership, in_reporting_line=True))
            for item in agenda.blockers
        ]
        return self.render_page(
            {
                "report": report,
                "agenda": agenda,
                "blocker_items": blocker_items,
                "recent": recent,
                "key_result_items": [
                    (
                        item,
                        line_of_sight_sentence(item.key_result, viewer=self.membership)
                        if item.key_result is not None
                        else "",
                    )
                    for item in agenda.key_results
                ],
                "current_week": organization_week(self.membership),
            }
        )
