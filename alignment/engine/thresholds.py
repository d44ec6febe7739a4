"""Every threshold the drift engine uses, in one place, each with the reason for its value.

The values are chosen for the general shape of a quarter, not for particular data: healthy work
varies by about a third from week to week, people take a week or two off, check-ins are weekly, and a
manager wants to hear about drift within a week or two of it starting. Shares and ratios are relative
to the goal's or person's own earlier weeks, so the same values hold for a three-person startup and a
two-thousand-person company, and whatever weights the signals carry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Thresholds:
    # --- Reading weekly activity -------------------------------------------------------------------
    # A week in which a group logged fewer than this share of its usual (median) number of signals is a
    # week away (holiday, sickness, an offsite): it is left out of shares instead of read as a drop.
    absent_week_fraction: float = 0.3

    # --- priority_shift: the responsible people's share of effort on the goal -----------------------
    # Weeks before the change-point needed to know what normal was. Two is the least that is not a
    # single week's accident; more would make a shift in week 3 undetectable before week 5.
    shift_min_baseline_weeks: int = 2
    # Weeks after the change-point, all of them low, before it is called a shift: one low week is a
    # quiet week or a holiday, two in a row are a pattern. It is also what resolves a shift: once a
    # recent week is back within the noise band, the condition no longer holds.
    shift_min_sustained_weeks: int = 2
    # The new regime's mean share must be at most half the baseline's. Natural variation of about
    # +/-30% never halves a two-week mean.
    shift_min_relative_drop: float = 0.5
    # Each sustained week must sit at least this far below the baseline mean: a week back within the
    # normal variation means effort came back.
    shift_noise_band: float = 0.3
    # Before the change the goal had at least this share of its people's activity; below it the goal
    # was never where their effort went, and a "drop" is noise on a small number.
    shift_min_baseline_share: float = 0.1
    # ... and at least this many linked signals a week: shares of two or three signals are noise.
    shift_min_baseline_signals_per_week: float = 3.0
    # ... and the drop in the share of signals must be this many standard errors (two-proportion z):
    # with a handful of signals a week, halving happens by chance, and the search over every possible
    # change-point week, repeated every week for every goal, needs a stricter bar than a single test.
    # Real shifts of a team's effort score far above it (8 to 25 in example quarters).
    shift_min_significance: float = 3.5
    # At least this share of the lost effort must have gone to work outside the people's own goals
    # (unlinked work, other people's key results): moving between one's own key results is a choice
    # within the goals, which stale_progress covers if the key result left behind stops moving.
    shift_min_off_goal_absorption: float = 0.5

    # --- stale_progress: behind pace and nothing moving it ------------------------------------------
    # Progress at least this far behind the calendar (as a fraction of the whole, about half a week of
    # a quarter). It is small on purpose: a goal that was a little ahead when it stopped is behind only
    # later, and the finding should come within a week of the stall. Lumpy updates alone cannot
    # trigger it, because the linked work must have stopped too.
    stale_min_pace_gap: float = 0.05
    # No change of progress for this long: check-ins are weekly, so two weeks is two missed chances.
    stale_quiet_period: timedelta = timedelta(days=14)
    # Linked activity in the quiet weeks at most this share of what the people who worked on it would
    # have given it at their earlier rate, given how active they were in those weeks (so holidays do
    # not count): a quarter of normal is "nothing", not a slow week.
    stale_max_activity_ratio: float = 0.25
    # Below this many linked signals a week (before the quiet weeks), a key result's work hardly shows in
    # the tools and "its work stopped" cannot be read from them. Only its numbers can say it is stale,
    # and then they must say it more clearly: no movement for three weeks, and a fifth of the way behind.
    stale_min_visible_signals_per_week: float = 2.0
    stale_unseen_quiet_period: timedelta = timedelta(days=21)
    stale_unseen_min_pace_gap: float = 0.2
    # A key result younger than this is not judged: it has had no time to move.
    stale_min_age: timedelta = timedelta(days=14)

    # --- status_contradiction: on track in check-ins, not in the work -------------------------------
    # "Keeps reporting": at least two on-track statuses since the work collapsed, at least one of
    # them given a full week after it, when the reporter could see it.
    contradiction_min_on_track_reports: int = 2

    # --- cascade_break ------------------------------------------------------------------------------
    # The owner has a week to re-confirm a child objective after its parent changed.
    cascade_grace: timedelta = timedelta(days=7)

    # --- kpi_conflict: green KPIs, objective off track ----------------------------------------------
    # An objective is off track when key results carrying at least this share of its weight are in
    # trouble (effort shifted away, stale, or reported at risk with stalled numbers), or when its
    # people's effort shifted away. Half: one troubled key result of three is a key result's problem.
    off_track_min_key_result_share: float = 0.5
    # "Stalled numbers": in each of the weeks of this period the key result gained less than this share
    # of the progress the calendar asks of a week. Two weeks, as for stale progress; a quarter of the
    # pace is a crawl, not a slow week.
    off_track_stall_period: timedelta = timedelta(days=14)
    off_track_max_progress_share: float = 0.25
    # "Reported at risk": the owner's latest status says at risk or blocked, and at least this many such
    # statuses (from anyone on it) came since it was last called on track. One worried check-in over a
    # key result that moves in steps is a week's mood; two are a view.
    off_track_min_worried_reports: int = 2

    # --- ownership_gap ------------------------------------------------------------------------------
    # The owner was around (not away) in at least this many trailing weeks and did nothing on it ...
    ownership_min_idle_weeks: int = 2
    # ... and, at the share of their activity they used to give it, the chance that none of what they
    # did since would have landed on it is at most this: 1 - share to the power of their signals since.
    # It is asked every week of every key result, and work comes in bursts more than chance assumes,
    # so it is small (about a Poisson zero at eight expected).
    ownership_max_chance: float = 0.0003
    # When the owner has also stopped giving its values and statuses while others give them, that is
    # evidence of its own, and less is asked of the silence in the work (an owner who did mostly this
    # and now none of it is then found after two weeks of a few signals each).
    ownership_max_chance_handed_over: float = 0.005
    # Only an owner who gave it at least this share of their activity is judged by their silence: for
    # someone who touches many goals a little (a CEO's one signal a week here), weeks without any on
    # this one are how their work comes in bursts, not an absence.
    ownership_min_share: float = 0.2
    # Their earlier share counts when it rests on this many weeks and signals on it; otherwise the share
    # the owner typically gives each of their goals stands in for it (stray signals are no history).
    ownership_min_history_weeks: int = 2
    ownership_min_history_signals: float = 5.0

    # --- dependency_friction ------------------------------------------------------------------------
    # "More than a few days": a blocker cleared within half a working week is normal coordination.
    dependency_min_blocked: timedelta = timedelta(days=4)

    # --- invisible contributions --------------------------------------------------------------------
    # Someone not credited on a key result did at least this share of its linked work (one person in
    # twenty on a busy key result is real help) ...
    contribution_min_share: float = 0.05
    # ... over at least this many distinct weeks (not a one-off comment) ...
    contribution_min_weeks: int = 2
    # ... with at least this many signals.
    contribution_min_signals: int = 5

    # --- Explanations -------------------------------------------------------------------------------
    # A second absorbing piece of work is named when it took at least this share of the first one's gain.
    explain_second_theme_ratio: float = 0.4


DEFAULT_THRESHOLDS = Thresholds()
