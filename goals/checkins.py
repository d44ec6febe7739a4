"""Every write to weekly check-ins: drafts, submissions, replies, "discussed", pulse answers, reminders sent.

A check-in is keyed by its author and its week (the Monday that starts the week in the organisation's
time zone, ``goals.checkin_weeks``), so saving or submitting for a week that has a check-in changes it,
never adds a second one. Drafts save whatever is well formed, however incomplete; submitting asks for a
complete check-in (``check_in_submit``). Broken rules raise ``GoalValidationError`` with ``Problem``s
named by field path: ``blockers``, ``priorities.1.key_result``, ``key_result_updates.0.value`` (list
positions count from 0, in the order given).

All functions take an optional ``at`` (when it happened; defaults to now) so that a replayed or demo
history carries the times things happened. Submitted check-ins, their priorities and key result updates
are kept in history from the first submission on; drafts are not (they save themselves every few seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from alignment import triggers as drift_triggers
from goals import services as goal_services
from goals.checkin_selectors import (
    linkable_key_results,
    may_mark_discussed,
    may_see_check_in,
    organization_week,
    own_key_results,
    previous_check_in,
)
from goals.line_of_sight import line_of_sight_sentence
from goals.models import (
    MAX_CHECK_IN_PRIORITIES,
    CheckIn,
    CheckInKeyResultUpdate,
    CheckInPriority,
    CheckInReminder,
    CheckInReply,
    CheckInState,
    KeyResult,
    KeyResultStatus,
    PulseAnswer,
    ReminderChannel,
    ReminderKind,
)
from goals.permissions import may_record_progress
from goals.validation import GoalValidationError, Problem, figure_problems
from okrsignal.models import Membership
from okrsignal.tenancy import require_relations_in_organization, require_same_organization

PRIORITY_TEXT_LENGTH = 300
TEXT_LENGTH = 5000
CHECK_IN_TEXT_FIELDS = ("blockers", "upward_feedback", "next_week_success")
PULSE_SCORES = range(1, 6)


@dataclass(frozen=True)
class PriorityEntry:
    """One of the week's outcomes as the author gave it. An entry with no text, no key result and not
    marked unlinked is an empty row of the form, and is left out."""

    text: str = ""
    key_result: KeyResult | None = None
    unlinked: bool = False

    @property
    def is_empty(self) -> bool:
        return not self.text.strip() and self.key_result is None and not self.unlinked


@dataclass(frozen=True)
class KeyResultUpdateEntry:
    """The author's word on one key result: a status (blank while drafting), an optional value, a note."""

    key_result: KeyResult
    status: str = ""
    value: float | None = None
    note: str = ""


@dataclass
class _Content:
    """A check-in's parts as they would be after a change: each entry with its position in the list given."""

    priorities: list[tuple[int, PriorityEntry]]
    key_result_updates: list[tuple[int, KeyResultUpdateEntry]]
    texts: dict[str, str]


# --- Saving with or without history -----------------------------------------------------------------


def _save(instance: models.Model, *, by: Membership, at: datetime, history: bool, **save: Any) -> None:
    require_relations_in_organization(instance)
    if history:
        instance.__dict__.pop("skip_history_when_saving", None)
        instance._history_user = by.user  # type: ignore[attr-defined]
        instance._history_date = at  # type: ignore[attr-defined]
        instance.save(**save)
        return
    instance.skip_history_when_saving = True  # type: ignore[attr-defined]
    try:
        instance.save(**save)
    finally:
        del instance.skip_history_when_saving  # type: ignore[attr-defined]


def _delete(instance: models.Model, *, by: Membership, at: datetime, history: bool) -> None:
    if history:
        instance._history_user = by.user  # type: ignore[attr-defined]
        instance._history_date = at  # type: ignore[attr-defined]
    else:
        instance.skip_history_when_saving = True  # type: ignore[attr-defined]
    instance.delete()


# --- Rules ------------------------------------------------------------------------------------------


def _refuse(problems: list[Problem]) -> None:
    if problems:
        raise GoalValidationError(problems)


def _week_problems(*, author: Membership, week: date, at: datetime) -> list[Problem]:
    if week.weekday() != 0:
        return [Problem("week", "week_not_monday", f"A check-in week starts on a Monday; {week} is not one.")]
    if week > organization_week(author, at):
        return [Problem("week", "week_in_future", "Check in for this week or a past one, not a future week.")]
    return []


def _length_problems(field: str, text: str, limit: int) -> list[Problem]:
    length = len(text.strip())
    if length > limit:
        return [Problem(field, "text_too_long", f"Keep it to {limit} characters ({length} now).")]
    return []


def _draft_problems(content: _Content) -> list[Problem]:
    """What even a draft must respect: lengths, known statuses, figures within reason, five priorities."""
    problems: list[Problem] = []
    for field, text in content.texts.items():
        problems += _length_problems(field, text, TEXT_LENGTH)
    if len(content.priorities) > MAX_CHECK_IN_PRIORITIES:
        problems.append(
            Problem(
                "priorities",
                "too_many_priorities",
                f"Keep to the few outcomes that matter most: at most {MAX_CHECK_IN_PRIORITIES} "
                f"({len(content.priorities)} now).",
            )
        )
    for index, priority in content.priorities:
        problems += _length_problems(f"priorities.{index}.text", priority.text, PRIORITY_TEXT_LENGTH)
        if priority.key_result is not None and priority.unlinked:
            problems.append(
                Problem(
                    f"priorities.{index}.unlinked",
                    "linked_and_unlinked",
                    "A priority linked to a key result cannot also be marked unlinked.",
                )
            )
    seen: set[int] = set()
    for index, update in content.key_result_updates:
        path = f"key_result_updates.{index}"
        if update.key_result.pk in seen:
            problems.append(
                Problem(f"{path}.key_result", "key_result_twice", f"'{update.key_result}' is listed twice.")
            )
        seen.add(update.key_result.pk)
        if update.status and update.status not in KeyResultStatus.values:
            problems.append(
                Problem(f"{path}.status", "status_unknown", "The status is on_track, at_risk or blocked.")
            )
        for problem in figure_problems(value=update.value):
            problems.append(Problem(f"{path}.value", problem.code, problem.message))
        problems += _length_problems(f"{path}.note", update.note, TEXT_LENGTH)
    return problems


def _submission_problems(*, author: Membership, week: date, content: _Content) -> list[Problem]:
    """What a submitted check-in needs on top of the draft rules."""
    problems: list[Problem] = []
    if not content.priorities:
        problems.append(
            Problem(
                "priorities",
                "priorities_missing",
                f"Name this week's most important outcomes: two or three, at most {MAX_CHECK_IN_PRIORITIES}.",
            )
        )
    key_result_ids = {p.key_result.pk for _, p in content.priorities if p.key_result is not None}
    key_result_ids |= {u.key_result.pk for _, u in content.key_result_updates}
    linkable = set(linkable_key_results(week).filter(pk__in=key_result_ids).values_list("pk", flat=True))
    for index, priority in content.priorities:
        path = f"priorities.{index}"
        if not priority.text.strip():
            problems.append(Problem(f"{path}.text", "priority_text_missing", "Say what the outcome is."))
        if priority.key_result is None and not priority.unlinked:
            problems.append(
                Problem(
                    f"{path}.key_result",
                    "priority_link_missing",
                    "Link it to a key result, or mark it unlinked.",
                )
            )
        elif priority.key_result is not None and priority.key_result.pk not in linkable:
            problems.append(
                Problem(
                    f"{path}.key_result",
                    "key_result_not_current",
                    f"'{priority.key_result}' is not a key result of the current cycle.",
                )
            )
    for index, update in content.key_result_updates:
        path = f"key_result_updates.{index}"
        key_result = update.key_result
        if not update.status:
            problems.append(
                Problem(f"{path}.status", "status_missing", "Say whether it is on track, at risk or blocked.")
            )
        if key_result.pk not in linkable:
            problems.append(
                Problem(
                    f"{path}.key_result",
                    "key_result_not_current",
                    f"'{key_result}' is not a key result of the current cycle.",
                )
            )
        elif not may_record_progress(author, key_result):
            problems.append(
                Problem(
                    f"{path}.key_result",
                    "key_result_not_theirs",
                    f"Updates on '{key_result}' come from its owner, its contributors and their managers.",
                )
            )
    return problems


# --- Reading what is there and what a change would make of it ---------------------------------------


def _check_in_for_writing(*, author: Membership, week: date, at: datetime) -> CheckIn:
    """The author's check-in for the week, locked for this transaction; a new draft if there is none."""
    check_in = CheckIn.objects.select_for_update().filter(membership=author, week=week).first()
    if check_in is not None:
        return check_in
    check_in = CheckIn(membership=author, week=week, created_at=at, updated_at=at)
    check_in.organization_id = author.organization_id
    try:
        with transaction.atomic():
            _save(check_in, by=author, at=at, history=False)
    except IntegrityError:
        # Two saves raced to start the week's draft: the other one won, so change that one.
        return CheckIn.objects.select_for_update().get(membership=author, week=week)
    # A pulse answer given before the check-in was started belongs to it.
    PulseAnswer.objects.filter(membership=author, week=week, check_in=None).update(check_in=check_in)
    return check_in


def _stored_content(check_in: CheckIn) -> _Content:
    priorities = [
        (position, PriorityEntry(text=row.text, key_result=row.key_result, unlinked=row.unlinked))
        for position, row in enumerate(check_in.priorities.select_related("key_result").order_by("position"))
    ]
    updates = [
        (
            position,
            KeyResultUpdateEntry(
                key_result=row.key_result, status=row.status, value=row.value, note=row.note
            ),
        )
        for position, row in enumerate(
            check_in.key_result_updates.select_related("key_result").order_by("id")
        )
    ]
    texts = {field: getattr(check_in, field) for field in CHECK_IN_TEXT_FIELDS}
    return _Content(priorities=priorities, key_result_updates=updates, texts=texts)


def _merged_content(
    check_in: CheckIn,
    *,
    priorities: Sequence[PriorityEntry] | None,
    key_result_updates: Sequence[KeyResultUpdateEntry] | None,
    texts: dict[str, str | None],
) -> _Content:
    stored = _stored_content(check_in)
    if priorities is not None:
        stored.priorities = [(index, entry) for index, entry in enumerate(priorities) if not entry.is_empty]
    if key_result_updates is not None:
        stored.key_result_updates = list(enumerate(key_result_updates))
    for field, text in texts.items():
        if text is not None:
            stored.texts[field] = text
    return stored


def _store(check_in: CheckIn, content: _Content, *, by: Membership, at: datetime, history: bool) -> bool:
    """Write ``content`` into the check-in's rows, touching only what changed. True if anything did."""
    changed = False
    existing_priorities = {row.position: row for row in check_in.priorities.all()}
    for position, (_index, entry) in enumerate(content.priorities, start=1):
        row = existing_priorities.pop(position, None) or CheckInPriority(check_in=check_in, position=position)
        wanted: dict[str, Any] = {
            "text": entry.text.strip(),
            "key_result_id": entry.key_result.pk if entry.key_result is not None else None,
            "unlinked": entry.unlinked and entry.key_result is None,
        }
        if row.pk is None or any(getattr(row, field) != value for field, value in wanted.items()):
            for field, value in wanted.items():
                setattr(row, field, value)
            row.organization_id = check_in.organization_id
            _save(row, by=by, at=at, history=history)
            changed = True
    for row in existing_priorities.values():
        _delete(row, by=by, at=at, history=history)
        changed = True

    existing_updates = {row.key_result_id: row for row in check_in.key_result_updates.all()}
    for _index, update in content.key_result_updates:
        update_row = existing_updates.pop(update.key_result.pk, None) or CheckInKeyResultUpdate(
            check_in=check_in, key_result=update.key_result
        )
        wanted_update: dict[str, Any] = {
            "status": update.status,
            "value": update.value,
            "note": update.note.strip(),
        }
        if update_row.pk is None or any(getattr(update_row, f) != v for f, v in wanted_update.items()):
            for field, value in wanted_update.items():
                setattr(update_row, field, value)
            update_row.organization_id = check_in.organization_id
            _save(update_row, by=by, at=at, history=history)
            changed = True
    for update_row in existing_updates.values():
        _delete(update_row, by=by, at=at, history=history)
        changed = True

    for field, text in content.texts.items():
        if getattr(check_in, field) != text.strip():
            setattr(check_in, field, text.strip())
            changed = True
    return changed


def _texts(**texts: str | None) -> dict[str, str | None]:
    return texts


# --- A new week's starting point -------------------------------------------------------------------


@dataclass
class CheckInPrefill:
    """What a new week's check-in form starts from.

    ``previous`` is the author's last submitted check-in (shown beside the form). Its priorities are
    carried over (a key result that is no longer of the current cycle is dropped, leaving the choice
    open); the key results are the author's own and those they contribute to in the current cycle, each
    with the status last reported on it and no new value. ``line_of_sight`` gives the sentence for every
    key result named, by id.
    """

    week: date
    previous: CheckIn | None
    priorities: list[PriorityEntry]
    key_result_updates: list[KeyResultUpdateEntry]
    line_of_sight: dict[int, str]


def check_in_prefill(*, author: Membership, week: date) -> CheckInPrefill:
    """The starting point for the author's check-in of ``week``, from their previous one. Reads only."""
    previous = previous_check_in(author, week)
    key_results = list(own_key_results(author, week))
    last_status: dict[int, str] = {}
    for key_result_id, status in (
        CheckInKeyResultUpdate.objects.filter(
            check_in__membership=author,
            check_in__state=CheckInState.SUBMITTED,
            check_in__week__lt=week,
            key_result__in=[key_result.pk for key_result in key_results],
        )
        .order_by("key_result_id", "-check_in__week")
        .values_list("key_result_id", "status")
    ):
        last_status.setdefault(key_result_id, status)
    priorities: list[PriorityEntry] = []
    named = {key_result.pk: key_result for key_result in key_results}
    if previous is not None:
        carried = list(previous.priorities.all())
        linkable = set(
            linkable_key_results(week)
            .filter(pk__in=[row.key_result_id for row in carried if row.key_result_id])
            .values_list("pk", flat=True)
        )
        for row in carried:
            key_result = row.key_result if row.key_result_id in linkable else None
            priorities.append(PriorityEntry(text=row.text, key_result=key_result, unlinked=row.unlinked))
            if key_result is not None:
                named[key_result.pk] = key_result
    return CheckInPrefill(
        week=week,
        previous=previous,
        priorities=priorities,
        key_result_updates=[
            KeyResultUpdateEntry(key_result=key_result, status=last_status.get(key_result.pk, ""))
            for key_result in key_results
        ],
        line_of_sight={pk: line_of_sight_sentence(kr, viewer=author) for pk, kr in named.items()},
    )


# --- Drafts and submissions -------------------------------------------------------------------------


@transaction.atomic
def check_in_save_draft(
    *,
    author: Membership,
    week: date,
    priorities: Sequence[PriorityEntry] | None = None,
    key_result_updates: Sequence[KeyResultUpdateEntry] | None = None,
    blockers: str | None = None,
    upward_feedback: str | None = None,
    next_week_success: str | None = None,
    at: datetime | None = None,
) -> CheckIn:
    """Save the author's draft for the week, starting it if needed. Parts left as None stay as they are;
    ``priorities`` and ``key_result_updates``, when given, replace the lists.

    Incomplete is fine; malformed is refused (over-long text, more than five priorities, an unknown
    status, a figure beyond reason). A submitted check-in is not a draft any more: change it by
    submitting again.
    """
    at = at or timezone.now()
    require_same_organization(
        author,
        *(entry.key_result for entry in priorities or ()),
        *(entry.key_result for entry in key_result_updates or ()),
    )
    _refuse(_week_problems(author=author, week=week, at=at))
    check_in = _check_in_for_writing(author=author, week=week, at=at)
    if check_in.is_submitted:
        raise GoalValidationError(
            [
                Problem(
                    "state",
                    "check_in_submitted",
                    "This check-in has been submitted; submit it again to change it.",
                )
            ]
        )
    content = _merged_content(
        check_in,
        priorities=priorities,
        key_result_updates=key_result_updates,
        texts=_texts(blockers=blockers, upward_feedback=upward_feedback, next_week_success=next_week_success),
    )
    _refuse(_draft_problems(content))
    if _store(check_in, content, by=author, at=at, history=False):
        check_in.updated_at = at
        _save(check_in, by=author, at=at, history=False)
    return check_in


def check_in_submit(
    *,
    author: Membership,
    week: date,
    priorities: Sequence[PriorityEntry] | None = None,
    key_result_updates: Sequence[KeyResultUpdateEntry] | None = None,
    blockers: str | None = None,
    upward_feedback: str | None = None,
    next_week_success: str | None = None,
    at: datetime | None = None,
) -> CheckIn:
    """Submit the author's check-in for the week, with any last changes (as ``check_in_save_draft``).

    Submitted, it needs one to five priorities, each with its text and either a key result of the
    current cycle or marked unlinked, and a status for every key result it reports on, which must be one
    the author may update. Each new value is recorded as the key result's progress (with the note, at
    the time of submission). Submitting again for the week changes the same check-in; a value recorded
    before is not recorded twice.

    Not one transaction, on purpose: when a draft's submission is refused for something missing, the
    changes that were well formed are first saved to the draft, so nothing typed is lost. A submitted
    check-in is never left half-changed: its changes are checked in full before any is saved.
    """
    at = at or timezone.now()
    require_same_organization(
        author,
        *(entry.key_result for entry in priorities or ()),
        *(entry.key_result for entry in key_result_updates or ()),
    )
    _refuse(_week_problems(author=author, week=week, at=at))
    texts = _texts(blockers=blockers, upward_feedback=upward_feedback, next_week_success=next_week_success)
    with transaction.atomic():
        check_in = _check_in_for_writing(author=author, week=week, at=at)
        content = _merged_content(
            check_in, priorities=priorities, key_result_updates=key_result_updates, texts=texts
        )
        _refuse(_draft_problems(content))
        if not check_in.is_submitted and _store(check_in, content, by=author, at=at, history=False):
            check_in.updated_at = at
            _save(check_in, by=author, at=at, history=False)
    _refuse(_submission_problems(author=author, week=week, content=content))
    with transaction.atomic():
        check_in = CheckIn.objects.select_for_update().get(pk=check_in.pk)
        first_submission = not check_in.is_submitted
        _store(check_in, content, by=author, at=at, history=not first_submission)
        if first_submission:
            check_in.state = CheckInState.SUBMITTED
            check_in.submitted_at = at
            # From here on the check-in is kept in history: its first record is what was submitted.
            for row in [*check_in.priorities.all(), *check_in.key_result_updates.all()]:
                _save(row, by=author, at=at, history=True)
        check_in.manager_id = author.manager_id
        check_in.updated_at = at
        _save(check_in, by=author, at=at, history=True)
        _record_values(check_in, content, by=author, at=at)
        PulseAnswer.objects.filter(membership=author, week=week, check_in=None).update(check_in=check_in)
        drift_triggers.check_in_submitted(check_in)
    return check_in


def _record_values(check_in: CheckIn, content: _Content, *, by: Membership, at: datetime) -> None:
    """Record each new value as its key result's progress, through the goal services (one source of truth)."""
    positions = {update.key_result.pk: index for index, update in content.key_result_updates}
    rows = check_in.key_result_updates.select_related("key_result__objective__cycle").order_by("id")
    for row in rows:
        if row.value is None or row.value == row.recorded_value:
            continue
        index = positions[row.key_result_id]
        try:
            goal_services.key_result_record_progress(
                key_result=row.key_result,
                by=by,
                value=row.value,
                note=row.note or f"Weekly check-in, week of {check_in.week:%d %b %Y}",
                at=at,
            )
        except GoalValidationError as error:
            raise GoalValidationError(
                [
                    Problem(f"key_result_updates.{index}.value", problem.code, problem.message)
                    for problem in error.problems
                ]
            ) from error
        row.recorded_value = row.value
        _save(row, by=by, at=at, history=True, update_fields=["recorded_value"])


# --- The manager's side -----------------------------------------------------------------------------


@transaction.atomic
def check_in_reply(
    *, check_in: CheckIn, by: Membership, text: str, at: datetime | None = None
) -> CheckInReply:
    """Feedback on a submitted check-in, from anyone who may read it (its author answering, too)."""
    require_same_organization(check_in, by)
    if not may_see_check_in(by, check_in):
        raise PermissionDenied("Only the author and the people they report to reply to a check-in.")
    problems = []
    if not check_in.is_submitted:
        problems.append(
            Problem(
                "check_in", "check_in_not_submitted", "Replies go on submitted check-ins; this is a draft."
            )
        )
    if not text.strip():
        problems.append(Problem("text", "reply_empty", "Write the reply."))
    problems += _length_problems("text", text, TEXT_LENGTH)
    _refuse(problems)
    at = at or timezone.now()
    reply = CheckInReply(check_in=check_in, author=by, text=text.strip(), created_at=at)
    reply.organization_id = check_in.organization_id
    _save(reply, by=by, at=at, history=False)
    return reply


@transaction.atomic
def check_in_mark_discussed(*, check_in: CheckIn, by: Membership, at: datetime | None = None) -> CheckIn:
    """Someone the author reports to marks the check-in discussed (in a 1:1). The first time counts."""
    require_same_organization(check_in, by)
    if not may_mark_discussed(by, check_in):
        raise PermissionDenied("Only the people the author reports to mark their check-in discussed.")
    if not check_in.is_submitted:
        raise GoalValidationError(
            [Problem("state", "check_in_not_submitted", "Only a submitted check-in can be discussed.")]
        )
    if check_in.discussed_at is not None:
        return check_in
    at = at or timezone.now()
    check_in.discussed_at = at
    check_in.discussed_by = by
    _save(check_in, by=by, at=at, history=True, update_fields=["discussed_at", "discussed_by"])
    return check_in


# --- Pulse ------------------------------------------------------------------------------------------


@transaction.atomic
def pulse_answer_record(
    *, membership: Membership, score: int, week: date | None = None, at: datetime | None = None
) -> PulseAnswer:
    """Record "I can explain how my work supports company goals" (1 to 5) for the week; answering again
    in the same week changes the answer. The person's team is kept with it, as it is now."""
    at = at or timezone.now()
    week = week or organization_week(membership, at)
    problems = _week_problems(author=membership, week=week, at=at)
    if isinstance(score, bool) or not isinstance(score, int) or score not in PULSE_SCORES:
        problems.append(Problem("score", "score_range", "Answer with a whole number from 1 to 5."))
    _refuse(problems)
    answer = PulseAnswer.objects.select_for_update().filter(membership=membership, week=week).first()
    if answer is None:
        answer = PulseAnswer(membership=membership, week=week)
        answer.organization_id = membership.organization_id
    answer.score = score
    answer.team_id = membership.team_id
    answer.answered_at = at
    answer.check_in = CheckIn.objects.filter(membership=membership, week=week).first()
    _save(answer, by=membership, at=at, history=False)
    return answer


# --- Reminders --------------------------------------------------------------------------------------


def check_in_reminder_record(
    *, membership: Membership, week: date, kind: str, channel: str, at: datetime | None = None
) -> CheckInReminder | None:
    """Record that a reminder goes out; None if this one (person, week, kind, channel) already has.

    The unique constraint decides, so two workers racing to send the same reminder cannot both win.
    """
    if kind not in ReminderKind.values or channel not in ReminderChannel.values:
        raise ValueError(f"No reminder is sent {kind!r} by {channel!r}.")
    reminder = CheckInReminder(
        membership=membership, week=week, kind=kind, channel=channel, sent_at=at or timezone.now()
    )
    reminder.organization_id = membership.organization_id
    require_relations_in_organization(reminder)
    try:
        with transaction.atomic():
            reminder.save()
    except IntegrityError:
        return None
    return reminder
