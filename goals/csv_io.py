"""Goals, key results and KPIs in and out of CSV: a template, an export, and an import with a dry run.

One file format describes all three: each row says what it is in the ``kind`` column (objective,
key_result or kpi) and fills the columns that kind uses. Rows point at each other through the ``ref``
column — a key result names its objective, an objective its parent, a KPI the objectives it guards —
or at goals already in the cycle by their title. ``COLUMN_HELP`` documents every column.

An import checks every row before anything is saved and reports each row's problems (row numbers as
a spreadsheet shows them: the header is row 1). It then writes through ``goals.services`` inside one
transaction, as given — warnings are kept on the goals, not enforced — so the services' own rules are
applied to every row too. A dry run, or a file with any error, rolls that transaction back: nothing is
saved unless everything is.

Owners and contributors are found by e-mail among the active members of the organisation in context;
anyone else's address is unknown.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from goals import guardrails, services, validation
from goals.models import (
    KPI,
    Cycle,
    Direction,
    KeyResult,
    KeyResultContributor,
    Level,
    Objective,
    ObjectiveState,
    ObjectiveType,
)
from goals.selectors import cascade_for_cycle
from okrsignal.models import Membership, Team, normalize_email_address
from okrsignal.tenancy import require_same_organization


class Kind(StrEnum):
    OBJECTIVE = "objective"
    KEY_RESULT = "key_result"
    KPI = "kpi"


COLUMN_HELP: dict[str, str] = {
    "kind": "What the row describes: objective, key_result or kpi.",
    "ref": "A short name of your choosing (O1, K1…) that other rows of the file use to point at this row.",
    "title": "The objective's or key result's title, or the KPI's name.",
    "description": "Objectives: what the objective means, in a sentence or two.",
    "level": "Objectives: company, team or individual.",
    "type": "Objectives: committed (the default) or aspirational.",
    "state": "Objectives: draft, active (the default), paused, cancelled or done.",
    "parent": "Objectives: the parent objective, by its ref in this file or its title in the cycle.",
    "objective": "Key results: their objective, by its ref in this file or its title in the cycle.",
    "owner_email": "The owner's e-mail address, as they sign in with; they must be an active member.",
    "team": "The team's name, as it appears on the people pages.",
    "weight": "Objectives and key results: their weight in roll-ups (1 by default).",
    "unit": "Key results and KPIs: what is measured (%, €, tickets…).",
    "baseline": "Key results: the value at the start. A plain number: 0.7, not 70% or 0,7.",
    "target": "Key results: the value to reach; it must differ from the baseline.",
    "direction": "increase or decrease. Key results: worked out from baseline and target if left empty.",
    "current_value": "Key results: the value now, if known.",
    "confidence": "Key results: the owner's confidence of reaching the target, from 0 to 1.",
    "contributors": "Key results: e-mail addresses of the other people working on it, separated by ';'.",
    "parent_key_result": "Key results: the key result it rolls up into, by ref or by title in the cycle.",
    "green": "KPIs: the threshold at or beyond which the KPI is green.",
    "red": "KPIs: the threshold at or beyond which the KPI is red.",
    "tagged_objectives": "KPIs: the objectives it guards, by ref or title, separated by ';'.",
}
COLUMNS = list(COLUMN_HELP)
REQUIRED_COLUMNS = ("kind", "title")
# Cells a spreadsheet would run as a formula are written with a leading apostrophe, and read back without.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Each row goes through the services in one transaction; larger files are split by whoever makes them.
MAX_ROWS = 2000


@dataclass(frozen=True)
class RowProblem:
    """A problem with one cell (``column``) of one row; ``column`` is empty when the whole row is at fault."""

    row: int
    column: str
    message: str
    is_warning: bool = False


@dataclass
class ImportReport:
    dry_run: bool
    saved: bool
    problems: list[RowProblem]
    # How many of each kind were saved, or would be by a real import when there are no errors.
    counts: dict[str, int] = field(default_factory=lambda: {kind.value: 0 for kind in Kind})
    reused_kpis: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[RowProblem]:
        return [problem for problem in self.problems if not problem.is_warning]

    @property
    def warnings(self) -> list[RowProblem]:
        return [problem for problem in self.problems if problem.is_warning]

    @property
    def ok(self) -> bool:
        return not self.errors


# --- Writing ---------------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _write(rows: Iterable[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: _cell(row.get(column)) for column in COLUMNS})
    return out.getvalue()


def csv_template(*, owner_email: str = "") -> str:
    """The header and three example rows (an objective, its key result, a KPI guarding it).

    ``owner_email`` fills the owner column of the examples, so that they import as they stand.
    """
    return _write(
        [
            {
                "kind": Kind.OBJECTIVE,
                "ref": "O1",
                "title": "Make support answers fast and friendly",
                "description": "Customers get a useful answer on their first contact.",
                "level": Level.COMPANY,
                "type": ObjectiveType.COMMITTED,
                "state": ObjectiveState.ACTIVE,
                "owner_email": owner_email,
                "weight": 1.0,
            },
            {
                "kind": Kind.KEY_RESULT,
                "ref": "K1",
                "title": "First-contact resolution from 60% to 75%",
                "objective": "O1",
                "owner_email": owner_email,
                "unit": "%",
                "baseline": 60.0,
                "target": 75.0,
                "direction": Direction.INCREASE,
                "current_value": 60.0,
                "confidence": 0.5,
                "weight": 1.0,
            },
            {
                "kind": Kind.KPI,
                "ref": "P1",
                "title": "Customer satisfaction (CSAT)",
                "owner_email": owner_email,
                "unit": "%",
                "direction": Direction.INCREASE,
                "green": 90.0,
                "red": 80.0,
                "tagged_objectives": "O1",
            },
        ]
    )


def _email(membership: Membership | None) -> str:
    return membership.user.email if membership is not None else ""


def goals_export_csv(cycle: Cycle) -> str:
    """The cycle's objectives (parents first, each followed by its key results) and the organisation's KPIs,
    tagged to the cycle's objectives. ``goals_import_csv`` reads it back."""
    nodes = [node for node, _ in cascade_for_cycle(cycle).walk()]
    objective_refs = {node.objective.pk: f"O{number}" for number, node in enumerate(nodes, 1)}
    key_results = [kr for node in nodes for kr, _ in node.key_results]
    kr_refs = {kr.pk: f"K{number}" for number, kr in enumerate(key_results, 1)}
    contributors: dict[int, list[str]] = {}
    links = KeyResultContributor.objects.filter(key_result__objective__cycle=cycle).select_related(
        "membership__user"
    )
    for link in links.order_by("membership__user__email"):
        contributors.setdefault(link.key_result_id, []).append(link.membership.user.email)

    rows: list[dict[str, Any]] = []
    for node in nodes:
        objective = node.objective
        rows.append(
            {
                "kind": Kind.OBJECTIVE,
                "ref": objective_refs[objective.pk],
                "title": objective.title,
                "description": objective.description,
                "level": objective.level,
                "type": objective.type,
                "state": objective.state,
                "parent": objective_refs.get(objective.parent_id) if objective.parent_id else "",
                "owner_email": _email(objective.owner),
                "team": objective.team.name if objective.team else "",
                "weight": objective.weight,
            }
        )
        for kr, _ in node.key_results:
            rows.append(
                {
                    "kind": Kind.KEY_RESULT,
                    "ref": kr_refs[kr.pk],
                    "title": kr.title,
                    "objective": objective_refs[objective.pk],
                    "owner_email": _email(kr.owner),
                    "weight": kr.weight,
                    "unit": kr.unit,
                    "baseline": kr.baseline,
                    "target": kr.target,
                    "direction": kr.direction,
                    "current_value": kr.current_value,
                    "confidence": kr.confidence,
                    "contributors": "; ".join(contributors.get(kr.pk, [])),
                    "parent_key_result": kr_refs.get(kr.parent_key_result_id or 0, ""),
                }
            )
    kpis = KPI.objects.select_related("owner__user", "team").prefetch_related("objective_tags")
    for number, kpi in enumerate(kpis, 1):
        tagged = [
            objective_refs[tag.objective_id]
            for tag in kpi.objective_tags.all()
            if tag.objective_id in objective_refs
        ]
        rows.append(
            {
                "kind": Kind.KPI,
                "ref": f"P{number}",
                "title": kpi.name,
                "owner_email": _email(kpi.owner),
                "team": kpi.team.name if kpi.team else "",
                "unit": kpi.unit,
                "direction": kpi.direction,
                "green": kpi.green,
                "red": kpi.red,
                "tagged_objectives": "; ".join(sorted(tagged, key=lambda ref: int(ref[1:]))),
            }
        )
    return _write(rows)


# --- Reading ---------------------------------------------------------------------------------------------


@dataclass(eq=False)
class _Row:
    number: int
    kind: Kind
    cells: dict[str, str]
    values: dict[str, Any] = field(default_factory=dict)
    # Column → what each reference in it points at: another row of the file, or a saved goal.
    references: dict[str, list[_Row | Objective | KeyResult]] = field(default_factory=dict)
    has_errors: bool = False

    @property
    def ref(self) -> str:
        return self.cells.get("ref", "")

    def referenced_row(self, column: str) -> _Row | None:
        targets = self.references.get(column, [])
        return targets[0] if targets and isinstance(targets[0], _Row) else None


def _clean(cell: str) -> str:
    text = cell.strip()
    if text.startswith("'") and len(text) > 1 and text[1] in FORMULA_STARTS:
        return text[1:]
    return text


def _choice(text: str) -> str:
    return re.sub(r"[\s-]+", "_", text.strip().lower())


# Where a service's problem (by model field) is shown in the file (by column).
_FIELD_COLUMNS: dict[Kind, dict[str, str]] = {
    Kind.OBJECTIVE: {"owner": "owner_email", "state_reason": "state"},
    Kind.KEY_RESULT: {"owner": "owner_email", "parent": "parent_key_result"},
    Kind.KPI: {"name": "title", "objectives": "tagged_objectives"},
}


class _Import:
    def __init__(self, *, cycle: Cycle, by: Membership | None, at: datetime) -> None:
        self.cycle = cycle
        self.by = by
        self.at = at
        self.problems: list[RowProblem] = []
        self.members = {
            normalize_email_address(membership.user.email): membership
            for membership in Membership.objects.filter(is_active=True).select_related("user")
        }
        self.teams = {team.name.strip().lower(): team for team in Team.objects.all()}
        self.objectives_by_title: dict[str, list[Objective]] = {}
        for objective in Objective.objects.filter(cycle=cycle):
            self.objectives_by_title.setdefault(objective.title.strip().lower(), []).append(objective)
        self.key_results_by_title: dict[str, list[KeyResult]] = {}
        for kr in KeyResult.objects.filter(objective__cycle=cycle):
            self.key_results_by_title.setdefault(kr.title.strip().lower(), []).append(kr)
        self.kpis_by_name = {kpi.name.strip().lower(): kpi for kpi in KPI.objects.all()}
        self.rows: list[_Row] = []
        self.by_ref: dict[str, _Row] = {}
        self.saved: dict[int, Any] = {}
        self.report_counts: dict[str, int] = {kind.value: 0 for kind in Kind}
        self.reused_kpis: list[str] = []

    def problem(self, row: _Row | int, column: str, message: str, *, is_warning: bool = False) -> None:
        number = row if isinstance(row, int) else row.number
        self.problems.append(RowProblem(number, column, message, is_warning))
        if isinstance(row, _Row) and not is_warning:
            row.has_errors = True

    # Reading the file.

    def read(self, text: str) -> None:
        records = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        if not records or not any(cell.strip() for cell in records[0]):
            self.problem(1, "", "The file is empty: it needs a header row naming the columns.")
            return
        header = [_choice(cell) for cell in records[0]]
        for position, column in enumerate(header):
            if column not in COLUMN_HELP:
                self.problem(1, column, f"Unknown column '{records[0][position].strip()}'.")
            elif header.index(column) != position:
                self.problem(1, column, f"The column '{column}' appears twice.")
        for column in REQUIRED_COLUMNS:
            if column not in header:
                self.problem(1, column, f"The header needs a '{column}' column.")
        if self.problems:
            return
        if len(records) - 1 > MAX_ROWS:
            self.problem(1, "", f"The file has {len(records) - 1} rows; import at most {MAX_ROWS} at a time.")
            return
        for number, record in enumerate(records[1:], 2):
            if not any(cell.strip() for cell in record):
                continue
            if len(record) > len(header):
                self.problem(number, "", f"The row has {len(record)} cells; the header names {len(header)}.")
                continue
            cells = {column: _clean(cell) for column, cell in zip(header, record, strict=False)}
            kind_text = _choice(cells.get("kind", ""))
            if kind_text not in {kind.value for kind in Kind}:
                given = cells.get("kind", "")
                self.problem(
                    number,
                    "kind",
                    f"Unknown kind '{given}': write objective, key_result or kpi."
                    if given
                    else "Give the kind: objective, key_result or kpi.",
                )
                continue
            row = _Row(number=number, kind=Kind(kind_text), cells=cells)
            self.rows.append(row)
            if row.ref:
                if row.ref in self.by_ref:
                    self.problem(
                        row,
                        "ref",
                        f"The ref '{row.ref}' is used by row {self.by_ref[row.ref].number} already.",
                    )
                else:
                    self.by_ref[row.ref] = row
        for row in self.rows:
            {
                Kind.OBJECTIVE: self.check_objective,
                Kind.KEY_RESULT: self.check_key_result,
                Kind.KPI: self.check_kpi,
            }[row.kind](row)

    # Cell checks.

    def text(self, row: _Row, column: str, *, required: str = "") -> str:
        value = row.cells.get(column, "")
        if not value and required:
            self.problem(row, column, required)
        return value

    def number(
        self, row: _Row, column: str, *, required: bool = False, default: float | None = None
    ) -> float | None:
        text = row.cells.get(column, "")
        if not text:
            if required:
                self.problem(row, column, f"Give the {column.replace('_', ' ')} as a number.")
            return default
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            self.problem(
                row,
                column,
                f"'{text}' is not a number: write the figure alone, with a point for decimals (0.7), "
                "and the unit in the unit column.",
            )
            return default
        return value

    def choice(self, row: _Row, column: str, choices: type[models.TextChoices], *, default: str = "") -> str:
        text = row.cells.get(column, "")
        if not text:
            if not default:
                self.problem(row, column, f"Give the {column}: {self.listed(choices)}.")
            return default
        value = _choice(text)
        if value not in choices.values:
            self.problem(row, column, f"Unknown {column} '{text}': write {self.listed(choices)}.")
            return default
        return value

    @staticmethod
    def listed(choices: type[models.TextChoices]) -> str:
        values = list(choices.values)
        return ", ".join(values[:-1]) + f" or {values[-1]}"

    def member(self, row: _Row, column: str, email: str) -> Membership | None:
        membership = self.members.get(normalize_email_address(email))
        if membership is None:
            who = "owner e-mail" if column == "owner_email" else "e-mail"
            self.problem(
                row, column, f"Unknown {who} '{email}': no active member of this organisation has it."
            )
        return membership

    def owner(self, row: _Row) -> None:
        email = row.cells.get("owner_email", "")
        row.values["owner"] = self.member(row, "owner_email", email) if email else None

    def team(self, row: _Row) -> None:
        name = row.cells.get("team", "")
        row.values["team"] = self.teams.get(name.lower()) if name else None
        if name and row.values["team"] is None:
            self.problem(row, "team", f"Unknown team '{name}'.")

    def reference(
        self, row: _Row, column: str, token: str, *, kind: Kind, saved: Callable[[str], list[Any]]
    ) -> None:
        label = "objective" if kind == Kind.OBJECTIVE else "key result"
        label_with_article = "an objective" if kind == Kind.OBJECTIVE else "a key result"
        target = self.by_ref.get(token)
        if target is not None:
            if target.kind != kind:
                self.problem(
                    row,
                    column,
                    f"'{token}' is a {target.kind.replace('_', ' ')} row, not {label_with_article}.",
                )
                return
            if target is row:
                self.problem(row, column, f"A row cannot point at itself ('{token}').")
                return
            row.references.setdefault(column, []).append(target)
            return
        matches = saved(token.strip().lower())
        if len(matches) == 1:
            row.references.setdefault(column, []).append(matches[0])
        elif matches:
            self.problem(
                row, column, f"{len(matches)} {label}s in {self.cycle.name} are called '{token}'; use a ref."
            )
        else:
            what = {"parent": "parent", "parent_key_result": "parent key result"}.get(column, label)
            self.problem(
                row,
                column,
                f"Unknown {what} '{token}': no row of the file has that ref, "
                f"and no {label} in {self.cycle.name} has that title.",
            )

    def objective_reference(self, row: _Row, column: str, token: str) -> None:
        self.reference(
            row,
            column,
            token,
            kind=Kind.OBJECTIVE,
            saved=lambda title: self.objectives_by_title.get(title, []),
        )

    # Row checks.

    def check_objective(self, row: _Row) -> None:
        title = self.text(row, "title", required="Give the objective a title.")
        row.values["level"] = self.choice(row, "level", Level)
        row.values["type"] = self.choice(row, "type", ObjectiveType, default=ObjectiveType.COMMITTED)
        row.values["state"] = self.choice(row, "state", ObjectiveState, default=ObjectiveState.ACTIVE)
        row.values["weight"] = self.number(row, "weight", default=1.0)
        if row.values["weight"] is not None and row.values["weight"] < 0:
            self.problem(row, "weight", "A weight cannot be negative.")
        self.owner(row)
        self.team(row)
        if row.cells.get("parent"):
            self.objective_reference(row, "parent", row.cells["parent"])
        if title.lower() in self.objectives_by_title:
            self.problem(
                row,
                "title",
                f"An objective called '{title}' is in {self.cycle.name} already.",
                is_warning=True,
            )

    def check_key_result(self, row: _Row) -> None:
        self.text(row, "title", required="Give the key result a title.")
        objective = self.text(
            row, "objective", required="Name the key result's objective: its ref in this file or its title."
        )
        if objective:
            self.objective_reference(row, "objective", objective)
        unit = row.cells.get("unit", "")
        baseline = self.number(row, "baseline", required=True)
        target = self.number(row, "target", required=True)
        direction_text = row.cells.get("direction", "")
        direction = self.choice(row, "direction", Direction, default="") if direction_text else ""
        if baseline is not None and target is not None:
            direction = direction or (Direction.INCREASE if target >= baseline else Direction.DECREASE)
            for problem in validation.key_result_measurability_problems(
                unit=unit, baseline=baseline, target=target, direction=direction
            ):
                self.problem(row, problem.field, problem.message)
        elif not unit:
            self.problem(row, "unit", "Missing unit: say what is measured (%, €, tickets…).")
        row.values.update(unit=unit, baseline=baseline, target=target, direction=direction or None)
        row.values["current_value"] = self.number(row, "current_value")
        row.values["confidence"] = self.number(row, "confidence")
        if row.values["confidence"] is not None and not 0 <= row.values["confidence"] <= 1:
            self.problem(row, "confidence", "Confidence is between 0 and 1.")
            row.values["confidence"] = None
        row.values["weight"] = self.number(row, "weight", default=1.0)
        if row.values["weight"] is not None and row.values["weight"] < 0:
            self.problem(row, "weight", "A weight cannot be negative.")
        self.owner(row)
        row.values["contributors"] = [
            membership
            for email in re.split(r"[;,]", row.cells.get("contributors", ""))
            if email.strip() and (membership := self.member(row, "contributors", email.strip())) is not None
        ]
        if row.cells.get("parent_key_result"):
            self.reference(
                row,
                "parent_key_result",
                row.cells["parent_key_result"],
                kind=Kind.KEY_RESULT,
                saved=lambda title: self.key_results_by_title.get(title, []),
            )

    def check_kpi(self, row: _Row) -> None:
        name = self.text(row, "title", required="Give the KPI a name in the title column.")
        unit = self.text(row, "unit", required="Missing unit: say what is measured (%, €, tickets…).")
        direction = self.choice(row, "direction", Direction)
        green = self.number(row, "green", required=True)
        red = self.number(row, "red", required=True)
        if (
            direction
            and green is not None
            and red is not None
            and not guardrails.thresholds_are_consistent(direction=direction, green=green, red=red)
        ):
            better = "below" if direction == Direction.DECREASE else "above"
            self.problem(row, "green", f"For a KPI that should {direction}, green must be {better} red.")
        row.values.update(name=name, unit=unit, direction=direction, green=green, red=red)
        self.owner(row)
        self.team(row)
        for token in row.cells.get("tagged_objectives", "").split(";"):
            if token.strip():
                self.objective_reference(row, "tagged_objectives", token.strip())
        duplicate = next(
            (
                other
                for other in self.rows
                if other.kind == Kind.KPI
                and other is not row
                and other.number < row.number
                and other.cells.get("title", "").lower() == name.lower()
            ),
            None,
        )
        if duplicate is not None:
            self.problem(row, "title", f"Row {duplicate.number} describes the KPI '{name}' already.")
        existing = self.kpis_by_name.get(name.lower())
        if existing is not None and not row.has_errors:
            same = (existing.unit, existing.direction, existing.green, existing.red) == (
                unit,
                direction,
                green,
                red,
            )
            if same:
                row.values["existing"] = existing
            else:
                self.problem(
                    row,
                    "title",
                    f"A KPI called '{existing.name}' exists already with other settings "
                    f"({existing.unit}, {existing.direction}, "
                    f"green {existing.green:g}, red {existing.red:g}); "
                    "change it on its page, or give this one another name.",
                )

    # Ordering: a row is saved after the row it points at.

    def ordered(self, kind: Kind, column: str) -> list[_Row]:
        rows = [row for row in self.rows if row.kind == kind]
        ordered: list[_Row] = []
        state: dict[int, str] = {}
        for row in rows:
            chain: list[_Row] = []
            node: _Row | None = row
            while node is not None and node.number not in state:
                state[node.number] = "visiting"
                chain.append(node)
                node = node.referenced_row(column)
            if node is not None and state[node.number] == "visiting":
                loop = chain[chain.index(node) :]
                numbers = ", ".join(str(member.number) for member in loop)
                for member in loop:
                    self.problem(member, column, f"Rows {numbers} point at each other in a loop.")
            for member in reversed(chain):
                state[member.number] = "done"
                ordered.append(member)
        return ordered

    # Saving through the services.

    def target(self, reference: _Row | Objective | KeyResult) -> Any:
        """The saved goal a reference points at, or None when its row could not be saved."""
        return self.saved.get(reference.number) if isinstance(reference, _Row) else reference

    def targets(self, row: _Row, column: str) -> list[Any] | None:
        found = [self.target(reference) for reference in row.references.get(column, [])]
        return None if any(goal is None for goal in found) else found

    def attempt(self, row: _Row, service: Callable[..., Any], **arguments: Any) -> None:
        try:
            goal = service(by=self.by, at=self.at, **arguments)
        except validation.GoalValidationError as error:
            for problem in error.problems:
                self.problem(row, self.column_for(row, problem.field), problem.message)
            return
        self.saved[row.number] = goal
        self.report_counts[row.kind.value] += 1
        for warning in getattr(goal, "warnings", []):
            self.problem(row, self.column_for(row, warning["field"]), warning["message"], is_warning=True)

    @staticmethod
    def column_for(row: _Row, model_field: str) -> str:
        column = _FIELD_COLUMNS[row.kind].get(model_field, model_field)
        return column if column in COLUMN_HELP else ""

    def save(self) -> None:
        for row in self.ordered(Kind.OBJECTIVE, "parent"):
            parents = self.targets(row, "parent")
            if row.has_errors or parents is None:
                continue
            self.attempt(
                row,
                services.objective_create,
                cycle=self.cycle,
                title=row.cells["title"],
                description=row.cells.get("description", ""),
                level=row.values["level"],
                owner=row.values["owner"],
                team=row.values["team"],
                parent=parents[0] if parents else None,
                type=row.values["type"],
                state=row.values["state"],
                weight=row.values["weight"],
                as_given=True,
            )
        for row in self.ordered(Kind.KEY_RESULT, "parent_key_result"):
            objectives = self.targets(row, "objective")
            parents = self.targets(row, "parent_key_result")
            if row.has_errors or not objectives or parents is None:
                continue
            self.attempt(
                row,
                services.key_result_create,
                objective=objectives[0],
                title=row.cells["title"],
                unit=row.values["unit"],
                baseline=row.values["baseline"],
                target=row.values["target"],
                direction=row.values["direction"],
                owner=row.values["owner"],
                contributors=row.values["contributors"],
                parent_key_result=parents[0] if parents else None,
                current_value=row.values["current_value"],
                confidence=row.values["confidence"],
                weight=row.values["weight"],
                as_given=True,
            )
        for row in self.rows:
            tagged = self.targets(row, "tagged_objectives")
            if row.kind != Kind.KPI or row.has_errors or tagged is None:
                continue
            if "existing" in row.values:
                services.kpi_tag_objectives(
                    kpi=row.values["existing"], objectives=tagged, by=self.by, at=self.at
                )
                self.reused_kpis.append(row.values["existing"].name)
                continue
            self.attempt(
                row,
                services.kpi_create,
                name=row.values["name"],
                unit=row.values["unit"],
                direction=row.values["direction"],
                green=row.values["green"],
                red=row.values["red"],
                owner=row.values["owner"],
                team=row.values["team"],
                objectives=tagged,
            )


def goals_import_csv(
    *, text: str, cycle: Cycle, by: Membership | None, dry_run: bool, at: datetime | None = None
) -> ImportReport:
    """Check every row, then save them all through the services in one transaction — or nothing.

    With ``dry_run`` the rows go through the services as well, so their rules are checked too, and the
    transaction is rolled back. A KPI that exists already with the same settings is reused and tagged to
    the objectives the row names; one with other settings is an error.
    """
    require_same_organization(cycle, by)
    if cycle.closed_at is not None:
        raise validation.GoalValidationError(
            [
                validation.Problem(
                    "cycle", "cycle_closed", f"The cycle {cycle.name} is closed; it takes no new goals."
                )
            ]
        )
    with transaction.atomic():
        run = _Import(cycle=cycle, by=by, at=at or timezone.now())
        run.read(text)
        run.save()
        errors = any(not problem.is_warning for problem in run.problems)
        if dry_run or errors:
            transaction.set_rollback(True)
    return ImportReport(
        dry_run=dry_run,
        saved=not dry_run and not errors,
        problems=sorted(run.problems, key=lambda problem: problem.row),
        counts=run.report_counts,
        reused_kpis=run.reused_kpis,
    )
