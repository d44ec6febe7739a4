"""The project's own scenarios, told as short stories and generated into ``alignment/scenarios/*.json``.

Run ``python -m alignment.scenarios.stories`` to regenerate every file; the generator is seeded, so the
files come out byte for byte the same each time. Each story below sets up an organisation, its OKRs and
KPIs, how its Jira, Slack and HubSpot work maps to key results, and then who works on what, week by week.
The toolkit (``toolkit.py``, ``vendors.py``) turns that into vendor payloads, check-ins, KR updates,
KPI readings and pulses, with everyday noise: people's output varies week to week, holidays and vacation
weeks, unlinked chores and support tickets, chatter in unmapped channels, skipped and late updates.

``expect`` in each file is written from what the story makes happen, never from an engine's output.
Onsets are the cycle week in which the story's change happens (week n covers days 7(n-1) to 7n-1 from
the cycle start); ``tolerance_weeks`` is 1 throughout.

The stories
-----------

``soc2-pivot`` (Brightwell, 22 people)
    From week 5 the activation squad moves from its two key results' epics and channels to an unmapped
    SSO / SOC 2 epic demanded by a prospect, and the PM to the prospect's procurement asks. Their
    check-ins keep reporting ``on_track`` and the KR values stop moving. Expected: ``priority_shift`` on
    KR-ACT-1 and KR-ACT-2 (onset 5, when their effort moved) and ``status_contradiction`` on both (onset
    6: the first full week of on-track claims against linked work that has dried up). Meanwhile a platform
    engineer, on no activation KR, spends a third of his time from week 4 fixing the workspace import in
    the activation epic: a ``contribution`` to KR-ACT-1. Customer success (KR-ACT-3), platform, security,
    marketing and sales progress normally and are quiet.

``green-kpis`` (Fernhill Health, 24 people)
    The company objective to move clinics onto the new scheduler falls behind from week 4: the migration
    work carries on, but clinics stall on data-quality problems, values flatten and check-ins honestly say
    ``at_risk``. The KPIs tagged to that objective (legacy scheduler uptime, support backlog, legacy
    renewals) stay green all quarter: ``kpi_conflict`` on O-CLINICS, onset 4. Separately the insights KR
    loses its owner's updates after week 4 and its engineers drift to an unmapped warehouse migration from
    week 5; by week 6 it is clearly behind pace with nothing moving it: ``stale_progress`` on KR-INS-1,
    onset 6. Reliability, support and growth marketing are quiet.

``steady-quarter`` (Kestrel Freight, 25 people)
    Nothing drifts. Every key result is worked on by its people and progresses at or ahead of pace; the
    noise is realistic: a public holiday, vacation weeks, support tickets and chores, chatter, a cross-team
    blocker resolved the same day, a KR title reworded, a company KR target raised with every child
    objective re-confirmed within two days, an amber KPI week. ``expect.findings`` is empty; every
    objective and key result is quiet.

``reorg-cascade`` (Orbital Learning, 26 people)
    In week 6 the company objective is rewritten to take in community colleges. The Schools team
    re-confirms its objective two days later; the Partnerships team never does: ``cascade_break`` on
    O-PARTNERS, onset 6. In week 4 the AI team adds a team objective with no parent and never reviews it:
    ``cascade_break`` on O-TUTOR, onset 4. In week 9 Operations is re-parented and confirmed within three
    days, and in week 10 a company KR target is raised and Schools re-confirms the next day: both quiet.

``blocked-checkout`` (Cobalt Pay, 27 people)
    From week 4 the checkout team's issues for KR-CHK-1 are "blocked by" platform issues that the
    platform team, busy with its own key result, leaves until week 10: ``dependency_friction`` on
    KR-CHK-1, onset 4. From week 4 the owner of KR-CHK-2 moves to lead a payouts initiative and does
    nothing more on it while its contributors keep shipping and post the updates: ``ownership_gap`` on
    KR-CHK-2, onset 4. The platform KR and the others are quiet.

``renewal-pull`` (Tessera Analytics, 24 people)
    From week 6 the account executives' calls, meetings and e-mails move from new-business deals to the
    renewals pipeline, which no key result maps; new-business deals stop changing stage:
    ``priority_shift`` on KR-NB-1, onset 6. The partner team's pipeline KR progresses normally and is
    quiet, as are customer success and product.

``mixed-quarter`` (Halden Systems, 39 people)
    Several of the above in different teams of one larger company: a priority shift with contradicting
    check-ins in the mobile team (weeks 6 and 7), a blocked integrations KR (week 5), a stale analytics
    KR (week 7), an ownership gap (week 3), KPIs green while the growth objective is off track (week 5),
    a cascade break after a rewrite (week 8), and an invisible contribution from a data engineer.

``demo-quarter`` (Northwind Analytics, 18 people; events up to week 7 only)
    The demo organisation, loaded "as of" week 7: the activation squad pulled onto an unmapped security
    review from week 4 (``priority_shift`` and ``status_contradiction`` on KR-ACT-1), a sales KR whose
    linked deals stall while the team works renewals from week 3 (``priority_shift``; the revenue objective
    then falls behind while its gross-margin KPI stays green: ``kpi_conflict``, week 4), a data KR blocked by
    platform issues since week 3 (``dependency_friction``), a team objective added without a parent in
    week 2 (``cascade_break``), and healthy goals beside them: company, team and individual objectives,
    a company objective sharpened in week 5 whose team objectives re-confirm within two days, and a
    dashboard engineer whose share of the guided onboarding work is an invisible ``contribution`` to
    KR-GUIDE-1. The line-of-sight pulse is weekly; the activation squad's answers drop from week 5.
    Because the file stops at week 7, an evaluation over the whole cycle would see every goal go silent
    afterwards, so its ``quiet`` list is empty and only findings with onsets up to week 5 are listed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from alignment.scenario import scenario_from_dict
from alignment.scenarios.toolkit import (
    AT_RISK_NOTES,
    HubSpotWork,
    JiraWork,
    SlackWork,
    Stream,
    World,
    on_pace,
    slows,
    stalls,
    weeks,
)

DIRECTORY = Path(__file__).resolve().parent

BUG_SUMMARIES = [
    "Fix flaky login test on CI",
    "Customer-reported: export times out for large workspaces",
    "Bump dependencies flagged by the security scanner",
    "Clean up feature flags that shipped last quarter",
    "Investigate memory growth in the worker pool",
    "Upgrade the ORM to the current minor release",
    "Error page shows a stack trace on bad input",
    "Remove the deprecated v1 webhook endpoint",
    "Speed up the integration test suite",
    "Typo in the password reset e-mail",
    "Retry storm after the cache restarts",
    "Date picker ignores the account's locale",
    "Tidy up logging noise from health checks",
    "Broken link in the in-app help panel",
    "Rotate the staging database credentials",
]
ENGINEERING_CHATTER = [
    "Deploy train leaves at 3, get your merges in.",
    "Staging is back up.",
    "Anyone know why the nightly build went red?",
    "Postmortem doc for Tuesday's incident is up, comments welcome.",
    "Reviewing PRs this afternoon, ping me if yours is urgent.",
    "Who owns the alert that fired at 2am?",
    "Rolling back the last release, error rate spiked.",
    "Reminder: dependency upgrade freeze starts Friday.",
    "CI queue is long today, the runners are being resized.",
    "The API docs build is fixed.",
]


def write_all(directory: Path = DIRECTORY) -> list[Path]:
    """Generate every story into ``directory`` and return the files written."""
    written = []
    for story in STORIES:
        document = story().build()
        file_name = f"{document['name']}.json"
        scenario_from_dict(document, file=file_name)  # a story that breaks the format fails here
        path = directory / file_name
        path.write_text(dump(document), encoding="utf-8")
        written.append(path)
    return written


def dump(document: dict[str, Any]) -> str:
    """Indented JSON with one event per line: readable, diffable and a third of the size."""
    marker = "@@events@@"
    text = json.dumps({**document, "events": marker}, ensure_ascii=False, indent=1)
    events = ",\n".join("  " + json.dumps(event, ensure_ascii=False) for event in document["events"])
    return text.replace(json.dumps(marker), "[\n" + events + "\n ]") + "\n"


# --- a) soc2-pivot --------------------------------------------------------------------------------------


def soc2_pivot() -> World:
    w = World(
        name="soc2-pivot",
        description=(
            "Brightwell, an e-signature and document-workflow company in Amsterdam, sets a Q3 objective to "
            "make enterprise onboarding effortless. In week 5 a large prospect, Halvorsen Bank, makes SAML "
            "SSO, SCIM and SOC 2 evidence a condition of signing. The activation squad moves to an unmapped "
            "SSO/SOC 2 epic and channel, the PM to the bank's procurement questions; nobody edits the OKRs "
            "and check-ins keep saying on_track. A platform engineer with no activation goal spends part of "
            "his time from week 4 fixing the slow workspace import in the activation epic. Customer success, "
            "platform, security, marketing and sales progress normally."
        ),
        seed=5101,
        organization="Brightwell",
        slug="brightwell",
        time_zone="Europe/Amsterdam",
        cycle_name="2026-Q3",
        start=date(2026, 7, 6),
        domain="brightwell.test",
    )
    for key, name, parent, lead in [
        ("exec", "Leadership", None, "ceo"),
        ("product", "Activation squad", "exec", "pm1"),
        ("platform", "Platform", "exec", "plat_lead"),
        ("security", "Security", "exec", "sec_lead"),
        ("cs", "Customer Success", "exec", "cs_lead"),
        ("marketing", "Growth Marketing", "exec", "mkt_lead"),
        ("sales", "Sales", "exec", "sales_lead"),
    ]:
        w.team(key, name, parent=parent, lead=lead)
    w.person("ceo", "Maren Visser", role="admin", team="exec", manager=None, tools="s")
    w.person("cto", "Jonas Albrecht", role="manager", team="exec", manager="ceo", tools="js")
    w.person("pm1", "Sanne de Wit", role="manager", team="product", manager="cto")
    w.person(
        "eng_lead", "Tobias Kranz", role="manager", team="product", manager="cto", time_zone="Europe/Berlin"
    )
    w.person("eng1", "Lea Hoffmann", team="product", manager="eng_lead", time_zone="Europe/Berlin")
    w.person("eng2", "Ruben Janssen", team="product", manager="eng_lead")
    w.person("eng3", "Amira Haddad", team="product", manager="eng_lead", time_zone="Europe/Lisbon")
    w.person("designer", "Kofi Mensah", team="product", manager="pm1", time_zone="Europe/London")
    w.person("plat_lead", "Elif Yildiz", role="manager", team="platform", manager="cto")
    w.person("sre1", "Pieter Bakker", team="platform", manager="plat_lead")
    w.person("sre2", "Chen Wei", team="platform", manager="plat_lead", time_zone="Europe/Berlin")
    w.person("plat_eng", "Mateo Rossi", team="platform", manager="plat_lead", time_zone="Europe/Rome")
    w.person(
        "sec_lead", "Hanna Berg", role="manager", team="security", manager="cto", time_zone="Europe/Stockholm"
    )
    w.person("sec_eng", "Oskar Lund", team="security", manager="sec_lead", time_zone="Europe/Stockholm")
    w.person("cs_lead", "Fatima Benali", role="manager", team="cs", manager="ceo", tools="sh")
    w.person("csm1", "Lars Nilsen", team="cs", manager="cs_lead", tools="sh", time_zone="Europe/Oslo")
    w.person("csm2", "Julia Novak", team="cs", manager="cs_lead", tools="sh", time_zone="Europe/Prague")
    w.person("mkt_lead", "Noah Peters", role="manager", team="marketing", manager="ceo")
    w.person("mkt1", "Eva Schmidt", team="marketing", manager="mkt_lead", time_zone="Europe/Berlin")
    w.person("sales_lead", "Victor Lambert", role="manager", team="sales", manager="ceo", tools="sh")
    w.person("ae1", "Nina Vos", team="sales", manager="sales_lead", tools="sh")
    w.person("ae2", "Samuel Okoro", team="sales", manager="sales_lead", tools="sh", time_zone="Europe/London")

    grow = w.objective(
        "O-GROW",
        "Make Brightwell the default for enterprise document workflows",
        level="company",
        owner="ceo",
    )
    w.key_result(
        grow,
        "KR-GROW-1",
        "Enterprise new ARR from EUR 0 to EUR 1.6M",
        owner="sales_lead",
        unit="EUR",
        baseline=0,
        target=1_600_000,
        contributors=["ae1", "ae2"],
    )
    rely = w.objective("O-RELY", "Run a platform enterprise customers trust", level="company", owner="cto")
    w.key_result(
        rely,
        "KR-RELY-1",
        "Signing service uptime from 99.90% to 99.95%",
        owner="plat_lead",
        unit="%",
        baseline=99.9,
        target=99.95,
        contributors=["sre1"],
    )
    act = w.objective(
        "O-ACT",
        "Make enterprise onboarding effortless",
        level="team",
        team="product",
        owner="pm1",
        parent="O-GROW",
        description="Enterprise workspaces that send their first signed workflow within 30 days.",
    )
    w.key_result(
        act,
        "KR-ACT-1",
        "Enterprise 30-day activation from 38% to 46%",
        owner="pm1",
        unit="%",
        baseline=38,
        target=46,
        contributors=["eng1", "eng2", "designer"],
    )
    w.key_result(
        act,
        "KR-ACT-2",
        "Median days to first signed workflow from 9 to 5",
        owner="eng_lead",
        unit="days",
        baseline=9,
        target=5,
        contributors=["eng3", "eng1"],
    )
    w.key_result(
        act,
        "KR-ACT-3",
        "New enterprise accounts completing the onboarding playbook from 55% to 75%",
        owner="cs_lead",
        unit="%",
        baseline=55,
        target=75,
        contributors=["csm1", "csm2"],
    )
    plat = w.objective(
        "O-PLAT",
        "Make shipping fast and boring",
        level="team",
        team="platform",
        owner="plat_lead",
        parent="O-RELY",
    )
    w.key_result(
        plat,
        "KR-PLAT-1",
        "API p95 latency from 420 ms to 300 ms",
        owner="sre2",
        unit="ms",
        baseline=420,
        target=300,
        contributors=["sre1"],
    )
    sec = w.objective(
        "O-SEC",
        "Close out the 2026 pen-test findings",
        level="team",
        team="security",
        owner="sec_lead",
        parent="O-RELY",
    )
    w.key_result(
        sec,
        "KR-SEC-1",
        "High and critical pen-test findings closed from 0 to 16",
        owner="sec_eng",
        unit="findings",
        baseline=0,
        target=16,
        contributors=[],
    )
    mkt = w.objective(
        "O-MKT",
        "Build a repeatable enterprise pipeline",
        level="team",
        team="marketing",
        owner="mkt_lead",
        parent="O-GROW",
    )
    w.key_result(
        mkt,
        "KR-MKT-1",
        "Enterprise MQLs from 0 to 160",
        owner="mkt_lead",
        unit="MQLs",
        baseline=0,
        target=160,
        contributors=["mkt1"],
    )
    w.kpi(
        "K-ERR",
        "API 5xx error rate",
        unit="%",
        direction="decrease",
        green=0.1,
        red=0.25,
        owner="plat_lead",
        team="platform",
        objectives=["O-PLAT"],
    )
    w.kpi(
        "K-NPS",
        "Enterprise admin NPS",
        unit="score",
        direction="increase",
        green=40,
        red=25,
        owner="cs_lead",
        team="cs",
        objectives=["O-GROW"],
    )

    w.project("ACT", "Activation", 1180)
    w.project("PLAT", "Platform", 2300)
    w.project("SEC", "Security", 40)
    w.project("MKT", "Marketing", 410)
    setup_epic = w.epic(
        "ACT", "Guided workspace setup for enterprise admins", owner="pm1", labels=["activation"]
    )
    templates_epic = w.epic(
        "ACT", "Templates and document import", owner="eng_lead", components=["Templates"]
    )
    latency_epic = w.epic("PLAT", "API latency budget", owner="sre2")
    uptime_epic = w.epic("PLAT", "Multi-AZ failover for the signing service", owner="plat_lead")
    soc2_epic = w.epic(
        "SEC", "SSO, SCIM and SOC 2 evidence for Halvorsen Bank", owner="cto", days_before_start=-30
    )
    demand_epic = w.epic("MKT", "Enterprise demand generation Q3", owner="mkt_lead")
    w.map("jira", {"epic": setup_epic.key}, "KR-ACT-1")
    w.map("jira", {"component": "Templates"}, "KR-ACT-2")
    w.map("jira", {"epic": latency_epic.key}, "KR-PLAT-1")
    w.map("jira", {"epic": uptime_epic.key}, "KR-RELY-1")
    w.map("jira", {"label": "pentest"}, "KR-SEC-1")
    w.map("jira", {"epic": demand_epic.key}, "KR-MKT-1")
    for channel, kr in [
        ("activation", "KR-ACT-1"),
        ("templates", "KR-ACT-2"),
        ("cs-onboarding", "KR-ACT-3"),
        ("perf", "KR-PLAT-1"),
        ("reliability", "KR-RELY-1"),
        ("demand-gen", "KR-MKT-1"),
        ("pentest", "KR-SEC-1"),
        ("enterprise-deals", "KR-GROW-1"),
    ]:
        w.map("slack", {"channel": w.slack.channel(channel)}, kr)
    w.map("hubspot", {"pipeline": "enterprise-onboarding"}, "KR-ACT-3")
    w.map("hubspot", {"pipeline": "enterprise-new"}, "KR-GROW-1")

    setup = w.stream(
        "guided setup",
        key_result="KR-ACT-1",
        priorities=[
            "Ship the setup checklist v2",
            "Close out the invite-step drop-off bugs",
            "Run the use-case picker experiment",
        ],
        jira=JiraWork(
            project="ACT",
            epic=setup_epic,
            labels=["activation"],
            summaries=[
                "Setup checklist: persist progress across sessions",
                "Invite step: bulk invite from CSV",
                "Use-case picker with six starter workflows",
                "Empty-state copy for the first workflow",
                "Track checklist completion events",
                "Admin console: show activation progress per workspace",
                "Invite step: resend expired invitations",
                "SSO-less admins: guided domain verification",
                "First-workflow wizard: pick signers from the directory",
                "Setup checklist: skip steps that do not apply",
                "Activation funnel dashboard for CS",
                "Workspace import: speed up the contacts step",
            ],
        ),
        slack=SlackWork(
            channel="activation",
            texts=[
                "Checklist v2 is on staging, please click through it.",
                "Drop-off at the invite step is down a little this week.",
                "Picking up {issue} next.",
                "Experiment readout for the use-case picker is in the doc.",
                "{issue} is ready for review.",
                "Activation cohort for June is in: 39.5%.",
                "Can someone from CS sanity-check the new empty states?",
            ],
        ),
    )
    templates = w.stream(
        "templates",
        key_result="KR-ACT-2",
        priorities=["Ship the three-step template install", "Word import: keep tables and signatures"],
        jira=JiraWork(
            project="ACT",
            epic=templates_epic,
            components=["Templates"],
            summaries=[
                "Template gallery: filter by department",
                "Word import: keep table layout",
                "Three-step template install",
                "Template preview renders signature fields",
                "PDF import: detect signature blocks",
                "Template gallery search",
                "Import: map form fields to roles",
                "Templates: duplicate and edit",
            ],
        ),
        slack=SlackWork(
            channel="templates",
            texts=[
                "Median time to first signed workflow this week: 8.1 days.",
                "{issue} merged.",
                "Word import now keeps tables, try it with your worst document.",
                "Who can review {issue}?",
            ],
        ),
    )
    squad_chores = w.stream(
        "squad chores",
        priorities=["Clear the customer-reported bug queue", "Keep the on-call queue down"],
        jira=JiraWork(project="ACT", summaries=BUG_SUMMARIES, types=("Bug", "Bug", "Task")),
        slack=SlackWork(channel="squad-activation", texts=ENGINEERING_CHATTER),
    )
    soc2 = w.stream(
        "halvorsen sso",
        priorities=[
            "Get SCIM provisioning through Okta validation",
            "SAML SSO for Halvorsen's pilot",
            "Close the Halvorsen security questionnaire",
            "Audit-log export for SOC 2 evidence",
        ],
        jira=JiraWork(
            project="SEC",
            epic=soc2_epic,
            summaries=[
                "SAML SSO: metadata upload and certificate rotation",
                "SCIM 2.0 provisioning: users endpoint",
                "SCIM 2.0 provisioning: groups endpoint",
                "Audit-log export to S3",
                "SOC 2 evidence: access review automation",
                "Okta app integration submission",
                "Azure AD SSO test tenant",
                "Enforce SSO per workspace",
                "Session timeout policy per workspace",
                "Security questionnaire: encryption answers",
                "SCIM deprovisioning removes pending signatures",
                "SSO login error page",
            ],
        ),
        slack=SlackWork(
            channel="halvorsen-sso",
            texts=[
                "Halvorsen wants SCIM working in their Okta sandbox by Friday.",
                "{issue} is done, next up group sync.",
                "SOC 2 auditor asked for the access review evidence again.",
                "Pairing on {issue} this afternoon.",
                "Okta validation failed on the groups endpoint, looking.",
                "Security questionnaire is 80% done.",
            ],
        ),
    )
    procurement = w.stream(
        "halvorsen procurement",
        priorities=["Coupa punch-out spike for Halvorsen", "Answer Halvorsen's procurement questions"],
        slack=SlackWork(
            channel="deal-halvorsen",
            texts=[
                "Halvorsen procurement wants a Coupa punch-out demo.",
                "Legal sent back the DPA with comments.",
                "Call with Halvorsen IT at 3, notes to follow.",
                "They want the SSO timeline in writing.",
            ],
        ),
    )
    latency = w.stream(
        "latency",
        key_result="KR-PLAT-1",
        priorities=["Cut p95 on the document render path", "Add the latency budget to CI"],
        jira=JiraWork(
            project="PLAT",
            epic=latency_epic,
            summaries=[
                "Cache rendered document previews",
                "Move PDF flattening off the request path",
                "Latency budget check in CI",
                "Connection pooling for the signature store",
                "Trim the document list query",
                "Profile the envelope creation endpoint",
                "Compress API responses over 10 KB",
                "Index for the audit trail lookup",
            ],
        ),
        slack=SlackWork(
            channel="perf",
            texts=[
                "p95 this week: down another 15 ms.",
                "{issue} shipped, graphs look good.",
                "Flamegraph for {issue}.",
            ],
        ),
    )
    uptime = w.stream(
        "uptime",
        key_result="KR-RELY-1",
        priorities=["Run the AZ failover game day", "Automate the signing service failover"],
        jira=JiraWork(
            project="PLAT",
            epic=uptime_epic,
            summaries=[
                "Failover runbook for the signing service",
                "Game day: zone outage",
                "Health checks on the queue consumers",
                "Multi-AZ database replica",
                "Alert on replica lag",
                "Automated failover test in staging",
            ],
        ),
        slack=SlackWork(
            channel="reliability",
            texts=[
                "Uptime last week: 99.96%.",
                "Game day notes are up.",
                "{issue} done, failover took 41 s.",
            ],
        ),
    )
    platform_chores = w.stream(
        "platform chores",
        priorities=["On-call week: keep the pager quiet", "Terraform module upgrades"],
        jira=JiraWork(project="PLAT", summaries=BUG_SUMMARIES[::-1], types=("Task", "Task", "Bug")),
        slack=SlackWork(channel="platform", texts=ENGINEERING_CHATTER),
    )
    pentest = w.stream(
        "pen-test findings",
        key_result="KR-SEC-1",
        priorities=["Close the critical pen-test findings", "Retest the fixed findings"],
        jira=JiraWork(
            project="SEC",
            labels=["pentest"],
            summaries=[
                "PT-03: stored XSS in template names",
                "PT-07: IDOR on envelope attachments",
                "PT-11: missing rate limit on login",
                "PT-12: verbose errors on the API",
                "PT-15: weak session cookie flags",
                "PT-18: SSRF via webhook URLs",
                "PT-21: outdated TLS ciphers on the edge",
                "PT-22: CSV injection in exports",
            ],
        ),
        slack=SlackWork(channel="pentest", texts=["Retest for {issue} passed.", "Pen-test tracker updated."]),
    )
    onboarding = w.stream(
        "enterprise onboarding",
        key_result="KR-ACT-3",
        priorities=["Run the onboarding playbook with the new accounts", "Executive readouts for go-lives"],
        hubspot=HubSpotWork(
            pipeline="enterprise-onboarding",
            stages=["onboarding_kickoff", "onboarding_setup", "onboarding_training", "onboarding_live"],
            deal_names=[
                "Castell Pharma - enterprise onboarding",
                "Veridian Energy - enterprise onboarding",
                "Halcyon Freight - enterprise onboarding",
                "Marlow Insurance - enterprise onboarding",
                "Pellucid Bank - enterprise onboarding",
                "Ostrava Steel - enterprise onboarding",
                "Kappel Logistics - enterprise onboarding",
                "Nordwind Utilities - enterprise onboarding",
            ],
            amounts=(60_000, 240_000),
            deal_type="existingbusiness",
            notes=[
                "Kickoff with {company}: success plan agreed, first workflow in 10 days.",
                "{company} finished admin training; two departments live.",
                "Playbook review with {company}: on step 5 of 7.",
                "{company} asked for a template clinic next week.",
            ],
            call_titles=["Onboarding check-in - {company}", "Admin training - {company}"],
            meeting_titles=["{company} go-live review", "{company} kickoff"],
            email_subjects=["Your onboarding plan - {company}", "Next steps for {company}"],
            task_subjects=["Book the go-live review with {company}"],
        ),
        slack=SlackWork(
            channel="cs-onboarding",
            texts=[
                "Two go-lives this week.",
                "Playbook completion is at 61%.",
                "Who can cover a training Thursday?",
            ],
        ),
    )
    new_business = w.stream(
        "enterprise deals",
        key_result="KR-GROW-1",
        priorities=["Move three enterprise deals to proposal", "Close two enterprise deals this month"],
        hubspot=HubSpotWork(
            pipeline="enterprise-new",
            stages=["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "contractsent"],
            deal_names=[
                "Halvorsen Bank - Enterprise (800 seats)",
                "Rijnmond Port Authority - Enterprise",
                "Baltic Freightways - Enterprise",
                "Corvin Legal - Enterprise",
                "Atlas Reinsurance - Enterprise",
                "Sundby Municipality - Enterprise",
                "Helix Biotech - Enterprise",
                "Varga Construction - Enterprise",
                "Lumen Hospitals - Enterprise",
                "Oakridge University - Enterprise",
            ],
            amounts=(40_000, 260_000),
            notes=[
                "Discovery with {company}: three departments, procurement in Q4.",
                "{company} wants a security review before the pilot.",
                "Pricing discussion with {company}; sending a proposal.",
                "{company} champion confirmed budget.",
            ],
            call_titles=["Discovery call - {company}", "Pricing call - {company}"],
            meeting_titles=["{company} demo", "{company} workshop"],
            email_subjects=["Brightwell overview for {company}", "Proposal for {company}"],
            task_subjects=["Send the proposal to {company}"],
        ),
        slack=SlackWork(
            channel="enterprise-deals",
            texts=["Two new enterprise demos booked.", "Proposal out to Atlas.", "Pipeline review at 4."],
        ),
    )
    demand = w.stream(
        "demand gen",
        key_result="KR-MKT-1",
        priorities=["Launch the enterprise webinar series", "MQL scoring v3 with RevOps"],
        jira=JiraWork(
            project="MKT",
            epic=demand_epic,
            types=("Task",),
            summaries=[
                "Webinar: e-signature compliance in the EU",
                "Landing page for the banking campaign",
                "MQL scoring v3",
                "Case study: Castell Pharma",
                "Paid search: enterprise keywords",
                "Nurture sequence for trial admins",
                "G2 review campaign",
                "Partner co-marketing kit",
            ],
        ),
        slack=SlackWork(
            channel="demand-gen", texts=["MQLs this week: 14.", "{issue} is live.", "Webinar signups at 220."]
        ),
    )

    # Weeks 1-4 on the activation epics; from week 5 on Halvorsen's SSO and SOC 2 asks.
    squad: list[tuple[str, dict[Stream, float], dict[Stream, float]]] = [
        (
            "eng1",
            {setup: 5, templates: 3, squad_chores: 2},
            {soc2: 7, setup: 0.4, templates: 0.4, squad_chores: 2},
        ),
        ("eng2", {setup: 7, squad_chores: 3}, {soc2: 7, setup: 0.6, squad_chores: 2}),
        ("eng3", {templates: 7, squad_chores: 3}, {soc2: 6.5, templates: 0.8, squad_chores: 2.5}),
        ("designer", {setup: 6, templates: 3, squad_chores: 1}, {soc2: 5, setup: 1, squad_chores: 3}),
        ("eng_lead", {templates: 5, setup: 2, squad_chores: 3}, {soc2: 6, templates: 1, squad_chores: 3}),
        (
            "pm1",
            {setup: 6, templates: 2, squad_chores: 2},
            {procurement: 5, soc2: 2, setup: 1, squad_chores: 2},
        ),
    ]
    for person, before, after in squad:
        w.allocate(person, weeks(1, 4), before)
        w.allocate(person, weeks(5, 13), after)
    w.allocate("cto", weeks(1, 13), {uptime: 2, platform_chores: 2, squad_chores: 1})
    w.allocate("cto", weeks(5, 13), {soc2: 2, uptime: 1, platform_chores: 2})
    w.allocate("ceo", weeks(1, 13), {new_business: 1, demand: 1})
    w.allocate("plat_lead", weeks(1, 13), {uptime: 5, latency: 1, platform_chores: 3})
    w.allocate("sre1", weeks(1, 13), {uptime: 4, latency: 3, platform_chores: 3})
    w.allocate("sre2", weeks(1, 13), {latency: 7, platform_chores: 3})
    # The invisible contribution: from week 4 a third of Mateo's effort goes into the activation epic.
    w.allocate("plat_eng", weeks(1, 3), {platform_chores: 10})
    w.allocate("plat_eng", weeks(4, 13), {setup: 3.5, platform_chores: 6.5})
    w.allocate("sec_lead", weeks(1, 13), {pentest: 5, platform_chores: 1})
    w.allocate("sec_eng", weeks(1, 13), {pentest: 8, platform_chores: 2})
    for person in ("cs_lead", "csm1", "csm2"):
        w.allocate(person, weeks(1, 13), {onboarding: 8, new_business: 1})
    for person in ("sales_lead", "ae1", "ae2"):
        w.allocate(person, weeks(1, 13), {new_business: 9})
    w.allocate("mkt_lead", weeks(1, 13), {demand: 8})
    w.allocate("mkt1", weeks(1, 13), {demand: 8})

    w.away("csm2", [7])
    w.away("sre1", [9, 10])
    w.away("mkt1", [8])
    w.away("ae2", [6])

    w.progress("KR-ACT-1", by="pm1", fraction=stalls(4, creep=0.006), notes=["", "Steady.", "On track."])
    w.progress("KR-ACT-2", by="eng_lead", fraction=stalls(4, creep=0.003), notes=["", "Holding."])
    w.claim("KR-ACT-1", weeks(1, 13), "on_track")
    w.claim("KR-ACT-2", weeks(1, 13), "on_track")
    w.pulse_range("product", 2, 4, from_week=5)  # the squad no longer sees how its work serves the goals
    w.progress("KR-ACT-3", by="cs_lead", fraction=on_pace())
    w.progress("KR-GROW-1", by="sales_lead", fraction=on_pace(1.08), decimals=0)
    w.progress("KR-RELY-1", by="plat_lead", fraction=on_pace(), decimals=3)
    w.progress("KR-PLAT-1", by="sre2", fraction=on_pace(1.1), decimals=0)
    w.progress("KR-SEC-1", by="sec_eng", fraction=on_pace(1.1), decimals=0)
    w.progress("KR-MKT-1", by="mkt_lead", fraction=on_pace(), decimals=0)
    w.kpi_readings("K-ERR", lambda week: 0.07 + 0.01 * (week % 3), decimals=2)
    w.kpi_readings("K-NPS", lambda week: 41 + week % 4, decimals=0)
    for objective, owner in [
        ("O-ACT", "pm1"),
        ("O-PLAT", "plat_lead"),
        ("O-SEC", "sec_lead"),
        ("O-MKT", "mkt_lead"),
    ]:
        w.review(w.moment(1, 1, 15, owner), objective, owner)

    w.finding("priority_shift", "KR-ACT-1", 5)
    w.finding("priority_shift", "KR-ACT-2", 5)
    w.finding("status_contradiction", "KR-ACT-1", 6)
    w.finding("status_contradiction", "KR-ACT-2", 6)
    w.contribution("plat_eng", "KR-ACT-1")
    w.quiet(
        "KR-ACT-3",
        "KR-GROW-1",
        "KR-RELY-1",
        "KR-PLAT-1",
        "KR-SEC-1",
        "KR-MKT-1",
        "O-RELY",
        "O-PLAT",
        "O-SEC",
        "O-MKT",
    )
    return w


# --- b) green-kpis ---------------------------------------------------------------------------------------


def green_kpis() -> World:
    w = World(
        name="green-kpis",
        description=(
            "Fernhill Health sells appointment scheduling to outpatient clinics and is moving them from its "
            "legacy scheduler to a new one; the company objective for the quarter is to move every clinic "
            "across. Operations is still measured on legacy KPIs (legacy uptime, support backlog, legacy "
            "renewals) and those KPIs are tagged to the migration objective. From week 4 clinics stall on "
            "data-quality problems: the migration team keeps working, check-ins honestly say at_risk and "
            "the key results flatten, while every KPI stays green. Separately the clinic-insights key "
            "result loses its owner's updates after week 4 and its engineers move to an unmapped "
            "warehouse migration from week 5. Reliability, support, data science and growth marketing "
            "progress normally."
        ),
        seed=5202,
        organization="Fernhill Health",
        slug="fernhill",
        time_zone="Europe/Dublin",
        cycle_name="2026-Q2",
        start=date(2026, 4, 6),
        domain="fernhill.test",
    )
    staff(
        w,
        [
            ("exec", "Leadership", None, "ceo"),
            ("migration", "Clinic Migration", "exec", "mig_lead"),
            ("insights", "Clinic Insights", "exec", "ins_pm"),
            ("reliability", "Reliability", "exec", "rel_lead"),
            ("support", "Support", "exec", "sup_lead"),
            ("growth", "Growth Marketing", "exec", "gm_lead"),
        ],
        [
            ("ceo", "Aoife Brennan", "admin", "exec", None, "", "s"),
            ("coo", "Declan Murphy", "manager", "exec", "ceo", "", "s"),
            ("cto", "Ingrid Sorensen", "manager", "exec", "ceo", "Europe/Copenhagen", "js"),
            ("cfo", "Helen Ward", "manager", "exec", "ceo", "Europe/London", "s"),
            ("mig_lead", "Rashid Karim", "manager", "migration", "coo", "", "js"),
            ("mig1", "Sinead Walsh", "employee", "migration", "mig_lead", "", "js"),
            ("mig2", "Tomas Novak", "employee", "migration", "mig_lead", "Europe/Prague", "js"),
            ("mig3", "Priya Raman", "employee", "migration", "mig_lead", "Europe/London", "js"),
            ("mig4", "Ellen Byrne", "employee", "migration", "mig_lead", "", "js"),
            ("mig5", "Zofia Lis", "employee", "migration", "mig_lead", "Europe/Warsaw", "js"),
            ("ins_pm", "Marta Kowalski", "manager", "insights", "cto", "Europe/Warsaw", "js"),
            ("ins_eng1", "Owen Gallagher", "employee", "insights", "ins_pm", "", "js"),
            ("ins_eng2", "Yuki Tanaka", "employee", "insights", "ins_pm", "Europe/London", "js"),
            ("data_eng", "Felix Brandt", "employee", "insights", "ins_pm", "Europe/Berlin", "js"),
            ("analyst", "Ravi Menon", "employee", "insights", "ins_pm", "Europe/London", "js"),
            ("rel_lead", "Conor Daly", "manager", "reliability", "cto", "", "js"),
            ("sre1", "Nadia Petrova", "employee", "reliability", "rel_lead", "Europe/Sofia", "js"),
            ("sre2", "Luis Ortega", "employee", "reliability", "rel_lead", "Europe/Madrid", "js"),
            ("sup_lead", "Grainne Kelly", "manager", "support", "coo", "", "js"),
            ("sup1", "Ben Carter", "employee", "support", "sup_lead", "", "js"),
            ("sup2", "Aisling Nolan", "employee", "support", "sup_lead", "", "js"),
            ("sup3", "Kemi Adebayo", "employee", "support", "sup_lead", "Europe/London", "js"),
            ("gm_lead", "Hugo Laurent", "manager", "growth", "ceo", "Europe/Paris", "js"),
            ("gm1", "Clara Jensen", "employee", "growth", "gm_lead", "Europe/Copenhagen", "js"),
        ],
    )
    clinics = w.objective(
        "O-CLINICS",
        "Move every clinic onto the new scheduler",
        level="company",
        owner="coo",
        description="The legacy scheduler is switched off at the end of the year; every clinic moves.",
    )
    w.key_result(
        clinics,
        "KR-CLIN-1",
        "Clinics live on the new scheduler from 40 to 160",
        owner="mig_lead",
        unit="clinics",
        baseline=40,
        target=160,
        contributors=["mig1", "mig2", "mig3"],
    )
    w.key_result(
        clinics,
        "KR-CLIN-2",
        "Weekly bookings through the new scheduler from 8,000 to 30,000",
        owner="cto",
        unit="bookings",
        baseline=8000,
        target=30000,
        contributors=["mig4", "mig5"],
    )
    trust = w.objective("O-TRUST", "Be the scheduler clinics never worry about", level="company", owner="cto")
    w.key_result(
        trust,
        "KR-TRUST-1",
        "New scheduler availability from 99.80% to 99.95%",
        owner="rel_lead",
        unit="%",
        baseline=99.8,
        target=99.95,
        contributors=["sre1"],
    )
    insights = w.objective(
        "O-INSIGHTS",
        "Give clinics a clear weekly picture of their practice",
        level="team",
        team="insights",
        owner="ins_pm",
        parent="O-CLINICS",
    )
    w.key_result(
        insights,
        "KR-INS-1",
        "Clinics opening the insights dashboard weekly from 10% to 35%",
        owner="ins_pm",
        unit="%",
        baseline=10,
        target=35,
        contributors=["ins_eng1", "ins_eng2"],
    )
    w.key_result(
        insights,
        "KR-INS-2",
        "Clinics with no-show prediction switched on from 0 to 50",
        owner="data_eng",
        unit="clinics",
        baseline=0,
        target=50,
        contributors=["analyst"],
    )
    reliability = w.objective(
        "O-REL",
        "Make the new scheduler fast everywhere",
        level="team",
        team="reliability",
        owner="rel_lead",
        parent="O-TRUST",
    )
    w.key_result(
        reliability,
        "KR-REL-1",
        "Calendar page load p95 from 1.8 s to 1.0 s",
        owner="sre2",
        unit="s",
        baseline=1.8,
        target=1.0,
        contributors=["sre1"],
    )
    support = w.objective(
        "O-SUPPORT",
        "Answer clinics before they have to chase us",
        level="team",
        team="support",
        owner="sup_lead",
        parent="O-TRUST",
    )
    w.key_result(
        support,
        "KR-SUP-1",
        "Median first response from 6 h to 2 h",
        owner="sup_lead",
        unit="h",
        baseline=6,
        target=2,
        contributors=["sup1", "sup2", "sup3"],
    )
    growth = w.objective(
        "O-GROWTH",
        "Make clinics want to move",
        level="team",
        team="growth",
        owner="gm_lead",
        parent="O-CLINICS",
    )
    w.key_result(
        growth,
        "KR-GM-1",
        "Clinic managers attending migration webinars from 0 to 600",
        owner="gm_lead",
        unit="attendees",
        baseline=0,
        target=600,
        contributors=["gm1"],
    )
    for key, name, unit, direction, green, red, owner, team in [
        ("K-LEGACY-UP", "Legacy scheduler uptime", "%", "increase", 99.9, 99.5, "rel_lead", "reliability"),
        ("K-BACKLOG", "Open support tickets", "tickets", "decrease", 120, 200, "sup_lead", "support"),
        ("K-RENEW", "Legacy contracts renewed on time", "%", "increase", 90, 80, "coo", None),
    ]:
        w.kpi(
            key,
            name,
            unit=unit,
            direction=direction,
            green=green,
            red=red,
            owner=owner,
            team=team,
            objectives=["O-CLINICS"],
        )
    w.kpi(
        "K-P95",
        "Calendar API p95",
        unit="ms",
        direction="decrease",
        green=400,
        red=800,
        owner="rel_lead",
        team="reliability",
        objectives=["O-REL"],
    )

    w.project("MIG", "Clinic Migration", 300)
    w.project("INS", "Insights", 120)
    w.project("DATA", "Data Platform", 60)
    w.project("REL", "Reliability", 900)
    w.project("SUP", "Support", 4100)
    w.project("GRO", "Growth", 75)
    w.project("OPS", "Operations", 1500)
    waves_epic = w.epic("MIG", "Clinic migration waves Q2", owner="mig_lead")
    dashboard_epic = w.epic("INS", "Weekly practice dashboard", owner="ins_pm")
    noshow_epic = w.epic("INS", "No-show prediction", owner="data_eng")
    warehouse_epic = w.epic("DATA", "Warehouse migration to BigQuery", owner="cto", days_before_start=-25)
    perf_epic = w.epic("REL", "Calendar performance", owner="sre2")
    availability_epic = w.epic("REL", "Zero-downtime deploys", owner="rel_lead")
    webinar_epic = w.epic("GRO", "Migration webinar series", owner="gm_lead")
    w.map("jira", {"epic": waves_epic.key}, "KR-CLIN-1")
    w.map("jira", {"label": "booking-flow"}, "KR-CLIN-2")
    w.map("jira", {"epic": dashboard_epic.key}, "KR-INS-1")
    w.map("jira", {"epic": noshow_epic.key}, "KR-INS-2")
    w.map("jira", {"epic": perf_epic.key}, "KR-REL-1")
    w.map("jira", {"epic": availability_epic.key}, "KR-TRUST-1")
    w.map("jira", {"project": "SUP"}, "KR-SUP-1")
    w.map("jira", {"epic": webinar_epic.key}, "KR-GM-1")
    for channel, kr in [
        ("migration", "KR-CLIN-1"),
        ("bookings", "KR-CLIN-2"),
        ("insights", "KR-INS-1"),
        ("data-science", "KR-INS-2"),
        ("perf", "KR-REL-1"),
        ("uptime", "KR-TRUST-1"),
        ("support-queue", "KR-SUP-1"),
        ("webinars", "KR-GM-1"),
    ]:
        w.map("slack", {"channel": w.slack.channel(channel)}, kr)

    waves = w.stream(
        "migration waves",
        key_result="KR-CLIN-1",
        priorities=[
            "Get wave 3 clinics live",
            "Clean patient data for the Cork clinics",
            "Cut-over rehearsal",
        ],
        jira=JiraWork(
            project="MIG",
            epic=waves_epic,
            summaries=[
                "Wave 3: import appointments for the Galway clinics",
                "Duplicate patient detection before cut-over",
                "Cut-over checklist for multi-site practices",
                "Map legacy appointment types to the new catalogue",
                "Recurring appointments: convert legacy rules",
                "Dry run: Cork physiotherapy group",
                "Clinician calendars with split shifts",
                "Data-quality report per clinic",
                "Wave 4: schedule and owners",
                "Fix address normalisation for Northern Ireland",
                "Roll back plan for a failed cut-over",
                "Migrate SMS reminder templates",
            ],
        ),
        slack=SlackWork(
            channel="migration",
            texts=[
                "Wave 3 status: 6 clinics blocked on duplicate patients.",
                "{issue} is ready for review.",
                "Cut-over for Limerick moved to Thursday, their data still has gaps.",
                "Picking up {issue}.",
                "Data-quality report is out; 40% of the queue needs manual cleanup.",
                "Two more clinics live today.",
            ],
        ),
    )
    bookings = w.stream(
        "booking flow",
        key_result="KR-CLIN-2",
        priorities=["Online booking widget v2", "Make rebooking one click"],
        jira=JiraWork(
            project="MIG",
            labels=["booking-flow"],
            summaries=[
                "Booking widget: show next available slot",
                "Rebook from the reminder SMS",
                "Booking widget accessibility fixes",
                "Waitlist: offer freed slots automatically",
                "Embed widget on clinic websites",
                "Booking confirmation e-mail redesign",
                "Track booking funnel drop-off",
                "Widget: insurance details step",
            ],
        ),
        slack=SlackWork(
            channel="bookings",
            texts=[
                "Weekly bookings on the new scheduler: holding around 12k.",
                "{issue} shipped.",
                "Funnel numbers for last week are in.",
            ],
        ),
    )
    dashboard = w.stream(
        "practice dashboard",
        key_result="KR-INS-1",
        priorities=["Ship the weekly practice e-mail", "Utilisation chart per clinician"],
        jira=JiraWork(
            project="INS",
            epic=dashboard_epic,
            summaries=[
                "Utilisation chart per clinician",
                "Weekly practice summary e-mail",
                "No-show rate trend",
                "Dashboard permissions for practice managers",
                "Export dashboard to PDF",
                "Revenue per appointment type",
                "Empty state for new clinics",
                "Dashboard load time under 2 s",
            ],
        ),
        slack=SlackWork(
            channel="insights",
            texts=[
                "Weekly dashboard opens: 14% of clinics.",
                "{issue} is on staging.",
                "Practice managers love the utilisation chart.",
            ],
        ),
    )
    warehouse = w.stream(
        "warehouse migration",
        priorities=["Move the nightly jobs to BigQuery", "Warehouse cut-over plan"],
        jira=JiraWork(
            project="DATA",
            epic=warehouse_epic,
            summaries=[
                "Port the nightly appointment export to BigQuery",
                "dbt models for clinic facts",
                "Backfill three years of bookings",
                "Cost alerts on the warehouse",
                "Retire the Redshift cluster",
                "Row-level access for analysts",
                "Warehouse cut-over runbook",
                "Validate row counts after backfill",
            ],
        ),
        slack=SlackWork(
            channel="data-platform",
            texts=[
                "Backfill is 60% done.",
                "{issue} merged.",
                "BigQuery bill this week looks fine.",
                "Redshift goes read-only Friday.",
            ],
        ),
    )
    noshow = w.stream(
        "no-show prediction",
        key_result="KR-INS-2",
        priorities=["Roll no-show prediction out to wave 2 clinics", "Retrain with the April data"],
        jira=JiraWork(
            project="INS",
            epic=noshow_epic,
            summaries=[
                "Retrain the no-show model with April data",
                "Feature: weather at appointment time",
                "Turn on predictions for wave 2 clinics",
                "Explain predictions to practice managers",
                "Overbooking suggestion from predictions",
                "Monitor model drift",
            ],
        ),
        slack=SlackWork(
            channel="data-science",
            texts=["AUC on the holdout: 0.81.", "{issue} done.", "Eight more clinics switched on."],
        ),
    )
    perf = w.stream(
        "calendar performance",
        key_result="KR-REL-1",
        priorities=["Cut calendar p95 below 1.3 s", "Cache clinician availability"],
        jira=JiraWork(
            project="REL",
            epic=perf_epic,
            summaries=[
                "Cache clinician availability",
                "Paginate the week view",
                "Move reminder sends off the request path",
                "Index appointment lookups by clinic and day",
                "CDN for calendar assets",
                "Trim the calendar payload",
            ],
        ),
        slack=SlackWork(
            channel="perf", texts=["Calendar p95 this week: 1.4 s.", "{issue} is live, graphs attached."]
        ),
    )
    availability = w.stream(
        "zero-downtime deploys",
        key_result="KR-TRUST-1",
        priorities=["Blue-green deploys for the scheduler", "Failover drill"],
        jira=JiraWork(
            project="REL",
            epic=availability_epic,
            summaries=[
                "Blue-green deploy pipeline",
                "Database migrations without locks",
                "Failover drill for the booking API",
                "Health checks for the reminder workers",
                "Status page automation",
            ],
        ),
        slack=SlackWork(
            channel="uptime",
            texts=["Availability last week: 99.93%.", "Drill went fine, 38 s failover.", "{issue} done."],
        ),
    )
    tickets = w.stream(
        "support queue",
        key_result="KR-SUP-1",
        priorities=["Keep first response under 3 h", "Macro library for migration questions"],
        jira=JiraWork(
            project="SUP",
            types=("Task",),
            summaries=[
                "Clinic cannot see Tuesday's appointments",
                "Reminder SMS sent twice",
                "Practice manager locked out",
                "Invoice shows the wrong VAT rate",
                "Clinician calendar colours reset",
                "Patient cannot cancel online",
                "Export of last month's bookings",
                "Add a new location to the account",
                "Reminder times off by an hour after DST",
                "Booking widget not loading on clinic site",
            ],
            comments=(
                "Replied to the clinic with the workaround.",
                "Escalated to engineering.",
                "Clinic confirmed it works now.",
                "Macro updated.",
            ),
        ),
        slack=SlackWork(
            channel="support-queue",
            texts=[
                "Queue is at 42 open.",
                "Median first response today: 2.6 h.",
                "Can someone take {issue}?",
            ],
        ),
    )
    webinars = w.stream(
        "migration webinars",
        key_result="KR-GM-1",
        priorities=["Run the weekly migration webinar", "Customer story video with a Cork clinic"],
        jira=JiraWork(
            project="GRO",
            epic=webinar_epic,
            types=("Task",),
            summaries=[
                "Webinar: what changes for receptionists",
                "Webinar: reporting in the new scheduler",
                "Invite list for wave 4 clinics",
                "Customer story video",
                "Follow-up e-mail sequence",
                "Webinar recording library page",
            ],
        ),
        slack=SlackWork(
            channel="webinars", texts=["58 attendees today.", "{issue} is scheduled.", "Recording is up."]
        ),
    )
    chores = w.stream(
        "engineering chores",
        priorities=["Keep the legacy scheduler running", "Dependency upgrades"],
        jira=JiraWork(project="OPS", summaries=BUG_SUMMARIES, types=("Bug", "Task")),
        slack=SlackWork(channel="engineering", texts=ENGINEERING_CHATTER),
    )

    for person in ("mig1", "mig2", "mig3"):
        w.allocate(person, weeks(1, 13), {waves: 8, chores: 2})
    w.allocate("mig_lead", weeks(1, 13), {waves: 6, bookings: 1, chores: 2})
    for person in ("mig4", "mig5"):
        w.allocate(person, weeks(1, 13), {bookings: 8, chores: 2})
    w.allocate("cto", weeks(1, 13), {bookings: 3, availability: 2, chores: 2})
    w.allocate("coo", weeks(1, 13), {waves: 3, tickets: 1})
    w.allocate("ceo", weeks(1, 13), {waves: 1, webinars: 1})
    w.allocate("cfo", weeks(1, 13), {chores: 1})
    w.allocate("ins_pm", weeks(1, 4), {dashboard: 7, noshow: 1})
    w.allocate("ins_pm", weeks(5, 13), {warehouse: 3, chores: 3, noshow: 1})
    for person in ("ins_eng1", "ins_eng2"):
        w.allocate(person, weeks(1, 4), {dashboard: 8, chores: 2})
        w.allocate(person, weeks(5, 13), {warehouse: 8, chores: 2})
    w.allocate("data_eng", weeks(1, 13), {noshow: 7, warehouse: 2, chores: 1})
    w.allocate("analyst", weeks(1, 13), {noshow: 8, chores: 2})
    w.allocate("rel_lead", weeks(1, 13), {availability: 5, perf: 1, chores: 3})
    w.allocate("sre1", weeks(1, 13), {availability: 4, perf: 3, chores: 3})
    w.allocate("sre2", weeks(1, 13), {perf: 7, chores: 3})
    for person in ("sup_lead", "sup1", "sup2", "sup3"):
        w.allocate(person, weeks(1, 13), {tickets: 9, chores: 1})
    w.allocate("gm_lead", weeks(1, 13), {webinars: 8})
    w.allocate("gm1", weeks(1, 13), {webinars: 8})

    w.away("mig2", [6])
    w.away("sup3", [9, 10])
    w.away("gm1", [8])
    w.away("analyst", [11])
    w.holiday(date(2026, 5, 4))  # May bank holiday
    w.holiday(date(2026, 6, 1))  # June bank holiday

    # Clinics stall from week 4: the work goes on, the numbers do not.
    flat = [0.0, 0.08, 0.15, 0.22, 0.23, 0.24, 0.25, 0.26, 0.27, 0.28, 0.29, 0.30, 0.31, 0.32]
    migration_notes = [
        "Clinics stuck on data cleanup before cut-over.",
        "Cut-overs keep slipping.",
        *AT_RISK_NOTES,
    ]
    w.progress(
        "KR-CLIN-1",
        by="mig_lead",
        fraction=lambda week: flat[week],
        decimals=0,
        notes=migration_notes,
        confidence=lambda week: 0.8 if week < 4 else 0.45,
    )
    w.progress(
        "KR-CLIN-2",
        by="cto",
        fraction=lambda week: flat[week] * 0.95,
        decimals=0,
        notes=migration_notes,
        confidence=lambda week: 0.8 if week < 4 else 0.5,
    )
    # Insights: on pace to week 4, then the owner stops updating.
    w.progress(
        "KR-INS-1", by=lambda week: "ins_pm" if week <= 4 else None, fraction=stalls(4, ahead=1.02, creep=0)
    )
    for person in ("ins_pm", "ins_eng1", "ins_eng2"):
        w.goes_silent(person, "KR-INS-1", 5)
    w.progress("KR-INS-2", by="data_eng", fraction=on_pace(1.08), decimals=0)
    w.progress("KR-TRUST-1", by="rel_lead", fraction=on_pace(), decimals=3)
    w.progress("KR-REL-1", by="sre2", fraction=on_pace(1.1), decimals=2)
    w.progress("KR-SUP-1", by="sup_lead", fraction=on_pace(1.05), decimals=1)
    w.progress("KR-GM-1", by="gm_lead", fraction=on_pace(1.08), decimals=0)

    w.kpi_readings("K-LEGACY-UP", lambda week: 99.95 + 0.01 * (week % 4), decimals=2)
    w.kpi_readings("K-BACKLOG", lambda week: 104 - 2 * week + 3 * (week % 3), decimals=0)
    w.kpi_readings("K-RENEW", lambda week: 92.5 + 0.3 * week, decimals=1)
    w.kpi_readings("K-P95", lambda week: 380 - 4 * week, decimals=0)
    w.kpi_note("K-RENEW", 4, "Legacy renewals at 93.7%, best quarter on record.", "O-CLINICS")
    w.kpi_note("K-LEGACY-UP", 6, "Six weeks without a legacy outage.", "O-CLINICS")
    w.kpi_note("K-BACKLOG", 8, "Backlog at its lowest since January.", "O-CLINICS")
    for objective, owner in [
        ("O-INSIGHTS", "ins_pm"),
        ("O-REL", "rel_lead"),
        ("O-SUPPORT", "sup_lead"),
        ("O-GROWTH", "gm_lead"),
    ]:
        w.review(w.moment(1, 2, 11, owner), objective, owner)

    w.finding("kpi_conflict", "O-CLINICS", 4)
    w.finding("stale_progress", "KR-INS-1", 6)
    w.quiet(
        "KR-INS-2",
        "KR-TRUST-1",
        "KR-REL-1",
        "KR-SUP-1",
        "KR-GM-1",
        "O-TRUST",
        "O-REL",
        "O-SUPPORT",
        "O-GROWTH",
    )
    return w


# --- c) steady-quarter -----------------------------------------------------------------------------------


def steady_quarter() -> World:
    w = World(
        name="steady-quarter",
        description=(
            "Kestrel Freight builds live shipment tracking for mid-market shippers. A healthy quarter: every "
            "team works on what its key results say and everything progresses at or ahead of pace. The "
            "noise is ordinary: Labor Day, vacation weeks, support tickets and chores, chatter, a "
            "cross-team blocker cleared the same afternoon, a key result reworded, a company key result "
            "target raised in week 6 with every child objective re-confirmed within two days, and one amber "
            "churn reading. Nothing here should raise a finding."
        ),
        seed=5303,
        organization="Kestrel Freight",
        slug="kestrel",
        time_zone="America/Chicago",
        cycle_name="2026-Q3",
        start=date(2026, 7, 6),
        domain="kestrelfreight.test",
    )
    staff(
        w,
        [
            ("exec", "Leadership", None, "ceo"),
            ("tracking", "Live Tracking", "exec", "trk_lead"),
            ("carriers", "Carrier Network", "exec", "car_lead"),
            ("platform", "Platform", "exec", "plat_lead"),
            ("support", "Shipper Support", "exec", "sup_lead"),
            ("sales", "Sales", "exec", "sales_lead"),
        ],
        [
            ("ceo", "Grace Holloway", "admin", "exec", None, "", "s"),
            ("cpo", "Marcus Bell", "manager", "exec", "ceo", "", "s"),
            ("trk_lead", "Dana Kim", "manager", "tracking", "cpo", "", "js"),
            ("trk_pm", "Luis Herrera", "manager", "tracking", "cpo", "America/Denver", "js"),
            ("trk1", "Sam Whitaker", "employee", "tracking", "trk_lead", "", "js"),
            ("trk2", "Aaliyah Brooks", "employee", "tracking", "trk_lead", "America/New_York", "js"),
            ("trk3", "Ethan Novak", "employee", "tracking", "trk_lead", "", "js"),
            ("designer", "Mina Park", "employee", "tracking", "trk_pm", "America/Los_Angeles", "js"),
            ("car_lead", "Rosa Delgado", "manager", "carriers", "ceo", "", "jsh"),
            ("car1", "Tyler Grant", "employee", "carriers", "car_lead", "", "jsh"),
            ("car2", "Keisha Moore", "employee", "carriers", "car_lead", "America/New_York", "sh"),
            ("car_eng", "Ivan Petrov", "employee", "carriers", "car_lead", "", "js"),
            ("plat_lead", "Owen Fitzgerald", "manager", "platform", "cpo", "", "js"),
            ("sre1", "Priya Desai", "employee", "platform", "plat_lead", "America/New_York", "js"),
            ("sre2", "Jake Morrison", "employee", "platform", "plat_lead", "", "js"),
            ("sup_lead", "Tasha Green", "manager", "support", "ceo", "", "js"),
            ("sup1", "Carlos Mendez", "employee", "support", "sup_lead", "", "js"),
            ("sup2", "Hannah Olsen", "employee", "support", "sup_lead", "America/Denver", "js"),
            ("sup3", "Noah Bennett", "employee", "support", "sup_lead", "", "js"),
            ("sales_lead", "Rachel Stein", "manager", "sales", "ceo", "America/New_York", "sh"),
            ("ae1", "Jordan Price", "employee", "sales", "sales_lead", "", "sh"),
            ("ae2", "Emily Carter", "employee", "sales", "sales_lead", "America/New_York", "sh"),
            ("ae3", "Victor Ramos", "employee", "sales", "sales_lead", "America/Denver", "sh"),
            ("sdr", "Chloe Adams", "employee", "sales", "sales_lead", "", "sh"),
            ("cfo", "Patrick O'Neal", "manager", "exec", "ceo", "America/New_York", "s"),
        ],
    )
    vis = w.objective("O-VIS", "Give shippers live visibility of every load", level="company", owner="ceo")
    w.key_result(
        vis,
        "KR-VIS-1",
        "Loads with a live ETA from 62% to 80%",
        owner="cpo",
        unit="%",
        baseline=62,
        target=80,
    )
    grow = w.objective("O-GROW", "Grow with mid-market shippers", level="company", owner="ceo")
    w.key_result(
        grow,
        "KR-GROW-1",
        "New mid-market ARR from $0 to $1.2M",
        owner="sales_lead",
        unit="USD",
        baseline=0,
        target=1_200_000,
        contributors=["ae1", "ae2", "ae3"],
    )
    trk = w.objective(
        "O-TRK",
        "Make our ETAs the ones shippers trust",
        level="team",
        team="tracking",
        owner="trk_lead",
        parent="O-VIS",
    )
    w.key_result(
        trk,
        "KR-TRK-1",
        "ETAs within 30 minutes of arrival from 71% to 85%",
        owner="trk_lead",
        unit="%",
        baseline=71,
        target=85,
        contributors=["trk1", "trk2"],
    )
    w.key_result(
        trk,
        "KR-TRK-2",
        "Weekly tracking-page visits by consignees from 20k to 45k",
        owner="trk_pm",
        unit="visits",
        baseline=20000,
        target=45000,
        contributors=["trk3", "designer"],
    )
    car = w.objective(
        "O-CAR",
        "Bring carriers' live positions to every lane",
        level="team",
        team="carriers",
        owner="car_lead",
        parent="O-VIS",
    )
    w.key_result(
        car,
        "KR-CAR-1",
        "Carriers sending live GPS from 340 to 520",
        owner="car_lead",
        unit="carriers",
        baseline=340,
        target=520,
        contributors=["car1", "car2", "car_eng"],
    )
    plat = w.objective(
        "O-PLAT",
        "Process every position update within a minute",
        level="team",
        team="platform",
        owner="plat_lead",
        parent="O-VIS",
    )
    w.key_result(
        plat,
        "KR-PLAT-1",
        "Position ingestion lag p95 from 5 min to 1 min",
        owner="plat_lead",
        unit="min",
        baseline=5,
        target=1,
        contributors=["sre1", "sre2"],
    )
    sup = w.objective(
        "O-SUP",
        "Make support a reason shippers stay",
        level="team",
        team="support",
        owner="sup_lead",
        parent="O-GROW",
    )
    w.key_result(
        sup,
        "KR-SUP-1",
        "Median first response from 4 h to 1.5 h",
        owner="sup_lead",
        unit="h",
        baseline=4,
        target=1.5,
        contributors=["sup1", "sup2", "sup3"],
    )
    w.kpi(
        "K-CHURN",
        "Monthly logo churn",
        unit="%",
        direction="decrease",
        green=1.5,
        red=3.0,
        owner="sup_lead",
        team="support",
        objectives=["O-GROW"],
    )
    w.kpi(
        "K-UPTIME",
        "Tracking API uptime",
        unit="%",
        direction="increase",
        green=99.9,
        red=99.5,
        owner="plat_lead",
        team="platform",
        objectives=["O-PLAT"],
    )

    w.project("TRK", "Tracking", 700)
    w.project("CAR", "Carrier Integrations", 220)
    w.project("PLAT", "Platform", 1300)
    w.project("SUP", "Support", 8800)
    w.project("ENG", "Engineering", 3000)
    eta_epic = w.epic("TRK", "ETA model v3", owner="trk_lead")
    page_epic = w.epic("TRK", "Consignee tracking page", owner="trk_pm", components=["Tracking page"])
    gps_epic = w.epic("CAR", "Carrier GPS connectors", owner="car_lead")
    lag_epic = w.epic("PLAT", "Streaming ingestion", owner="plat_lead")
    w.map("jira", {"epic": eta_epic.key}, "KR-TRK-1")
    w.map("jira", {"component": "Tracking page"}, "KR-TRK-2")
    w.map("jira", {"epic": gps_epic.key}, "KR-CAR-1")
    w.map("jira", {"epic": lag_epic.key}, "KR-PLAT-1")
    w.map("jira", {"project": "SUP"}, "KR-SUP-1")
    for channel, kr in [
        ("eta", "KR-TRK-1"),
        ("tracking-page", "KR-TRK-2"),
        ("carrier-onboarding", "KR-CAR-1"),
        ("ingestion", "KR-PLAT-1"),
        ("support", "KR-SUP-1"),
        ("visibility", "KR-VIS-1"),
        ("mid-market", "KR-GROW-1"),
    ]:
        w.map("slack", {"channel": w.slack.channel(channel)}, kr)
    w.map("hubspot", {"pipeline": "carrier-onboarding"}, "KR-CAR-1")
    w.map("hubspot", {"pipeline": "mid-market"}, "KR-GROW-1")

    eta = w.stream(
        "eta model",
        key_result="KR-TRK-1",
        priorities=["Ship ETA model v3 to all lanes", "Dwell-time features for the ETA model"],
        jira=JiraWork(
            project="TRK",
            epic=eta_epic,
            summaries=[
                "Dwell-time features from yard events",
                "ETA model v3: shadow mode on Midwest lanes",
                "Traffic feed for last-mile ETAs",
                "Backtest harness for ETA accuracy",
                "Weather signal for ETA model",
                "ETA confidence bands in the API",
                "Hours-of-service constraint in ETA",
                "Roll ETA v3 out to all lanes",
            ],
        ),
        slack=SlackWork(
            channel="eta",
            texts=[
                "ETA accuracy this week: 77%.",
                "{issue} is in shadow mode.",
                "Backtest results in the doc.",
                "Picking up {issue}.",
            ],
        ),
    )
    page = w.stream(
        "tracking page",
        key_result="KR-TRK-2",
        priorities=["Branded tracking pages", "SMS updates for consignees"],
        jira=JiraWork(
            project="TRK",
            epic=page_epic,
            components=["Tracking page"],
            summaries=[
                "Shipper branding on the tracking page",
                "SMS opt-in for consignees",
                "Map view with live position",
                "Delivery window on the tracking page",
                "Tracking page in Spanish",
                "Proof of delivery photo",
                "Accessibility pass on the tracking page",
            ],
        ),
        slack=SlackWork(
            channel="tracking-page",
            texts=["Visits last week: 27k.", "{issue} shipped.", "New designs for the map view."],
        ),
    )
    gps_work = JiraWork(
        project="CAR",
        epic=gps_epic,
        summaries=[
            "Samsara connector",
            "Motive connector: handle token refresh",
            "Omnitracs connector",
            "Connector health dashboard",
            "Carrier self-serve GPS setup",
            "Geotab connector",
            "Backfill positions after connector outage",
        ],
    )
    gps = w.stream(
        "carrier gps",
        key_result="KR-CAR-1",
        priorities=["Onboard 15 carriers onto live GPS", "Samsara connector GA"],
        jira=gps_work,
        slack=SlackWork(
            channel="carrier-onboarding",
            texts=["12 carriers live this week.", "{issue} is done.", "Carrier call notes in the thread."],
        ),
        hubspot=HubSpotWork(
            pipeline="carrier-onboarding",
            stages=["contacted", "credentials_received", "testing", "live"],
            deal_names=[
                "Blue Ridge Haulers - GPS",
                "Prairie Line Transport - GPS",
                "Red River Logistics - GPS",
                "Great Lakes Carriers - GPS",
                "Sunbelt Trucking - GPS",
                "Copperline Freight - GPS",
                "Cascade Hauling - GPS",
                "Gulf Coast Express - GPS",
                "Summit Transport - GPS",
            ],
            amounts=(1_000, 5_000),
            deal_type="carrier",
            notes=[
                "{company} sent credentials; testing tomorrow.",
                "{company} positions flowing in test.",
                "{company} is live.",
            ],
            call_titles=["GPS setup call - {company}"],
            meeting_titles=["{company} onboarding session"],
            email_subjects=["Connecting your ELD - {company}"],
            task_subjects=["Check {company} data after a week"],
        ),
    )
    lag = w.stream(
        "streaming ingestion",
        key_result="KR-PLAT-1",
        priorities=["Move ingestion to the streaming pipeline", "Partition the positions topic"],
        jira=JiraWork(
            project="PLAT",
            epic=lag_epic,
            summaries=[
                "Partition the positions topic by carrier",
                "Consumer autoscaling",
                "Dead-letter queue for bad positions",
                "Lag alerting per connector",
                "Retire the batch importer",
                "Load test at 3x peak",
            ],
        ),
        slack=SlackWork(
            channel="ingestion",
            texts=["Ingestion lag p95: 2.1 min.", "{issue} deployed.", "Load test passed at 3x."],
        ),
    )
    tickets = w.stream(
        "support tickets",
        key_result="KR-SUP-1",
        priorities=["Keep first response under 2 h", "Shipper onboarding FAQ"],
        jira=JiraWork(
            project="SUP",
            types=("Task",),
            summaries=[
                "Shipper cannot see loads from a new carrier",
                "ETA shows yesterday's date",
                "Invite a new user to the shipper account",
                "Tracking link expired too early",
                "CSV export missing reference numbers",
                "Webhook to shipper TMS failing",
                "Wrong time zone on delivery window",
                "Consignee SMS not received",
            ],
            comments=(
                "Replied with the fix.",
                "Escalated to tracking on-call.",
                "Customer confirmed resolved.",
                "Waiting on the shipper.",
            ),
        ),
        slack=SlackWork(
            channel="support",
            texts=["Queue at 18 open.", "Median first response today: 1.9 h.", "Who can take {issue}?"],
        ),
    )
    deals = w.stream(
        "mid-market deals",
        key_result="KR-GROW-1",
        priorities=["Move four mid-market deals to proposal", "Close two mid-market deals this month"],
        hubspot=HubSpotWork(
            pipeline="mid-market",
            stages=["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "contractsent"],
            deal_names=[
                "Hartwell Foods - Mid-market",
                "Pioneer Building Supply - Mid-market",
                "Lakeside Paper - Mid-market",
                "Northstar Appliances - Mid-market",
                "Brennan Beverages - Mid-market",
                "Ozark Outdoor - Mid-market",
                "Keystone Plastics - Mid-market",
                "Redwood Furniture - Mid-market",
                "Silverline Pharma - Mid-market",
                "Frontier Feed - Mid-market",
                "Harbor Chemicals - Mid-market",
            ],
            amounts=(30_000, 140_000),
            notes=[
                "Demo with {company} went well; sending pricing.",
                "{company} wants a pilot on two lanes.",
                "{company} signed the order form.",
            ],
            call_titles=["Discovery - {company}", "Pricing call - {company}"],
            meeting_titles=["{company} demo", "{company} pilot review"],
            email_subjects=["Kestrel for {company}", "Pilot plan for {company}"],
            task_subjects=["Send {company} the pilot plan"],
        ),
        slack=SlackWork(
            channel="mid-market",
            texts=[
                "Two new mid-market demos booked.",
                "Order form out to Hartwell.",
                "Pipeline review at 2.",
            ],
        ),
    )
    visibility = w.stream(
        "visibility review",
        key_result="KR-VIS-1",
        priorities=["Weekly live-ETA coverage review"],
        slack=SlackWork(
            channel="visibility",
            texts=[
                "Live ETA coverage this week: 70%.",
                "Coverage by lane is in the dashboard.",
                "Two big carriers go live next week.",
            ],
        ),
    )
    chores = w.stream(
        "engineering chores",
        priorities=["On-call", "Dependency upgrades"],
        jira=JiraWork(project="ENG", summaries=BUG_SUMMARIES, types=("Bug", "Task")),
        slack=SlackWork(channel="engineering", texts=ENGINEERING_CHATTER),
    )

    w.allocate("ceo", weeks(1, 13), {visibility: 1, deals: 1})
    w.allocate("cfo", weeks(1, 13), {deals: 1})
    w.allocate("cpo", weeks(1, 13), {visibility: 5, eta: 1})
    w.busier("cpo", 1.6)
    w.allocate("trk_lead", weeks(1, 13), {eta: 6, visibility: 1, chores: 2})
    for person in ("trk1", "trk2"):
        w.allocate(person, weeks(1, 13), {eta: 8, chores: 2})
    w.allocate("trk_pm", weeks(1, 13), {page: 7, chores: 1})
    w.allocate("trk3", weeks(1, 13), {page: 8, chores: 2})
    w.allocate("designer", weeks(1, 13), {page: 9, chores: 1})
    w.allocate("car_lead", weeks(1, 13), {gps: 8, visibility: 1})
    for person in ("car1", "car2", "car_eng"):
        w.allocate(person, weeks(1, 13), {gps: 9, chores: 1})
    w.allocate("plat_lead", weeks(1, 13), {lag: 6, chores: 3})
    for person in ("sre1", "sre2"):
        w.allocate(person, weeks(1, 13), {lag: 7, chores: 3})
    for person in ("sup_lead", "sup1", "sup2", "sup3"):
        w.allocate(person, weeks(1, 13), {tickets: 9, chores: 1})
    for person in ("sales_lead", "ae1", "ae2", "ae3", "sdr"):
        w.allocate(person, weeks(1, 13), {deals: 9})

    w.holiday(date(2026, 9, 7))  # Labor Day
    for person, away in [
        ("trk1", [6]),
        ("trk2", [9]),
        ("designer", [7, 8]),
        ("car1", [10]),
        ("sre2", [5]),
        ("sup2", [11]),
        ("ae2", [8]),
        ("sales_lead", [12]),
        ("plat_lead", [4]),
    ]:
        w.away(person, away)

    w.progress("KR-VIS-1", by="cpo", fraction=on_pace(1.06))
    w.progress("KR-GROW-1", by="sales_lead", fraction=on_pace(1.1), decimals=0)
    w.progress("KR-TRK-1", by="trk_lead", fraction=on_pace(1.05))
    w.progress("KR-TRK-2", by="trk_pm", fraction=on_pace(1.1), decimals=0)
    w.progress("KR-CAR-1", by="car_lead", fraction=on_pace(1.08), decimals=0)
    w.progress("KR-PLAT-1", by="plat_lead", fraction=on_pace(1.1), decimals=1)
    w.progress("KR-SUP-1", by="sup_lead", fraction=on_pace(1.06), decimals=1)
    w.kpi_readings("K-CHURN", lambda week: 1.7 if week == 7 else 1.1 + 0.05 * (week % 4), decimals=2)
    w.kpi_note("K-CHURN", 7, "Two small shippers churned after an acquisition; amber for a week.")
    w.kpi_readings("K-UPTIME", lambda week: 99.94 + 0.01 * (week % 5), decimals=2)
    for objective, owner in [
        ("O-TRK", "trk_lead"),
        ("O-CAR", "car_lead"),
        ("O-PLAT", "plat_lead"),
        ("O-SUP", "sup_lead"),
    ]:
        w.review(w.moment(1, 1, 10, owner), objective, owner)

    # A key result reworded (no target change): nothing to re-confirm.
    w.key_result_change(
        w.moment(3, 2, 11, "trk_pm"),
        "KR-TRK-2",
        "trk_pm",
        title="Weekly consignee visits to tracking pages from 20k to 45k",
    )
    # The company raises a target; every child objective's owner re-confirms within two days.
    raised = w.moment(6, 1, 9, "ceo")
    w.key_result_change(raised, "KR-VIS-1", "ceo", target=82)
    w.review(w.moment(6, 2, 10, "trk_lead"), "O-TRK", "trk_lead")
    w.review(w.moment(6, 2, 14, "car_lead"), "O-CAR", "car_lead")
    w.review(w.moment(6, 3, 9, "plat_lead"), "O-PLAT", "plat_lead")
    # A cross-team blocker that is cleared the same afternoon.
    blocked = w.jira_issue(
        w.moment(8, 1, 9, "trk1"),
        "trk1",
        eta,
        "ETA v3: read dwell events from the new topic",
        assignee="trk1",
        held=True,
    )
    blocker = w.jira_issue(
        w.moment(8, 1, 9.5, "sre1"),
        "sre1",
        chores,
        "Grant the ETA service read access to the yard topic",
        assignee="sre1",
        held=True,
    )
    w.jira_block(w.moment(8, 1, 10, "trk1"), "trk1", [blocked], blocker, eta)
    w.jira_transition(w.moment(8, 1, 13, "sre1"), "sre1", blocker, "In Progress", chores)
    w.jira_transition(w.moment(8, 1, 15, "sre1"), "sre1", blocker, "Done", chores)
    w.jira_comment(w.moment(8, 1, 15.5, "trk1"), "trk1", blocked, "Access is there, thanks. Continuing.", eta)
    w.jira_release(w.moment(8, 1, 16, "trk1"), [blocked, blocker])

    w.quiet(
        "O-VIS",
        "O-GROW",
        "O-TRK",
        "O-CAR",
        "O-PLAT",
        "O-SUP",
        "KR-VIS-1",
        "KR-GROW-1",
        "KR-TRK-1",
        "KR-TRK-2",
        "KR-CAR-1",
        "KR-PLAT-1",
        "KR-SUP-1",
    )
    return w


# --- d) reorg-cascade ------------------------------------------------------------------------------------


def reorg_cascade() -> World:
    w = World(
        name="reorg-cascade",
        description=(
            "Orbital Learning sells a classroom platform to school districts. In week 6 the board widens "
            "the company objective to include community colleges and the CEO rewrites it. The Schools "
            "team's owner re-confirms her objective two days later; the Partnerships team never does. In "
            "week 4 the AI team adds its own team objective for an AI tutor beta without linking it to any "
            "company objective, and nobody reviews it. In week 9 Operations is moved under the company "
            "objective and its owner confirms within three days; in week 10 the district-contracts target "
            "is raised and Schools and Operations re-confirm the next days. The work itself is healthy "
            "everywhere."
        ),
        seed=5404,
        organization="Orbital Learning",
        slug="orbital",
        time_zone="Europe/London",
        cycle_name="Autumn 2026",
        start=date(2026, 9, 7),
        domain="orbital-learning.test",
    )
    staff(
        w,
        [
            ("exec", "Leadership", None, "ceo"),
            ("schools", "Schools", "exec", "sch_lead"),
            ("partners", "Partnerships", "exec", "par_lead"),
            ("ai", "AI Tutor", "exec", "ai_lead"),
            ("ops", "Operations", "exec", "ops_lead"),
            ("platform", "Platform", "exec", "plat_lead"),
        ],
        [
            ("ceo", "Imogen Hart", "admin", "exec", None, "", "s"),
            ("cto", "Rahul Verma", "manager", "exec", "ceo", "", "js"),
            ("sch_lead", "Beatrice Okonkwo", "manager", "schools", "ceo", "", "sh"),
            ("ae1", "Tom Fletcher", "employee", "schools", "sch_lead", "", "sh"),
            ("ae2", "Megan Price", "employee", "schools", "sch_lead", "", "sh"),
            ("csm_lead", "Yasmin Aziz", "manager", "schools", "sch_lead", "", "sh"),
            ("csm1", "Callum Ross", "employee", "schools", "csm_lead", "Europe/Dublin", "sh"),
            ("csm2", "Freya Lund", "employee", "schools", "csm_lead", "", "sh"),
            ("par_lead", "Gabriel Costa", "manager", "partners", "ceo", "Europe/Lisbon", "jsh"),
            ("par1", "Hollie Evans", "employee", "partners", "par_lead", "", "jsh"),
            ("par2", "Kwabena Owusu", "employee", "partners", "par_lead", "", "js"),
            ("ai_lead", "Sofia Lindgren", "manager", "ai", "cto", "Europe/Stockholm", "js"),
            ("ai1", "Arjun Patel", "employee", "ai", "ai_lead", "", "js"),
            ("ai2", "Lena Vogel", "employee", "ai", "ai_lead", "Europe/Berlin", "js"),
            ("ai3", "Daniel Moreau", "employee", "ai", "ai_lead", "Europe/Paris", "js"),
            ("ops_lead", "Fiona Campbell", "manager", "ops", "ceo", "", "js"),
            ("ops1", "Jack Thornton", "employee", "ops", "ops_lead", "", "js"),
            ("ops2", "Amelia Shah", "employee", "ops", "ops_lead", "", "js"),
            ("ops3", "Ollie Grant", "employee", "ops", "ops_lead", "", "js"),
            ("plat_lead", "Nikolai Ivanov", "manager", "platform", "cto", "Europe/Riga", "js"),
            ("eng1", "Chloe Bennett", "employee", "platform", "plat_lead", "", "js"),
            ("eng2", "Marek Nowak", "employee", "platform", "plat_lead", "Europe/Warsaw", "js"),
            ("eng3", "Priyanka Iyer", "employee", "platform", "plat_lead", "", "js"),
            ("eng_lead", "Samir Haddad", "manager", "platform", "plat_lead", "", "js"),
            ("eng4", "Ruth Adeyemi", "employee", "platform", "eng_lead", "", "js"),
            ("designer", "Elliot Ward", "employee", "ai", "ai_lead", "", "js"),
        ],
    )
    company = w.objective(
        "O-CO",
        "Win K-12 districts across the UK",
        level="company",
        owner="ceo",
        description="Districts choose Orbital for every classroom, from primary to sixth form.",
    )
    w.key_result(
        company,
        "KR-CO-1",
        "District contracts signed from 12 to 30",
        owner="sch_lead",
        unit="districts",
        baseline=12,
        target=30,
        contributors=["ae1", "ae2"],
    )
    platform = w.objective(
        "O-PLATFORM", "Keep the classroom platform fast and safe", level="company", owner="cto"
    )
    w.key_result(
        platform,
        "KR-PF-1",
        "Lesson load p95 from 2.4 s to 1.2 s",
        owner="plat_lead",
        unit="s",
        baseline=2.4,
        target=1.2,
        contributors=["eng1", "eng2"],
    )
    schools = w.objective(
        "O-SCHOOLS",
        "Make districts successful in their first term",
        level="team",
        team="schools",
        owner="sch_lead",
        parent="O-CO",
    )
    w.key_result(
        schools,
        "KR-SCH-1",
        "Districts with 60% weekly active teachers from 5 to 18",
        owner="csm_lead",
        unit="districts",
        baseline=5,
        target=18,
        contributors=["csm1", "csm2"],
    )
    partners = w.objective(
        "O-PARTNERS",
        "Bring publisher content into every district",
        level="team",
        team="partners",
        owner="par_lead",
        parent="O-CO",
    )
    w.key_result(
        partners,
        "KR-PAR-1",
        "Publisher catalogues integrated from 4 to 12",
        owner="par_lead",
        unit="catalogues",
        baseline=4,
        target=12,
        contributors=["par1", "par2"],
    )
    ops = w.objective(
        "O-OPS",
        "Run term start without a hitch",
        level="team",
        team="ops",
        owner="ops_lead",
        parent="O-PLATFORM",
    )
    w.key_result(
        ops,
        "KR-OPS-1",
        "Rostering tickets resolved within a day from 70% to 90%",
        owner="ops_lead",
        unit="%",
        baseline=70,
        target=90,
        contributors=["ops1", "ops2"],
    )
    perf = w.objective(
        "O-PERF",
        "Make the app crash-proof in class",
        level="team",
        team="platform",
        owner="eng_lead",
        parent="O-PLATFORM",
    )
    w.key_result(
        perf,
        "KR-PERF-1",
        "Crash-free classroom sessions from 98.5% to 99.5%",
        owner="eng_lead",
        unit="%",
        baseline=98.5,
        target=99.5,
        contributors=["eng3", "eng4"],
    )
    w.kpi(
        "K-NPS",
        "Teacher NPS",
        unit="score",
        direction="increase",
        green=35,
        red=20,
        owner="csm_lead",
        team="schools",
        objectives=["O-SCHOOLS"],
    )

    w.project("PLAT", "Platform", 2100)
    w.project("PUB", "Publisher Integrations", 150)
    w.project("AI", "AI Tutor", 10)
    w.project("ROST", "Rostering", 5200)
    w.project("ENG", "Engineering", 880)
    load_epic = w.epic("PLAT", "Lesson load budget", owner="plat_lead")
    crash_epic = w.epic("PLAT", "Crash-free classrooms", owner="eng_lead")
    catalogue_epic = w.epic("PUB", "Catalogue import pipeline", owner="par_lead")
    tutor_epic = w.epic("AI", "AI tutor beta", owner="ai_lead")
    w.map("jira", {"epic": load_epic.key}, "KR-PF-1")
    w.map("jira", {"epic": crash_epic.key}, "KR-PERF-1")
    w.map("jira", {"epic": catalogue_epic.key}, "KR-PAR-1")
    w.map("jira", {"project": "ROST"}, "KR-OPS-1")
    for channel, kr in [
        ("district-deals", "KR-CO-1"),
        ("district-success", "KR-SCH-1"),
        ("publishers", "KR-PAR-1"),
        ("rostering", "KR-OPS-1"),
        ("perf", "KR-PF-1"),
        ("crashes", "KR-PERF-1"),
    ]:
        w.map("slack", {"channel": w.slack.channel(channel)}, kr)
    w.map("hubspot", {"pipeline": "districts"}, "KR-CO-1")
    w.map("hubspot", {"pipeline": "district-onboarding"}, "KR-SCH-1")
    w.map("hubspot", {"pipeline": "publishers"}, "KR-PAR-1")

    districts = w.stream(
        "district deals",
        key_result="KR-CO-1",
        priorities=["Close the Kent and Surrey districts", "Pilot proposals for three districts"],
        hubspot=HubSpotWork(
            pipeline="districts",
            stages=["appointmentscheduled", "qualifiedtobuy", "pilot", "contractsent"],
            deal_names=[
                "Kent Learning Trust",
                "Surrey Schools Partnership",
                "Leeds Academies",
                "Bristol Learning Alliance",
                "Norfolk Primary Federation",
                "Cardiff Schools",
                "Manchester Academy Trust",
                "Devon Learning Hub",
                "Glasgow City Schools",
                "Oxford Schools Partnership",
                "Hampshire Academies",
            ],
            amounts=(40_000, 300_000),
            notes=[
                "{company} wants a pilot in four schools.",
                "Procurement call with {company}; framework agreed.",
                "{company} signed.",
            ],
            call_titles=["Discovery - {company}", "Procurement call - {company}"],
            meeting_titles=["{company} headteacher demo", "{company} pilot review"],
            email_subjects=["Orbital for {company}", "Pilot proposal - {company}"],
            task_subjects=["Send the pilot proposal to {company}"],
        ),
        slack=SlackWork(
            channel="district-deals",
            texts=["Kent pilot approved.", "Two more district demos this week.", "Contract out to Leeds."],
        ),
    )
    success = w.stream(
        "district success",
        key_result="KR-SCH-1",
        priorities=["Teacher training for the new districts", "Weekly active teacher reviews"],
        hubspot=HubSpotWork(
            pipeline="district-onboarding",
            stages=["kickoff", "training", "adoption"],
            deal_names=[
                "Hull Schools - onboarding",
                "York Academies - onboarding",
                "Derby Learning - onboarding",
                "Wirral Schools - onboarding",
                "Bath Primary - onboarding",
                "Essex Trust - onboarding",
            ],
            amounts=(20_000, 90_000),
            deal_type="existingbusiness",
            notes=[
                "{company}: teachers trained in two schools.",
                "{company} adoption review; 58% weekly active.",
                "{company} asked for a maths workshop.",
            ],
            call_titles=["Adoption call - {company}"],
            meeting_titles=["{company} teacher training"],
            email_subjects=["Your term plan - {company}"],
            task_subjects=["Book training with {company}"],
        ),
        slack=SlackWork(
            channel="district-success",
            texts=[
                "Hull crossed 60% weekly active.",
                "Training slots for next week in the thread.",
                "Adoption report is out.",
            ],
        ),
    )
    catalogue = w.stream(
        "publisher catalogues",
        key_result="KR-PAR-1",
        priorities=["Integrate two more publisher catalogues", "Catalogue import QA"],
        jira=JiraWork(
            project="PUB",
            epic=catalogue_epic,
            summaries=[
                "Import pipeline for Harcourt Maths",
                "Metadata mapping for the science catalogue",
                "Licensing checks per district",
                "Catalogue QA dashboard",
                "Import for Pearland Readers",
                "Curriculum tagging for imported lessons",
                "Thumbnail generation for catalogue items",
            ],
        ),
        slack=SlackWork(
            channel="publishers",
            texts=["Harcourt catalogue is live.", "{issue} merged.", "Call with Pearland tomorrow."],
        ),
        hubspot=HubSpotWork(
            pipeline="publishers",
            stages=["contacted", "terms", "integration"],
            deal_names=[
                "Harcourt Maths",
                "Pearland Readers",
                "Bluebell Science",
                "Atlas Geography",
                "Quill History",
                "Mosaic Languages",
            ],
            amounts=(5_000, 40_000),
            deal_type="partnership",
            notes=["{company} agreed revenue share terms.", "{company} sent the sample catalogue."],
            call_titles=["Partnership call - {company}"],
            meeting_titles=["{company} integration kickoff"],
            email_subjects=["Catalogue integration - {company}"],
            task_subjects=["Chase {company} for the catalogue feed"],
        ),
    )
    tutor = w.stream(
        "ai tutor",
        priorities=["Tutor beta: maths hints", "Safety review of tutor answers"],
        jira=JiraWork(
            project="AI",
            epic=tutor_epic,
            summaries=[
                "Hint generation for KS3 maths",
                "Safety filter for tutor answers",
                "Teacher controls for the tutor",
                "Tutor usage analytics",
                "Evaluation set for hint quality",
                "Beta onboarding for pilot schools",
                "Rate limits per pupil",
            ],
        ),
        slack=SlackWork(
            channel="ai-tutor",
            texts=[
                "Hint quality eval: 82% rated helpful.",
                "{issue} is on staging.",
                "Safety review notes are up.",
            ],
        ),
    )
    rostering = w.stream(
        "rostering",
        key_result="KR-OPS-1",
        priorities=["Clear the rostering queue before half term", "Automate MIS sync checks"],
        jira=JiraWork(
            project="ROST",
            types=("Task",),
            summaries=[
                "Class lists missing for Year 7",
                "Teacher moved schools, access not updated",
                "MIS sync failing for a trust",
                "Duplicate pupils after a merge",
                "New school added to trust",
                "Timetable import wrong week",
                "Pupil premium flags missing",
            ],
            comments=("Resynced from the MIS.", "Fixed, school confirmed.", "Escalated to platform."),
        ),
        slack=SlackWork(
            channel="rostering", texts=["Queue at 31.", "{issue} fixed.", "MIS vendor outage this morning."]
        ),
    )
    load = w.stream(
        "lesson load",
        key_result="KR-PF-1",
        priorities=["Lesson load under 1.5 s", "Preload the next slide"],
        jira=JiraWork(
            project="PLAT",
            epic=load_epic,
            summaries=[
                "Preload the next slide",
                "Image CDN for lesson assets",
                "Lazy-load interactive widgets",
                "Cache lesson JSON at the edge",
                "Trim the lesson bundle",
                "Measure load on school networks",
            ],
        ),
        slack=SlackWork(channel="perf", texts=["Lesson load p95: 1.9 s.", "{issue} shipped."]),
    )
    crashes = w.stream(
        "crash-free",
        key_result="KR-PERF-1",
        priorities=["Fix the top five crashes", "Offline mode for flaky school wifi"],
        jira=JiraWork(
            project="PLAT",
            epic=crash_epic,
            summaries=[
                "Crash when a pupil rejoins a session",
                "Offline mode for quizzes",
                "Memory leak on old Chromebooks",
                "Crash reporting for the iPad app",
                "Recover session after wifi drop",
            ],
        ),
        slack=SlackWork(channel="crashes", texts=["Crash-free sessions this week: 99.1%.", "{issue} fixed."]),
    )
    chores = w.stream(
        "engineering chores",
        priorities=["On-call", "Dependency upgrades"],
        jira=JiraWork(project="ENG", summaries=BUG_SUMMARIES, types=("Bug", "Task")),
        slack=SlackWork(channel="engineering", texts=ENGINEERING_CHATTER),
    )

    w.allocate("ceo", weeks(1, 13), {districts: 1, success: 1})
    w.allocate("cto", weeks(1, 13), {load: 2, tutor: 1, chores: 1})
    w.allocate("sch_lead", weeks(1, 13), {districts: 7, success: 1})
    for person in ("ae1", "ae2"):
        w.allocate(person, weeks(1, 13), {districts: 9})
    for person in ("csm_lead", "csm1", "csm2"):
        w.allocate(person, weeks(1, 13), {success: 9})
    for person in ("par_lead", "par1", "par2"):
        w.allocate(person, weeks(1, 13), {catalogue: 9, chores: 1})
    for person in ("ai_lead", "ai1", "ai2", "ai3", "designer"):
        w.allocate(person, weeks(1, 13), {tutor: 8, chores: 2})
    for person in ("ops_lead", "ops1", "ops2", "ops3"):
        w.allocate(person, weeks(1, 13), {rostering: 9, chores: 1})
    for person in ("plat_lead", "eng1", "eng2"):
        w.allocate(person, weeks(1, 13), {load: 7, chores: 3})
    for person in ("eng_lead", "eng3", "eng4"):
        w.allocate(person, weeks(1, 13), {crashes: 7, chores: 3})

    for person, away in [
        ("ae2", [8]),
        ("csm1", [7]),
        ("par2", [10]),
        ("ops2", [8]),
        ("eng3", [11]),
        ("ai2", [9]),
    ]:
        w.away(person, away)
    w.holiday(date(2026, 10, 26))  # half-term Monday: the whole company takes it

    w.progress("KR-CO-1", by="sch_lead", fraction=on_pace(1.08), decimals=0)
    w.progress("KR-PF-1", by="plat_lead", fraction=on_pace(1.08), decimals=2)
    w.progress("KR-SCH-1", by="csm_lead", fraction=on_pace(1.1), decimals=0)
    w.progress("KR-PAR-1", by="par_lead", fraction=on_pace(1.1), decimals=0)
    w.progress("KR-OPS-1", by="ops_lead", fraction=on_pace(1.05))
    w.progress("KR-PERF-1", by="eng_lead", fraction=on_pace(1.05), decimals=2)
    w.progress("KR-TUTOR-1", by="ai_lead", fraction=on_pace(1.0), decimals=0)
    w.key_result_added_in("KR-TUTOR-1", 4)
    w.kpi_readings("K-NPS", lambda week: 38 + week % 5, decimals=0)
    for objective, owner in [
        ("O-SCHOOLS", "sch_lead"),
        ("O-PARTNERS", "par_lead"),
        ("O-OPS", "ops_lead"),
        ("O-PERF", "eng_lead"),
    ]:
        w.review(w.moment(1, 1, 11, owner), objective, owner)

    # Week 4: the AI team writes down its own objective, linked to nothing, and never reviews it.
    w.objective_add(
        w.moment(4, 1, 10, "ai_lead"),
        "ai_lead",
        "O-TUTOR",
        "Ship the AI tutor beta to 20 schools",
        level="team",
        owner="ai_lead",
        team="ai",
        parent=None,
        key_results=[
            w.new_key_result(
                "KR-TUTOR-1",
                "Schools in the AI tutor beta from 0 to 20",
                owner="ai_lead",
                unit="schools",
                baseline=0,
                target=20,
                contributors=["ai1", "ai2"],
            )
        ],
    )
    # Week 6: the company objective is rewritten; Schools re-confirms, Partnerships never does.
    w.objective_change(
        w.moment(6, 1, 9, "ceo"),
        "O-CO",
        "ceo",
        title="Win K-12 districts and community colleges across the UK",
        description="Districts and community colleges choose Orbital for every classroom.",
    )
    w.review(w.moment(6, 3, 11, "sch_lead"), "O-SCHOOLS", "sch_lead")
    # Week 9: Operations moves under the company objective and its owner confirms within three days.
    w.objective_change(w.moment(9, 1, 10, "ceo"), "O-OPS", "ceo", parent="O-CO")
    w.review(w.moment(9, 4, 10, "ops_lead"), "O-OPS", "ops_lead")
    # Week 10: the contracts target goes up; the children that care re-confirm the next days.
    w.key_result_change(w.moment(10, 0, 10, "ceo"), "KR-CO-1", "ceo", target=34)
    w.review(w.moment(10, 1, 11, "sch_lead"), "O-SCHOOLS", "sch_lead")
    w.review(w.moment(10, 2, 9, "ops_lead"), "O-OPS", "ops_lead")

    w.finding("cascade_break", "O-TUTOR", 4)
    w.finding("cascade_break", "O-PARTNERS", 6)
    w.quiet(
        "O-SCHOOLS",
        "O-OPS",
        "O-PERF",
        "O-PLATFORM",
        "KR-CO-1",
        "KR-PF-1",
        "KR-SCH-1",
        "KR-PAR-1",
        "KR-OPS-1",
        "KR-PERF-1",
    )
    return w


# --- e) blocked-checkout ---------------------------------------------------------------------------------


def blocked_checkout() -> World:
    w = World(
        name="blocked-checkout",
        description=(
            "Cobalt Pay runs online checkout for European merchants. The checkout team's conversion key "
            "result depends on network tokens from the core platform: from week 4 its one-page-checkout "
            "issues are blocked by two core-platform issues that the platform team, busy with its own "
            "latency key result, only picks up in week 7 and closes in week 10. The saved-cards key "
            "result's owner moves to lead a payouts initiative in week 4 and does nothing more on it, while "
            "its two engineers keep shipping and post the updates. Risk, merchant success and the core "
            "platform's own key result progress normally."
        ),
        seed=5505,
        organization="Cobalt Pay",
        slug="cobalt",
        time_zone="Europe/Madrid",
        cycle_name="2026-Q4",
        start=date(2026, 10, 5),
        domain="cobaltpay.test",
    )
    staff(
        w,
        [
            ("exec", "Leadership", None, "ceo"),
            ("checkout", "Checkout", "exec", "chk_lead"),
            ("core", "Core Platform", "exec", "core_lead"),
            ("risk", "Risk", "exec", "risk_lead"),
            ("ms", "Merchant Success", "exec", "ms_lead"),
        ],
        [
            ("ceo", "Lucia Navarro", "admin", "exec", None, "", "s"),
            ("cfo", "Henrik Dahl", "manager", "exec", "ceo", "Europe/Stockholm", "s"),
            ("cto", "Paulo Ferreira", "manager", "exec", "ceo", "Europe/Lisbon", "js"),
            ("chk_lead", "Alba Romero", "manager", "checkout", "cto", "", "js"),
            ("chk_pm", "Jakub Wojcik", "manager", "checkout", "chk_lead", "Europe/Warsaw", "js"),
            ("pay_pm", "Irene Castillo", "manager", "checkout", "chk_lead", "", "js"),
            ("chk1", "Marta Gil", "employee", "checkout", "chk_lead", "", "js"),
            ("chk2", "Pierre Lambert", "employee", "checkout", "chk_lead", "Europe/Paris", "js"),
            ("chk3", "Sara Conti", "employee", "checkout", "chk_lead", "Europe/Rome", "js"),
            ("chk4", "Diego Soto", "employee", "checkout", "chk_lead", "", "js"),
            ("chk5", "Nora Weiss", "employee", "checkout", "chk_lead", "Europe/Vienna", "js"),
            ("chk_design", "Ines Moura", "employee", "checkout", "chk_pm", "Europe/Lisbon", "js"),
            ("core_lead", "Stefan Richter", "manager", "core", "cto", "Europe/Berlin", "js"),
            ("core1", "Ana Ruiz", "employee", "core", "core_lead", "", "js"),
            ("core2", "Tiago Almeida", "employee", "core", "core_lead", "Europe/Lisbon", "js"),
            ("core3", "Katarzyna Zielinska", "employee", "core", "core_lead", "Europe/Warsaw", "js"),
            ("core4", "Bruno Martin", "employee", "core", "core_lead", "Europe/Paris", "js"),
            ("risk_lead", "Elena Popescu", "manager", "risk", "cto", "Europe/Bucharest", "js"),
            ("risk1", "Jonas Berg", "employee", "risk", "risk_lead", "Europe/Oslo", "js"),
            ("risk2", "Carmen Vidal", "employee", "risk", "risk_lead", "", "js"),
            ("ms_lead", "Oliver Brooks", "manager", "ms", "ceo", "Europe/London", "sh"),
            ("ms1", "Laura Sanz", "employee", "ms", "ms_lead", "", "sh"),
            ("ms2", "Mehdi Benali", "employee", "ms", "ms_lead", "Europe/Paris", "sh"),
            ("ms3", "Giulia Ricci", "employee", "ms", "ms_lead", "Europe/Rome", "sh"),
            ("support1", "Pablo Ortiz", "employee", "ms", "ms_lead", "", "js"),
            ("support2", "Eva Horvat", "employee", "ms", "ms_lead", "Europe/Zagreb", "js"),
            ("analyst", "Rui Santos", "employee", "exec", "cfo", "Europe/Lisbon", "js"),
        ],
    )
    conv = w.objective("O-CONV", "Be the checkout merchants never think about", level="company", owner="ceo")
    w.key_result(
        conv,
        "KR-CONV-1",
        "Monthly processed volume from EUR 410M to EUR 520M",
        owner="cfo",
        unit="EUR M",
        baseline=410,
        target=520,
        contributors=["analyst"],
    )
    chk = w.objective(
        "O-CHK",
        "Make our checkout convert best in class",
        level="team",
        team="checkout",
        owner="chk_lead",
        parent="O-CONV",
    )
    w.key_result(
        chk,
        "KR-CHK-1",
        "Checkout conversion from 71% to 76%",
        owner="chk_pm",
        unit="%",
        baseline=71,
        target=76,
        contributors=["chk1", "chk2", "chk3"],
    )
    w.key_result(
        chk,
        "KR-CHK-2",
        "Returning shoppers paying with a saved card from 18% to 35%",
        owner="pay_pm",
        unit="%",
        baseline=18,
        target=35,
        contributors=["chk4", "chk5"],
    )
    core = w.objective(
        "O-CORE",
        "Authorise every payment fast",
        level="team",
        team="core",
        owner="core_lead",
        parent="O-CONV",
    )
    w.key_result(
        core,
        "KR-CORE-1",
        "Card authorisation latency p95 from 850 ms to 500 ms",
        owner="core_lead",
        unit="ms",
        baseline=850,
        target=500,
        contributors=["core1", "core2", "core3"],
    )
    risk = w.objective(
        "O-RISK",
        "Stop fraud without stopping good shoppers",
        level="team",
        team="risk",
        owner="risk_lead",
        parent="O-CONV",
    )
    w.key_result(
        risk,
        "KR-RISK-1",
        "Chargeback rate from 0.32% to 0.20%",
        owner="risk_lead",
        unit="%",
        baseline=0.32,
        target=0.2,
        contributors=["risk1", "risk2"],
    )
    ms = w.objective(
        "O-MS",
        "Get merchants live in two weeks",
        level="team",
        team="ms",
        owner="ms_lead",
        parent="O-CONV",
    )
    w.key_result(
        ms,
        "KR-MS-1",
        "Merchants live within 14 days of signing from 55% to 80%",
        owner="ms_lead",
        unit="%",
        baseline=55,
        target=80,
        contributors=["ms1", "ms2"],
    )
    w.kpi(
        "K-AUTH",
        "Authorisation success rate",
        unit="%",
        direction="increase",
        green=92,
        red=88,
        owner="core_lead",
        team="core",
        objectives=["O-CORE"],
    )
    w.kpi(
        "K-DISPUTES",
        "Open disputes",
        unit="disputes",
        direction="decrease",
        green=300,
        red=450,
        owner="risk_lead",
        team="risk",
        objectives=["O-RISK"],
    )

    w.project("CHK", "Checkout", 1400)
    w.project("CORE", "Core Platform", 800)
    w.project("RISK", "Risk", 330)
    w.project("PAY", "Payouts", 12)
    w.project("SUP", "Merchant Support", 6100)
    onepage_epic = w.epic("CHK", "One-page checkout", owner="chk_pm")
    saved_epic = w.epic("CHK", "Saved cards everywhere", owner="pay_pm")
    latency_epic = w.epic("CORE", "Authorisation latency", owner="core_lead")
    payouts_epic = w.epic("PAY", "Instant payouts for marketplaces", owner="pay_pm", days_before_start=-20)
    w.map("jira", {"epic": onepage_epic.key}, "KR-CHK-1")
    w.map("jira", {"epic": saved_epic.key}, "KR-CHK-2")
    w.map("jira", {"epic": latency_epic.key}, "KR-CORE-1")
    w.map("jira", {"label": "fraud-rules"}, "KR-RISK-1")
    for channel, kr in [
        ("checkout", "KR-CHK-1"),
        ("saved-cards", "KR-CHK-2"),
        ("core-latency", "KR-CORE-1"),
        ("fraud", "KR-RISK-1"),
        ("merchant-onboarding", "KR-MS-1"),
        ("volume-weekly", "KR-CONV-1"),
    ]:
        w.map("slack", {"channel": w.slack.channel(channel)}, kr)
    w.map("hubspot", {"pipeline": "merchant-onboarding"}, "KR-MS-1")

    onepage = w.stream(
        "one-page checkout",
        key_result="KR-CHK-1",
        priorities=["One-page checkout A/B on 10% of traffic", "Network tokens in the card form"],
        jira=JiraWork(
            project="CHK",
            epic=onepage_epic,
            summaries=[
                "One-page layout behind a flag",
                "Address autocomplete",
                "Inline card validation",
                "Express pay buttons above the fold",
                "A/B test harness for checkout variants",
                "Error copy for declined cards",
                "Mobile keyboard types per field",
                "Guest checkout without account creation",
                "Checkout funnel events",
                "Reduce checkout JS bundle",
            ],
        ),
        slack=SlackWork(
            channel="checkout",
            texts=[
                "Conversion on the test cohort: 72.4%.",
                "{issue} is in review.",
                "A/B numbers for last week are in the doc.",
                "Picking up {issue}.",
            ],
        ),
    )
    saved = w.stream(
        "saved cards",
        key_result="KR-CHK-2",
        priorities=["Saved cards on the mobile SDK", "Card-on-file updates from the networks"],
        jira=JiraWork(
            project="CHK",
            epic=saved_epic,
            summaries=[
                "Saved cards in the iOS SDK",
                "Saved cards in the Android SDK",
                "Card-on-file consent screen",
                "Default card selection",
                "Remove a saved card",
                "Saved card usage dashboard",
                "Migrate legacy vault references",
                "Saved cards for guest shoppers with e-mail",
            ],
        ),
        slack=SlackWork(
            channel="saved-cards",
            texts=["Saved-card usage this week: 22%.", "{issue} shipped.", "Android SDK build is out."],
        ),
    )
    payouts = w.stream(
        "instant payouts",
        priorities=["Instant payouts design review", "Partner bank due diligence"],
        jira=JiraWork(
            project="PAY",
            epic=payouts_epic,
            types=("Story", "Task"),
            summaries=[
                "Instant payouts: product requirements",
                "Partner bank API evaluation",
                "Payout fee model",
                "Marketplace split payouts design",
                "Regulatory review for instant payouts",
            ],
        ),
        slack=SlackWork(
            channel="payouts",
            texts=["Bank shortlist is down to two.", "Design review Thursday.", "Pricing model in the doc."],
        ),
    )
    latency = w.stream(
        "authorisation latency",
        key_result="KR-CORE-1",
        priorities=["Regional routing for authorisations", "Cut p95 below 650 ms"],
        jira=JiraWork(
            project="CORE",
            epic=latency_epic,
            summaries=[
                "Regional routing to acquirers",
                "Connection reuse to the card networks",
                "Async 3DS lookups",
                "Trim the risk check on the hot path",
                "Latency dashboard per acquirer",
                "Retry budget for acquirer timeouts",
                "Move tokenisation calls off the auth path",
            ],
        ),
        slack=SlackWork(
            channel="core-latency",
            texts=["Auth p95: 720 ms.", "{issue} deployed.", "Regional routing live in FR."],
        ),
    )
    core_chores = w.stream(
        "core platform chores",
        priorities=["On-call", "Vault maintenance"],
        jira=JiraWork(project="CORE", summaries=BUG_SUMMARIES, types=("Bug", "Task")),
        slack=SlackWork(channel="core", texts=ENGINEERING_CHATTER),
    )
    fraud = w.stream(
        "fraud rules",
        key_result="KR-RISK-1",
        priorities=["New velocity rules", "Chargeback feedback loop"],
        jira=JiraWork(
            project="RISK",
            labels=["fraud-rules"],
            summaries=[
                "Velocity rule per device",
                "Chargeback reasons feed into the model",
                "Rule simulator on last month's traffic",
                "BIN country mismatch rule",
                "Manual review queue tooling",
                "Merchant-level risk thresholds",
            ],
        ),
        slack=SlackWork(
            channel="fraud", texts=["Chargebacks this week: 0.27%.", "{issue} live in shadow mode."]
        ),
    )
    onboarding = w.stream(
        "merchant onboarding",
        key_result="KR-MS-1",
        priorities=["Get eight merchants live this week", "KYC document chasing"],
        hubspot=HubSpotWork(
            pipeline="merchant-onboarding",
            stages=["signed", "kyc", "integration", "testing", "live"],
            deal_names=[
                "Mercado Verde - onboarding",
                "Casa Lumen - onboarding",
                "Velo Urbano - onboarding",
                "Bodega Norte - onboarding",
                "Ropa Linda - onboarding",
                "Tech Hogar - onboarding",
                "Libros Sol - onboarding",
                "Deportes Vega - onboarding",
                "Flores Mar - onboarding",
            ],
            amounts=(10_000, 80_000),
            deal_type="existingbusiness",
            notes=[
                "{company} KYC documents received.",
                "{company} test payments passed.",
                "{company} is live.",
            ],
            call_titles=["Integration call - {company}"],
            meeting_titles=["{company} go-live"],
            email_subjects=["Your integration checklist - {company}"],
            task_subjects=["Chase {company} for KYC documents"],
        ),
        slack=SlackWork(
            channel="merchant-onboarding",
            texts=["Six merchants live this week.", "KYC backlog is down to 9."],
        ),
    )
    merchant_support = w.stream(
        "merchant support",
        priorities=["Keep the merchant queue under 30"],
        jira=JiraWork(
            project="SUP",
            types=("Task",),
            summaries=[
                "Merchant payout delayed",
                "Refund stuck in pending",
                "Webhook signature mismatch",
                "Dashboard export missing fees",
                "3DS challenge loops on Safari",
                "Merchant wants a second API key",
            ],
        ),
        slack=SlackWork(channel="merchant-support", texts=["Queue at 24.", "Can someone take {issue}?"]),
    )
    volume = w.stream(
        "volume review",
        key_result="KR-CONV-1",
        priorities=["Weekly processed volume review"],
        slack=SlackWork(
            channel="volume-weekly",
            texts=["Volume last week: EUR 104M.", "Two large merchants ramped up.", "Forecast updated."],
        ),
    )

    for person in ("chk1", "chk2", "chk3"):
        w.allocate(person, weeks(1, 13), {onepage: 8, core_chores: 1})
    w.allocate("chk_pm", weeks(1, 13), {onepage: 7})
    w.allocate("chk_design", weeks(1, 13), {onepage: 6, saved: 3})
    w.allocate("chk_lead", weeks(1, 13), {onepage: 4, saved: 2, core_chores: 1})
    for person in ("chk4", "chk5"):
        w.allocate(person, weeks(1, 13), {saved: 8, core_chores: 1})
    # Irene, who owns the saved-cards KR, moves to the payouts initiative in week 4.
    w.allocate("pay_pm", weeks(1, 3), {saved: 8})
    w.allocate("pay_pm", weeks(4, 13), {payouts: 9})
    w.goes_silent("pay_pm", "KR-CHK-2", 4)
    for person in ("core_lead", "core1", "core2", "core3"):
        w.allocate(person, weeks(1, 13), {latency: 7, core_chores: 3})
    w.allocate("core4", weeks(1, 13), {core_chores: 8, latency: 2})
    w.allocate("cto", weeks(1, 13), {latency: 2, onepage: 1, core_chores: 1})
    for person in ("risk_lead", "risk1", "risk2"):
        w.allocate(person, weeks(1, 13), {fraud: 9, core_chores: 1})
    for person in ("ms_lead", "ms1", "ms2", "ms3"):
        w.allocate(person, weeks(1, 13), {onboarding: 9})
    for person in ("support1", "support2"):
        w.allocate(person, weeks(1, 13), {merchant_support: 9})
    w.allocate("cfo", weeks(1, 13), {volume: 3})
    w.allocate("analyst", weeks(1, 13), {volume: 4, merchant_support: 1})
    w.allocate("ceo", weeks(1, 13), {volume: 1, onboarding: 1})

    for person, away in [("chk2", [9]), ("core3", [6]), ("ms2", [11]), ("risk1", [8]), ("chk5", [12])]:
        w.away(person, away)
    w.holiday(date(2026, 10, 12))  # Fiesta Nacional
    w.holiday(date(2026, 12, 8))  # Immaculate Conception

    # The blockage: three one-page-checkout issues wait on two core-platform issues from week 4 to 10.
    tokens = w.jira_issue(
        w.moment(3, 2, 10, "core_lead"),
        "core_lead",
        core_chores,
        "Network tokens: expose the token API to checkout",
        assignee="core2",
        held=True,
    )
    updater = w.jira_issue(
        w.moment(3, 2, 11, "core_lead"),
        "core_lead",
        core_chores,
        "Vault: accept card-on-file updates from the networks",
        assignee="core3",
        held=True,
    )
    blocked = [
        w.jira_issue(w.moment(3, 3, 10, "chk_pm"), "chk_pm", onepage, summary, assignee=person, held=True)
        for summary, person in [
            ("Card form: use network tokens for returning shoppers", "chk1"),
            ("One-page checkout: tokenised express pay", "chk2"),
            ("Show updated card details without re-entry", "chk3"),
        ]
    ]
    w.jira_block(w.moment(4, 0, 9.5, "chk_lead"), "chk_lead", blocked[:2], tokens, onepage)
    w.jira_block(w.moment(4, 0, 10, "chk_lead"), "chk_lead", blocked[2:], updater, onepage)
    waiting = [
        "Still waiting on {key} for the token API.",
        "Blocked until {key} lands; nothing we can do on our side.",
        "Pinged the core platform team again about {key}.",
    ]
    for week in range(4, 10):
        for index, issue in enumerate(blocked):
            blocker = tokens if index < 2 else updater
            person = ["chk1", "chk2", "chk3"][index]
            if (week + index) % 2 == 0:
                body = waiting[(week + index) % len(waiting)].format(key=blocker.key)
                w.jira_comment(
                    w.moment(week, 2 + index % 2, 11 + index, person), person, issue, body, onepage
                )
        w.blocker(
            "chk_pm", [week], f"{tokens.key} and {updater.key} on the core platform team have not moved."
        )
    w.jira_transition(w.moment(7, 2, 10, "core2"), "core2", tokens, "In Progress", core_chores)
    w.jira_transition(w.moment(8, 3, 15, "core3"), "core3", updater, "In Progress", core_chores)
    w.jira_transition(w.moment(10, 1, 12, "core2"), "core2", tokens, "Done", core_chores)
    w.jira_transition(w.moment(10, 2, 16, "core3"), "core3", updater, "Done", core_chores)
    for index, issue in enumerate(blocked):
        person = ["chk1", "chk2", "chk3"][index]
        w.jira_transition(w.moment(10, 3, 10 + index, person), person, issue, "In Progress", onepage)
    w.jira_release(w.moment(10, 3, 14, "chk_lead"), blocked)

    w.progress(
        "KR-CHK-1",
        by="chk_pm",
        fraction=lambda week: (
            on_pace(1.05)(min(week, 3)) + 0.02 * max(0, week - 3) + (0.1 * (week - 9) if week > 9 else 0)
        ),
        notes=["Waiting on network tokens.", *AT_RISK_NOTES],
    )
    w.claim("KR-CHK-1", weeks(4, 9), "blocked")
    # Saved cards keeps moving thanks to its engineers; from week 4 they post the updates.
    w.progress("KR-CHK-2", by=lambda week: "pay_pm" if week < 4 else "chk4", fraction=on_pace(1.02))
    w.progress("KR-CONV-1", by="cfo", fraction=on_pace(1.05), decimals=0)
    w.progress("KR-CORE-1", by="core_lead", fraction=on_pace(1.1), decimals=0)
    w.progress("KR-RISK-1", by="risk_lead", fraction=on_pace(1.05), decimals=2)
    w.progress("KR-MS-1", by="ms_lead", fraction=on_pace(1.06), decimals=0)
    w.kpi_readings("K-AUTH", lambda week: 93.1 + 0.1 * (week % 4), decimals=1)
    w.kpi_readings("K-DISPUTES", lambda week: 280 - 5 * week, decimals=0)
    for objective, owner in [
        ("O-CHK", "chk_lead"),
        ("O-CORE", "core_lead"),
        ("O-RISK", "risk_lead"),
        ("O-MS", "ms_lead"),
    ]:
        w.review(w.moment(1, 1, 12, owner), objective, owner)

    w.finding("dependency_friction", "KR-CHK-1", 4)
    w.finding("ownership_gap", "KR-CHK-2", 4)
    w.quiet("KR-CONV-1", "KR-CORE-1", "KR-RISK-1", "KR-MS-1", "O-CORE", "O-RISK", "O-MS")
    return w


# --- f) renewal-pull -------------------------------------------------------------------------------------


def renewal_pull() -> World:
    w = World(
        name="renewal-pull",
        description=(
            "Tessera Analytics sells embedded analytics. Its new-business key result is mapped to the "
            "HubSpot 'new-business' pipeline. From week 6 a wave of at-risk renewals lands and the CRO asks "
            "the account executives to help: their calls, meetings and e-mails move to deals in the "
            "'renewals' pipeline, which no key result maps, and new-business deals stop changing stage. "
            "The partner team's pipeline key result, customer success's expansion key result, product and "
            "marketing progress normally."
        ),
        seed=5606,
        organization="Tessera Analytics",
        slug="tessera",
        time_zone="America/New_York",
        cycle_name="FY26-Q1",
        start=date(2026, 1, 5),
        domain="tessera.test",
    )
    staff(
        w,
        [
            ("exec", "Leadership", None, "ceo"),
            ("sales", "New Business", "exec", "cro"),
            ("partners", "Partnerships", "exec", "partner_lead"),
            ("cs", "Customer Success", "exec", "cs_lead"),
            ("product", "Product", "exec", "cpo"),
            ("marketing", "Marketing", "exec", "mkt_lead"),
        ],
        [
            ("ceo", "Nathan Cole", "admin", "exec", None, "", "s"),
            ("cfo", "Monica Reyes", "manager", "exec", "ceo", "", "s"),
            ("cro", "Derek Lawson", "manager", "sales", "ceo", "", "sh"),
            ("ae1", "Priya Malhotra", "employee", "sales", "cro", "", "sh"),
            ("ae2", "Kevin O'Brien", "employee", "sales", "cro", "America/Chicago", "sh"),
            ("ae3", "Jasmine Wu", "employee", "sales", "cro", "America/Los_Angeles", "sh"),
            ("ae4", "Marcus Hill", "employee", "sales", "cro", "", "sh"),
            ("se1", "Elena Petrova", "employee", "sales", "cro", "", "sh"),
            ("partner_lead", "Aaron Blake", "manager", "partners", "ceo", "America/Chicago", "sh"),
            ("pam1", "Sofia Russo", "employee", "partners", "partner_lead", "", "sh"),
            ("pam2", "Trevor Young", "employee", "partners", "partner_lead", "America/Denver", "sh"),
            ("cs_lead", "Lauren Fisher", "manager", "cs", "ceo", "", "sh"),
            ("csm1", "Omar Haddad", "employee", "cs", "cs_lead", "", "sh"),
            ("csm2", "Beth Larson", "employee", "cs", "cs_lead", "America/Chicago", "sh"),
            ("csm3", "Andre Silva", "employee", "cs", "cs_lead", "", "sh"),
            ("cpo", "Hiro Sato", "manager", "product", "ceo", "America/Los_Angeles", "js"),
            ("eng1", "Rachel Green", "employee", "product", "cpo", "America/Los_Angeles", "js"),
            ("eng2", "Tom Kowalski", "employee", "product", "cpo", "", "js"),
            ("eng3", "Ada Obi", "employee", "product", "cpo", "", "js"),
            ("eng4", "Liam Foster", "employee", "product", "cpo", "America/Los_Angeles", "js"),
            ("mkt_lead", "Jenna Brooks", "manager", "marketing", "ceo", "", "js"),
            ("mkt1", "Carlos Vega", "employee", "marketing", "mkt_lead", "", "js"),
            ("mkt2", "Zoe Chang", "employee", "marketing", "mkt_lead", "America/Los_Angeles", "js"),
            ("revops", "Sam Patel", "employee", "sales", "cro", "", "sh"),
        ],
    )
    rev = w.objective(
        "O-REV",
        "Grow new revenue 40% without discounting",
        level="company",
        owner="ceo",
        description="New logos at list price; partners bring a third of the pipeline.",
    )
    w.key_result(
        rev,
        "KR-NB-1",
        "New-business ARR from $0 to $2.0M",
        owner="cro",
        unit="USD",
        baseline=0,
        target=2_000_000,
        contributors=["ae1", "ae2", "ae3", "ae4"],
    )
    partner = w.objective(
        "O-PARTNER",
        "Make partners a real channel",
        level="team",
        team="partners",
        owner="partner_lead",
        parent="O-REV",
    )
    w.key_result(
        partner,
        "KR-PART-1",
        "Partner-sourced pipeline from $0.3M to $1.2M",
        owner="partner_lead",
        unit="USD",
        baseline=300_000,
        target=1_200_000,
        contributors=["pam1", "pam2"],
    )
    cs = w.objective(
        "O-CS",
        "Grow the customers we already have",
        level="team",
        team="cs",
        owner="cs_lead",
        parent="O-REV",
    )
    w.key_result(
        cs,
        "KR-CS-1",
        "Expansion ARR from $0 to $600k",
        owner="cs_lead",
        unit="USD",
        baseline=0,
        target=600_000,
        contributors=["csm1", "csm2", "csm3"],
    )
    prod = w.objective(
        "O-PROD",
        "Make shared dashboards our best salesperson",
        level="team",
        team="product",
        owner="cpo",
        parent="O-REV",
    )
    w.key_result(
        prod,
        "KR-PROD-1",
        "Dashboards shared outside customer orgs per week from 1.2k to 3k",
        owner="cpo",
        unit="dashboards",
        baseline=1200,
        target=3000,
        contributors=["eng1", "eng2", "eng3"],
    )
    mkt = w.objective(
        "O-MKT",
        "Fill the top of the funnel",
        level="team",
        team="marketing",
        owner="mkt_lead",
        parent="O-REV",
    )
    w.key_result(
        mkt,
        "KR-MKT-1",
        "Sales-accepted leads from 0 to 420",
        owner="mkt_lead",
        unit="leads",
        baseline=0,
        target=420,
        contributors=["mkt1", "mkt2"],
    )
    w.kpi(
        "K-WIN",
        "New-business win rate",
        unit="%",
        direction="increase",
        green=25,
        red=15,
        owner="cro",
        team="sales",
        objectives=["O-REV"],
    )

    w.project("PRD", "Product", 2400)
    w.project("MKT", "Marketing", 610)
    w.project("ENG", "Engineering", 5100)
    sharing_epic = w.epic("PRD", "External sharing", owner="cpo")
    campaigns_epic = w.epic("MKT", "Q1 campaigns", owner="mkt_lead")
    w.map("jira", {"epic": sharing_epic.key}, "KR-PROD-1")
    w.map("jira", {"epic": campaigns_epic.key}, "KR-MKT-1")
    for channel, kr in [
        ("nb-deals", "KR-NB-1"),
        ("partners", "KR-PART-1"),
        ("expansion", "KR-CS-1"),
        ("sharing", "KR-PROD-1"),
        ("campaigns", "KR-MKT-1"),
    ]:
        w.map("slack", {"channel": w.slack.channel(channel)}, kr)
    w.map("hubspot", {"pipeline": "new-business"}, "KR-NB-1")
    w.map("hubspot", {"pipeline": "partner-sourced"}, "KR-PART-1")
    w.map("hubspot", {"pipeline": "expansion"}, "KR-CS-1")

    company_names = [
        "Bramble Foods",
        "Cinder Robotics",
        "Driftwood Media",
        "Elm Street Health",
        "Foxglove Retail",
        "Granite Insurance",
        "Heron Logistics",
        "Iris Biotech",
        "Juniper Energy",
        "Kestrel Banking",
        "Larkspur Learning",
        "Maple Freight",
        "Nimbus Software",
        "Orchid Hotels",
        "Pinecone Games",
    ]
    new_business = w.stream(
        "new business",
        key_result="KR-NB-1",
        priorities=[
            "Move three new-business deals to proposal",
            "Book five discovery calls",
            "Close Heron Logistics",
        ],
        hubspot=HubSpotWork(
            pipeline="new-business",
            stages=[
                "appointmentscheduled",
                "qualifiedtobuy",
                "presentationscheduled",
                "decisionmakerboughtin",
                "contractsent",
            ],
            deal_names=[f"{name} - New business" for name in company_names],
            amounts=(30_000, 220_000),
            notes=[
                "Discovery with {company}: embedding analytics in their customer portal.",
                "{company} technical evaluation next week.",
                "{company} wants security docs before procurement.",
                "Pricing call with {company}; proposal going out.",
            ],
            call_titles=["Discovery - {company}", "Technical deep dive - {company}"],
            meeting_titles=["{company} demo", "{company} proof of concept review"],
            email_subjects=["Tessera for {company}", "Proposal - {company}"],
            task_subjects=["Send {company} the proposal"],
            stage_moves_until_week=5,
            move_rate=0.22,
        ),
        slack=SlackWork(
            channel="nb-deals",
            texts=["Two new demos booked.", "Proposal out to Granite.", "Pipeline review at 3."],
        ),
    )
    renewals = w.stream(
        "renewals",
        priorities=[
            "Save the Atlas renewal",
            "Pull February renewals forward",
            "Renewal quotes for ten accounts",
        ],
        hubspot=HubSpotWork(
            pipeline="renewals",
            stages=["renewal_due", "renewal_quoted", "renewal_verbal"],
            deal_names=[
                f"{name} - Renewal 2026"
                for name in [
                    "Atlas Manufacturing",
                    "Beacon Realty",
                    "Crescent Dental",
                    "Dune Apparel",
                    "Everest Capital",
                    "Falcon Aviation",
                    "Glacier Water",
                    "Harbor Pharma",
                    "Ivy Schools",
                    "Jet Couriers",
                    "Keel Marine",
                    "Lumen Legal",
                ]
            ],
            amounts=(20_000, 150_000),
            deal_type="existingbusiness",
            notes=[
                "{company} is worried about price; offered a two-year term.",
                "{company} verbal yes on the renewal.",
                "{company} champion left; rebuilding the relationship.",
            ],
            call_titles=["Renewal call - {company}", "Save call - {company}"],
            meeting_titles=["{company} renewal review", "{company} executive sponsor meeting"],
            email_subjects=["Your renewal - {company}", "Renewal quote - {company}"],
            task_subjects=["Send {company} the renewal quote"],
            move_rate=0.2,
        ),
        slack=SlackWork(
            channel="renewals-war-room",
            texts=["Atlas is at risk, all hands.", "Three verbal yeses today.", "Renewal tracker updated."],
        ),
    )
    partners = w.stream(
        "partner pipeline",
        key_result="KR-PART-1",
        priorities=["Joint pipeline review with the SI partners", "Partner enablement session"],
        hubspot=HubSpotWork(
            pipeline="partner-sourced",
            stages=["partner_registered", "qualifiedtobuy", "presentationscheduled", "contractsent"],
            deal_names=[
                f"{name} - via partner"
                for name in [
                    "Quarry Analytics",
                    "Redfern Clinics",
                    "Sable Motors",
                    "Tundra Outdoor",
                    "Umber Studios",
                    "Vantage Telecom",
                    "Willow Banking",
                    "Xeno Labs",
                    "Yarrow Farms",
                    "Zephyr Air",
                ]
            ],
            amounts=(25_000, 180_000),
            deal_type="newbusiness",
            notes=[
                "Partner registered {company}; intro call booked.",
                "{company} demo with the partner's team.",
                "{company} moving to proposal.",
            ],
            call_titles=["Partner sync - {company}"],
            meeting_titles=["{company} joint demo"],
            email_subjects=["Partner deal registration - {company}"],
            task_subjects=["Confirm {company} registration with the partner"],
        ),
        slack=SlackWork(
            channel="partners",
            texts=["Four new partner registrations.", "Enablement session recording is up."],
        ),
    )
    expansion = w.stream(
        "expansion",
        key_result="KR-CS-1",
        priorities=["Expansion plays with the top 20 accounts", "Usage reviews"],
        hubspot=HubSpotWork(
            pipeline="expansion",
            stages=["identified", "proposed", "negotiation"],
            deal_names=[
                f"{name} - Expansion"
                for name in [
                    "Atlas Manufacturing",
                    "Beacon Realty",
                    "Crescent Dental",
                    "Everest Capital",
                    "Glacier Water",
                    "Harbor Pharma",
                    "Keel Marine",
                    "Lumen Legal",
                ]
            ],
            amounts=(10_000, 90_000),
            deal_type="existingbusiness",
            notes=[
                "{company} wants 40 more viewer seats.",
                "Usage review with {company}; proposed the embedded tier.",
            ],
            call_titles=["Usage review - {company}"],
            meeting_titles=["{company} QBR"],
            email_subjects=["Expansion proposal - {company}"],
            task_subjects=["Follow up on {company} seats"],
        ),
        slack=SlackWork(channel="expansion", texts=["Two expansions signed.", "QBR deck template updated."]),
    )
    sharing = w.stream(
        "external sharing",
        key_result="KR-PROD-1",
        priorities=["Public share links with expiry", "Embed SDK v2"],
        jira=JiraWork(
            project="PRD",
            epic=sharing_epic,
            summaries=[
                "Public share links with expiry",
                "Embed SDK v2: theming",
                "Share to Slack with live preview",
                "Row-level security for shared dashboards",
                "Share analytics for dashboard owners",
                "Password-protected shares",
                "Scheduled PDF shares",
            ],
        ),
        slack=SlackWork(
            channel="sharing",
            texts=[
                "External shares last week: 1.6k.",
                "{issue} is live.",
                "Embed SDK beta feedback in the thread.",
            ],
        ),
    )
    campaigns = w.stream(
        "campaigns",
        key_result="KR-MKT-1",
        priorities=["Launch the embedded analytics webinar", "Paid social test"],
        jira=JiraWork(
            project="MKT",
            epic=campaigns_epic,
            types=("Task",),
            summaries=[
                "Webinar: embedded analytics for SaaS",
                "Paid social test",
                "Comparison page vs legacy BI",
                "Case study: Nimbus Software",
                "Lead scoring tweaks",
                "G2 category campaign",
            ],
        ),
        slack=SlackWork(
            channel="campaigns", texts=["SALs this week: 36.", "{issue} is live.", "Webinar signups at 310."]
        ),
    )
    chores = w.stream(
        "engineering chores",
        priorities=["On-call", "Dependency upgrades"],
        jira=JiraWork(project="ENG", summaries=BUG_SUMMARIES, types=("Bug", "Task")),
        slack=SlackWork(channel="engineering", texts=ENGINEERING_CHATTER),
    )

    for person in ("ae1", "ae2", "ae3", "ae4"):
        w.allocate(person, weeks(1, 5), {new_business: 8.5, renewals: 0.5})
        w.allocate(person, weeks(6, 13), {renewals: 8, new_business: 1})
    w.allocate("cro", weeks(1, 5), {new_business: 7, renewals: 1})
    w.allocate("cro", weeks(6, 13), {renewals: 7, new_business: 1.5})
    w.allocate("se1", weeks(1, 5), {new_business: 8})
    w.allocate("se1", weeks(6, 13), {renewals: 6, new_business: 2})
    w.allocate("revops", weeks(1, 13), {new_business: 2, renewals: 2, partners: 1})
    for person in ("partner_lead", "pam1", "pam2"):
        w.allocate(person, weeks(1, 13), {partners: 9})
    for person in ("cs_lead", "csm1", "csm2", "csm3"):
        w.allocate(person, weeks(1, 13), {expansion: 6, renewals: 3})
    w.allocate("cpo", weeks(1, 13), {sharing: 7, chores: 1})
    for person in ("eng1", "eng2", "eng3"):
        w.allocate(person, weeks(1, 13), {sharing: 8, chores: 2})
    w.allocate("eng4", weeks(1, 13), {chores: 8, sharing: 2})
    for person in ("mkt_lead", "mkt1", "mkt2"):
        w.allocate(person, weeks(1, 13), {campaigns: 9})
    w.allocate("ceo", weeks(1, 13), {new_business: 1, partners: 1})
    w.allocate("cfo", weeks(1, 13), {renewals: 1})

    w.holiday(date(2026, 1, 19))  # Martin Luther King Jr. Day
    w.holiday(date(2026, 2, 16))  # Presidents' Day
    for person, away in [("ae3", [9]), ("pam2", [7]), ("eng2", [10]), ("csm3", [4]), ("mkt2", [11])]:
        w.away(person, away)

    w.progress(
        "KR-NB-1",
        by="cro",
        fraction=slows(5, rate=0.15, ahead=1.02),
        decimals=0,
        notes=["Renewals are taking the team's time.", *AT_RISK_NOTES],
    )
    w.progress("KR-PART-1", by="partner_lead", fraction=on_pace(1.08), decimals=0)
    w.progress("KR-CS-1", by="cs_lead", fraction=on_pace(1.05), decimals=0)
    w.progress("KR-PROD-1", by="cpo", fraction=on_pace(1.08), decimals=0)
    w.progress("KR-MKT-1", by="mkt_lead", fraction=on_pace(1.06), decimals=0)
    w.kpi_readings("K-WIN", lambda week: 24 + (week % 3) if week < 7 else 19 - 0.3 * (week - 7), decimals=1)
    for objective, owner in [
        ("O-PARTNER", "partner_lead"),
        ("O-CS", "cs_lead"),
        ("O-PROD", "cpo"),
        ("O-MKT", "mkt_lead"),
    ]:
        w.review(w.moment(1, 2, 10, owner), objective, owner)

    w.finding("priority_shift", "KR-NB-1", 6)
    w.quiet("KR-PART-1", "KR-CS-1", "KR-PROD-1", "KR-MKT-1", "O-PARTNER", "O-CS", "O-PROD", "O-MKT")
    return w


# --- g) mixed-quarter ------------------------------------------------------------------------------------


def mixed_quarter() -> World:
    w = World(
        name="mixed-quarter",
        description=(
            "Halden Systems connects factory machines to the cloud. A larger quarter with several stories "
            "in different teams: the mobile team is pulled onto an unmapped hardware-partner certification "
            "from week 6 while its check-ins keep saying on_track; the integrations team's protocol work is "
            "blocked by platform issues from week 5 to week 10; the analytics key result stops being "
            "updated after week 5 and its engineers move to customer reports; the data platform key "
            "result's owner stops working on it in week 3; the growth objective falls behind from week 5 "
            "while its KPIs stay green; the company objective is rewritten in week 8 and the field-services "
            "team never re-confirms its objective; and a data engineer quietly speeds up connector setup "
            "for the integrations team."
        ),
        seed=5707,
        organization="Halden Systems",
        slug="halden",
        time_zone="Europe/Oslo",
        cycle_name="2027-Q1",
        start=date(2027, 1, 4),
        domain="halden.test",
        activity=0.75,
    )
    staff(
        w,
        [
            ("exec", "Leadership", None, "ceo"),
            ("mobile", "Mobile", "exec", "mob_lead"),
            ("integrations", "Integrations", "exec", "int_lead"),
            ("platform", "Platform", "exec", "plat_lead"),
            ("analytics", "Analytics", "exec", "ana_lead"),
            ("data", "Data Platform", "exec", "data_lead"),
            ("growth", "Growth", "exec", "growth_lead"),
            ("sales", "Sales", "exec", "cro"),
            ("cs", "Customer Success", "exec", "cs_lead"),
            ("field", "Field Services", "exec", "field_lead"),
        ],
        [
            ("ceo", "Ingrid Haugen", "admin", "exec", None, "", "s"),
            ("cto", "Erik Solberg", "manager", "exec", "ceo", "", "js"),
            ("cro", "Maja Berg", "manager", "sales", "ceo", "", "sh"),
            ("cfo", "Lars Nygaard", "manager", "exec", "ceo", "", "s"),
            ("coo", "Sigrid Dahl", "manager", "exec", "ceo", "", "s"),
            ("mob_lead", "Henrik Aas", "manager", "mobile", "cto", "", "js"),
            ("mob_pm", "Nora Lie", "manager", "mobile", "mob_lead", "", "js"),
            ("mob1", "Jonas Eide", "employee", "mobile", "mob_lead", "", "js"),
            ("mob2", "Thea Moen", "employee", "mobile", "mob_lead", "Europe/Stockholm", "js"),
            ("mob3", "Kasper Vik", "employee", "mobile", "mob_lead", "", "js"),
            ("mob_design", "Ida Strand", "employee", "mobile", "mob_pm", "Europe/Copenhagen", "js"),
            ("int_lead", "Ola Berge", "manager", "integrations", "cto", "", "js"),
            ("int_pm", "Aksel Ruud", "manager", "integrations", "int_lead", "", "js"),
            ("int1", "Emma Holm", "employee", "integrations", "int_lead", "", "js"),
            ("int2", "Mats Lunde", "employee", "integrations", "int_lead", "Europe/Helsinki", "js"),
            ("int3", "Sofie Bakke", "employee", "integrations", "int_lead", "", "js"),
            ("plat_lead", "Kari Nilsen", "manager", "platform", "cto", "", "js"),
            ("plat1", "Anders Fjeld", "employee", "platform", "plat_lead", "", "js"),
            ("plat2", "Vilde Ask", "employee", "platform", "plat_lead", "", "js"),
            ("plat3", "Tobias Rod", "employee", "platform", "plat_lead", "Europe/Berlin", "js"),
            ("plat4", "Selma Hauge", "employee", "platform", "plat_lead", "", "js"),
            ("ana_lead", "Jakob Lien", "manager", "analytics", "cto", "", "js"),
            ("ana_pm", "Live Brekke", "manager", "analytics", "ana_lead", "", "js"),
            ("ana1", "Hedda Sand", "employee", "analytics", "ana_lead", "", "js"),
            ("ana2", "Filip Storm", "employee", "analytics", "ana_lead", "Europe/Stockholm", "js"),
            ("data_lead", "Martin Vold", "manager", "data", "cto", "", "js"),
            ("data_eng", "Eirik Dale", "employee", "data", "data_lead", "", "js"),
            ("data2", "Frida Moe", "employee", "data", "data_lead", "", "js"),
            ("growth_lead", "Camilla Fossum", "manager", "growth", "cro", "", "js"),
            ("growth1", "Sander Lie", "employee", "growth", "growth_lead", "", "js"),
            ("growth2", "Tiril Ness", "employee", "growth", "growth_lead", "Europe/Stockholm", "js"),
            ("ae1", "Oskar Brun", "employee", "sales", "cro", "", "sh"),
            ("ae2", "Marte Hagen", "employee", "sales", "cro", "Europe/Stockholm", "sh"),
            ("se1", "Petter Knutsen", "employee", "sales", "cro", "", "sh"),
            ("cs_lead", "Hanne Saether", "manager", "cs", "coo", "", "sh"),
            ("csm1", "Runa Tveit", "employee", "cs", "cs_lead", "", "sh"),
            ("csm2", "Even Rustad", "employee", "cs", "cs_lead", "Europe/Copenhagen", "sh"),
            ("field_lead", "Geir Holt", "manager", "field", "coo", "", "js"),
            ("field1", "Ragnhild Berg", "employee", "field", "field_lead", "", "js"),
        ],
    )
    connect = w.objective(
        "O-CONNECT",
        "Connect every machine on the factory floor",
        level="company",
        owner="ceo",
        description="Every machine in a customer plant reports to Halden within a day of installation.",
    )
    w.key_result(
        connect,
        "KR-CON-1",
        "Connected machines from 42,000 to 60,000",
        owner="coo",
        unit="machines",
        baseline=42000,
        target=60000,
        contributors=[],
    )
    insight = w.objective("O-INSIGHT", "Turn machine data into decisions", level="company", owner="cto")
    w.key_result(
        insight,
        "KR-INSIGHT-1",
        "Plants acting on Halden alerts weekly from 30 to 90",
        owner="cto",
        unit="plants",
        baseline=30,
        target=90,
        contributors=["ana_lead"],
    )
    growth = w.objective("O-GROWTH", "Win 25 new plants in the Nordics", level="company", owner="cro")
    w.key_result(
        growth,
        "KR-GROWTH-1",
        "New plants signed from 0 to 25",
        owner="cro",
        unit="plants",
        baseline=0,
        target=25,
        contributors=["ae1", "ae2"],
    )
    w.key_result(
        growth,
        "KR-GROWTH-2",
        "Qualified pilots from 0 to 40",
        owner="growth_lead",
        unit="pilots",
        baseline=0,
        target=40,
        contributors=["growth1", "growth2"],
    )
    mobile = w.objective(
        "O-MOBILE",
        "Put Halden in every technician's pocket",
        level="team",
        team="mobile",
        owner="mob_lead",
        parent="O-CONNECT",
    )
    w.key_result(
        mobile,
        "KR-MOB-1",
        "Technicians using the app weekly from 1,200 to 2,500",
        owner="mob_pm",
        unit="technicians",
        baseline=1200,
        target=2500,
        contributors=["mob1", "mob2", "mob_design"],
    )
    w.key_result(
        mobile,
        "KR-MOB-2",
        "App store rating from 3.9 to 4.4",
        owner="mob_lead",
        unit="stars",
        baseline=3.9,
        target=4.4,
        contributors=["mob3"],
    )
    integ = w.objective(
        "O-INTEG",
        "Speak every machine's language",
        level="team",
        team="integrations",
        owner="int_lead",
        parent="O-CONNECT",
    )
    w.key_result(
        integ,
        "KR-INT-1",
        "Supported PLC protocols from 6 to 11",
        owner="int_pm",
        unit="protocols",
        baseline=6,
        target=11,
        contributors=["int1", "int2"],
    )
    w.key_result(
        integ,
        "KR-INT-2",
        "Median connector setup time from 3 days to 1 day",
        owner="int_lead",
        unit="days",
        baseline=3,
        target=1,
        contributors=["int3"],
    )
    field = w.objective(
        "O-FIELD",
        "Book every field visit through Halden",
        level="team",
        team="field",
        owner="field_lead",
        parent="O-CONNECT",
    )
    w.key_result(
        field,
        "KR-FIELD-1",
        "Field visits booked through the app from 20% to 60%",
        owner="field_lead",
        unit="%",
        baseline=20,
        target=60,
        contributors=["field1"],
    )
    analytics = w.objective(
        "O-ANALYTICS",
        "Alerts people act on",
        level="team",
        team="analytics",
        owner="ana_lead",
        parent="O-INSIGHT",
    )
    w.key_result(
        analytics,
        "KR-ANA-1",
        "Anomaly alerts acted on within a day from 35% to 70%",
        owner="ana_pm",
        unit="%",
        baseline=35,
        target=70,
        contributors=["ana1", "ana2"],
    )
    data = w.objective(
        "O-DATA",
        "Fresh data, always",
        level="team",
        team="data",
        owner="data_lead",
        parent="O-INSIGHT",
    )
    w.key_result(
        data,
        "KR-DATA-1",
        "Sensor data available within 5 minutes from 80% to 98%",
        owner="data_lead",
        unit="%",
        baseline=80,
        target=98,
        contributors=["data2", "data_eng"],
    )
    platform = w.objective(
        "O-PLATFORM",
        "Make ingestion cheap at any scale",
        level="team",
        team="platform",
        owner="plat_lead",
        parent="O-INSIGHT",
    )
    w.key_result(
        platform,
        "KR-PLAT-1",
        "Ingestion cost per device from NOK 4.10 to NOK 2.50",
        owner="plat_lead",
        unit="NOK",
        baseline=4.1,
        target=2.5,
        contributors=["plat1", "plat2"],
    )
    cs = w.objective(
        "O-CS",
        "Every plant renews",
        level="team",
        team="cs",
        owner="cs_lead",
        parent="O-GROWTH",
    )
    w.key_result(
        cs,
        "KR-CS-1",
        "Plants renewing on time from 85% to 95%",
        owner="cs_lead",
        unit="%",
        baseline=85,
        target=95,
        contributors=["csm1", "csm2"],
    )
    w.kpi(
        "K-COVER",
        "Pipeline coverage",
        unit="x",
        direction="increase",
        green=3.0,
        red=2.0,
        owner="cro",
        team="sales",
        objectives=["O-GROWTH"],
    )
    w.kpi(
        "K-CSAT",
        "Customer satisfaction",
        unit="%",
        direction="increase",
        green=85,
        red=75,
        owner="cs_lead",
        team="cs",
        objectives=["O-GROWTH"],
    )
    w.kpi(
        "K-LATE",
        "Late sensor batches",
        unit="%",
        direction="decrease",
        green=2,
        red=5,
        owner="data_lead",
        team="data",
        objectives=["O-DATA"],
    )

    for key, name, first in [
        ("MOB", "Mobile", 900),
        ("CERT", "Partner Certification", 5),
        ("INT", "Integrations", 410),
        ("PLAT", "Platform", 3300),
        ("ANA", "Analytics", 270),
        ("DATA", "Data Platform", 640),
        ("GRW", "Growth", 88),
        ("FLD", "Field Services", 150),
        ("RPT", "Customer Reports", 30),
    ]:
        w.project(key, name, first)
    app_epic = w.epic("MOB", "Technician app: work orders", owner="mob_pm")
    rating_epic = w.epic("MOB", "App quality", owner="mob_lead")
    cert_epic = w.epic("CERT", "Siemens partner certification", owner="cto", days_before_start=-38)
    protocol_epic = w.epic("INT", "New PLC protocols", owner="int_pm")
    setup_epic = w.epic("INT", "One-day connector setup", owner="int_lead")
    cost_epic = w.epic("PLAT", "Ingestion cost", owner="plat_lead")
    alerts_epic = w.epic("ANA", "Actionable anomaly alerts", owner="ana_pm")
    fresh_epic = w.epic("DATA", "Five-minute freshness", owner="data_lead")
    pilots_epic = w.epic("GRW", "Pilot programme", owner="growth_lead")
    visits_epic = w.epic("FLD", "Visit booking in the app", owner="field_lead")
    w.map("jira", {"epic": app_epic.key}, "KR-MOB-1")
    w.map("jira", {"epic": rating_epic.key}, "KR-MOB-2")
    w.map("jira", {"epic": protocol_epic.key}, "KR-INT-1")
    w.map("jira", {"epic": setup_epic.key}, "KR-INT-2")
    w.map("jira", {"epic": cost_epic.key}, "KR-PLAT-1")
    w.map("jira", {"epic": alerts_epic.key}, "KR-ANA-1")
    w.map("jira", {"epic": fresh_epic.key}, "KR-DATA-1")
    w.map("jira", {"epic": pilots_epic.key}, "KR-GROWTH-2")
    w.map("jira", {"epic": visits_epic.key}, "KR-FIELD-1")
    for channel, kr in [
        ("mobile-app", "KR-MOB-1"),
        ("app-quality", "KR-MOB-2"),
        ("protocols", "KR-INT-1"),
        ("connector-setup", "KR-INT-2"),
        ("ingest-cost", "KR-PLAT-1"),
        ("alerts", "KR-ANA-1"),
        ("freshness", "KR-DATA-1"),
        ("pilots", "KR-GROWTH-2"),
        ("field-ops", "KR-FIELD-1"),
        ("fleet", "KR-CON-1"),
        ("plant-deals", "KR-GROWTH-1"),
        ("renewals", "KR-CS-1"),
        ("insight-review", "KR-INSIGHT-1"),
    ]:
        w.map("slack", {"channel": w.slack.channel(channel)}, kr)
    w.map("hubspot", {"pipeline": "plants"}, "KR-GROWTH-1")
    w.map("hubspot", {"pipeline": "plant-renewals"}, "KR-CS-1")

    def jira_slack(
        name: str,
        kr: str | None,
        project: str,
        epic: Any,
        channel: str,
        summaries: list[str],
        texts: list[str],
        priorities: list[str],
    ) -> Any:
        return w.stream(
            name,
            key_result=kr,
            priorities=priorities,
            jira=JiraWork(project=project, epic=epic, summaries=summaries),
            slack=SlackWork(channel=channel, texts=texts),
        )

    app = jira_slack(
        "work orders",
        "KR-MOB-1",
        "MOB",
        app_epic,
        "mobile-app",
        [
            "Work order list offline",
            "Scan a machine QR code",
            "Photo upload on slow networks",
            "Push for new work orders",
            "Sign-off with customer signature",
            "Parts lookup from the app",
            "Dark mode for night shifts",
            "Work order history",
        ],
        [
            "Weekly active technicians: 1,480.",
            "{issue} is in TestFlight.",
            "Picking up {issue}.",
            "Beta feedback in the thread.",
        ],
        ["Offline work orders", "QR scan for machines"],
    )
    rating = jira_slack(
        "app quality",
        "KR-MOB-2",
        "MOB",
        rating_epic,
        "app-quality",
        [
            "Crash on Android 12 camera",
            "Login loop after token expiry",
            "Faster cold start",
            "Respond to store reviews tooling",
            "Reduce battery drain from location",
        ],
        ["Rating this week: 4.1.", "{issue} fixed.", "Store reviews digest is up."],
        ["Fix the top crashes", "Reply to store reviews"],
    )
    cert = jira_slack(
        "siemens certification",
        None,
        "CERT",
        cert_epic,
        "siemens-cert",
        [
            "Certification test suite run 1",
            "Secure boot evidence",
            "Pen-test report for Siemens",
            "Device provisioning flow review",
            "Firmware signing pipeline",
            "Certification test suite run 2",
            "Documentation pack for Siemens",
        ],
        [
            "Siemens wants the test report by Friday.",
            "{issue} done.",
            "Run 2 of the suite is at 70% pass.",
            "Pairing on {issue}.",
        ],
        ["Siemens certification test suite", "Firmware signing evidence"],
    )
    protocols = jira_slack(
        "plc protocols",
        "KR-INT-1",
        "INT",
        protocol_epic,
        "protocols",
        [
            "EtherNet/IP adapter",
            "PROFINET adapter",
            "BACnet adapter",
            "Modbus TCP edge cases",
            "OPC UA subscriptions at scale",
            "Protocol conformance tests",
            "CC-Link adapter spike",
        ],
        ["PROFINET adapter passes conformance.", "{issue} is in review.", "Protocol count: 7."],
        ["PROFINET adapter", "EtherNet/IP adapter"],
    )
    setup = jira_slack(
        "connector setup",
        "KR-INT-2",
        "INT",
        setup_epic,
        "connector-setup",
        [
            "Auto-discovery of devices on the plant network",
            "Setup wizard for connectors",
            "Pre-flight network checks",
            "Connector templates per machine vendor",
            "Remote setup support mode",
            "Setup time tracking",
        ],
        [
            "Median setup this week: 2.2 days.",
            "{issue} merged.",
            "Auto-discovery found 140 devices at Raufoss.",
        ],
        ["Setup wizard", "Auto-discovery"],
    )
    cost = jira_slack(
        "ingestion cost",
        "KR-PLAT-1",
        "PLAT",
        cost_epic,
        "ingest-cost",
        [
            "Batch small messages at the edge",
            "Cheaper storage tier for raw data",
            "Compress telemetry payloads",
            "Right-size the stream processors",
            "Cost per device dashboard",
            "Drop duplicate readings",
        ],
        ["Cost per device: NOK 3.40.", "{issue} shipped.", "Storage tiering saves 18%."],
        ["Edge batching", "Storage tiering"],
    )
    platform_chores = w.stream(
        "platform chores",
        priorities=["On-call", "Kubernetes upgrade"],
        jira=JiraWork(project="PLAT", summaries=BUG_SUMMARIES, types=("Bug", "Task")),
        slack=SlackWork(channel="platform", texts=ENGINEERING_CHATTER),
    )
    alerts = jira_slack(
        "actionable alerts",
        "KR-ANA-1",
        "ANA",
        alerts_epic,
        "alerts",
        [
            "Alert grouping by machine line",
            "Suggested action per alert type",
            "Acknowledge from e-mail",
            "Alert noise budget",
            "Root-cause hints from maintenance logs",
            "Alert escalation rules",
        ],
        ["Alerts acted on within a day: 41%.", "{issue} is live.", "Noise budget halved false alerts."],
        ["Alert grouping", "Suggested actions"],
    )
    reports = jira_slack(
        "customer reports",
        None,
        "RPT",
        None,
        "customer-reports",
        [
            "Monthly OEE report for Raufoss",
            "Energy report for Hydro plant",
            "Custom downtime export for Kongsberg",
            "Board pack charts for Mo i Rana",
            "Shift comparison report",
            "Scrap rate report",
        ],
        [
            "Raufoss wants their OEE report by Monday.",
            "{issue} sent to the customer.",
            "Another custom report request.",
        ],
        ["Customer reports backlog"],
    )
    fresh = jira_slack(
        "freshness",
        "KR-DATA-1",
        "DATA",
        fresh_epic,
        "freshness",
        [
            "Streaming path for late batches",
            "Freshness SLO alerting",
            "Backpressure in the loader",
            "Partition pruning",
            "Replay tool for missed windows",
            "Schema registry for sensors",
        ],
        ["Data within 5 min: 88%.", "{issue} deployed.", "Late batches down again."],
        ["Streaming path for late batches", "Freshness alerts"],
    )
    data_admin = w.stream(
        "data team admin",
        priorities=["Hiring two data engineers", "Warehouse vendor evaluation"],
        slack=SlackWork(
            channel="data-hiring",
            texts=["Three onsites next week.", "Vendor shortlist in the doc.", "Offer accepted!"],
        ),
    )
    pilots = jira_slack(
        "pilot programme",
        "KR-GROWTH-2",
        "GRW",
        pilots_epic,
        "pilots",
        [
            "Pilot playbook v2",
            "Pilot success criteria template",
            "Pilot kit shipping",
            "Webinar for plant managers",
            "Pilot to contract handover",
            "Pilot ROI calculator",
        ],
        ["Two pilots qualified this week.", "{issue} is done.", "Budget freezes are slowing pilots down."],
        ["Qualify pilots", "Pilot ROI calculator"],
    )
    plants = w.stream(
        "plant deals",
        key_result="KR-GROWTH-1",
        priorities=["Close two plants this month", "Proposals for the pilots that converted"],
        hubspot=HubSpotWork(
            pipeline="plants",
            stages=["appointmentscheduled", "pilot", "presentationscheduled", "contractsent"],
            deal_names=[
                f"{name} - plant"
                for name in [
                    "Raufoss Metal",
                    "Kongsberg Composites",
                    "Mo i Rana Steel",
                    "Hydro Sunndal",
                    "Orkla Foods Stange",
                    "Borregaard Sarpsborg",
                    "Elkem Salten",
                    "Nammo Raufoss",
                    "Sandvik Sandviken",
                    "Volvo Umea",
                ]
            ],
            amounts=(80_000, 400_000),
            notes=[
                "{company}: pilot results reviewed with the plant manager.",
                "{company} budget frozen until Q2.",
                "Proposal sent to {company}.",
            ],
            call_titles=["Plant call - {company}"],
            meeting_titles=["{company} site visit"],
            email_subjects=["Halden at {company}"],
            task_subjects=["Follow up with {company} after the site visit"],
            stage_moves_until_week=5,
        ),
        slack=SlackWork(
            channel="plant-deals",
            texts=["Site visit at Raufoss went well.", "Budget freeze at two prospects."],
        ),
    )
    plant_renewals = w.stream(
        "plant renewals",
        key_result="KR-CS-1",
        priorities=["Renewal reviews with plants due this quarter"],
        hubspot=HubSpotWork(
            pipeline="plant-renewals",
            stages=["renewal_due", "renewal_quoted"],
            deal_names=[
                f"{name} - renewal"
                for name in [
                    "Aker Verdal",
                    "Tine Jaeren",
                    "Kitron Arendal",
                    "Benteler Raufoss",
                    "Hexagon Raufoss",
                    "Yara Porsgrunn",
                ]
            ],
            amounts=(40_000, 200_000),
            deal_type="existingbusiness",
            notes=["{company} renewal quote accepted.", "Usage review with {company}."],
            call_titles=["Renewal call - {company}"],
            meeting_titles=["{company} QBR"],
            email_subjects=["Your renewal - {company}"],
            task_subjects=["Send {company} the renewal"],
        ),
        slack=SlackWork(channel="renewals", texts=["Two renewals signed.", "Renewal tracker updated."]),
    )
    visits = jira_slack(
        "visit booking",
        "KR-FIELD-1",
        "FLD",
        visits_epic,
        "field-ops",
        [
            "Book a visit from a work order",
            "Technician availability calendar",
            "Visit reminders by SMS",
            "Visit reports in the app",
            "Route planning for visits",
        ],
        ["Visits booked in the app: 31%.", "{issue} shipped.", "Technicians like the calendar."],
        ["Visit booking", "Technician calendar"],
    )
    fleet = w.stream(
        "fleet review",
        key_result="KR-CON-1",
        priorities=["Weekly connected-machines review"],
        slack=SlackWork(
            channel="fleet",
            texts=[
                "Connected machines: 47,300.",
                "Install backlog down to 900.",
                "Two plants fully connected.",
            ],
        ),
    )
    insight_review = w.stream(
        "insight review",
        key_result="KR-INSIGHT-1",
        priorities=["Weekly alert adoption review"],
        slack=SlackWork(
            channel="insight-review",
            texts=["Plants acting on alerts this week: 48.", "Adoption by region in the dashboard."],
        ),
    )

    for person in ("mob1", "mob2"):
        w.allocate(person, weeks(1, 5), {app: 8, platform_chores: 1})
        w.allocate(person, weeks(6, 13), {cert: 8, app: 0.6, platform_chores: 1})
    w.allocate("mob_design", weeks(1, 5), {app: 8})
    w.allocate("mob_design", weeks(6, 13), {cert: 5, app: 1})
    w.allocate("mob_pm", weeks(1, 5), {app: 7})
    w.allocate("mob_pm", weeks(6, 13), {cert: 6, app: 1})
    w.allocate("mob3", weeks(1, 13), {rating: 8, platform_chores: 1})
    w.allocate("mob_lead", weeks(1, 13), {rating: 5, app: 1, platform_chores: 1})
    w.allocate("mob_lead", weeks(6, 13), {rating: 5, cert: 1, platform_chores: 1})
    w.allocate("cto", weeks(1, 13), {insight_review: 2, cost: 1})
    w.allocate("cto", weeks(6, 13), {insight_review: 2, cert: 1})
    for person in ("int_pm", "int1", "int2"):
        w.allocate(person, weeks(1, 13), {protocols: 8, platform_chores: 1})
    w.allocate("int_lead", weeks(1, 13), {setup: 6, protocols: 2})
    w.allocate("int3", weeks(1, 13), {setup: 8, platform_chores: 1})
    for person in ("plat_lead", "plat1", "plat2"):
        w.allocate(person, weeks(1, 13), {cost: 7, platform_chores: 3})
    for person in ("plat3", "plat4"):
        w.allocate(person, weeks(1, 13), {platform_chores: 7, cost: 3})
    w.allocate("ana_pm", weeks(1, 5), {alerts: 7})
    w.allocate("ana_pm", weeks(6, 13), {reports: 6, platform_chores: 1})
    w.goes_silent("ana_pm", "KR-ANA-1", 6)
    for person in ("ana1", "ana2"):
        w.allocate(person, weeks(1, 5), {alerts: 8, platform_chores: 1})
        w.allocate(person, weeks(6, 13), {reports: 8, platform_chores: 1})
    w.allocate("ana_lead", weeks(1, 13), {insight_review: 2, reports: 2, alerts: 1})
    w.allocate("ana_lead", weeks(6, 13), {insight_review: 2, reports: 3})
    # The data platform KR's owner stops working on it in week 3.
    w.allocate("data_lead", weeks(1, 2), {fresh: 6, data_admin: 2})
    w.allocate("data_lead", weeks(3, 13), {data_admin: 8, platform_chores: 1})
    w.goes_silent("data_lead", "KR-DATA-1", 3)
    w.allocate("data2", weeks(1, 13), {fresh: 8, platform_chores: 1})
    # The invisible contribution: a data engineer builds device auto-discovery for connector setup.
    w.allocate("data_eng", weeks(1, 3), {fresh: 8, platform_chores: 1})
    w.allocate("data_eng", weeks(4, 13), {fresh: 5, setup: 3.5, platform_chores: 1})
    for person in ("growth_lead", "growth1", "growth2"):
        w.allocate(person, weeks(1, 13), {pilots: 9})
    for person in ("cro", "ae1", "ae2", "se1"):
        w.allocate(person, weeks(1, 13), {plants: 9})
    for person in ("cs_lead", "csm1", "csm2"):
        w.allocate(person, weeks(1, 13), {plant_renewals: 9})
    for person in ("field_lead", "field1"):
        w.allocate(person, weeks(1, 13), {visits: 9})
    w.allocate("coo", weeks(1, 13), {fleet: 4, visits: 1})
    w.busier("coo", 2)
    w.allocate("ceo", weeks(1, 13), {fleet: 1, plants: 1})
    w.allocate("cfo", weeks(1, 13), {fleet: 1})

    w.holiday(date(2027, 3, 25))  # Maundy Thursday
    w.holiday(date(2027, 3, 26))  # Good Friday
    w.holiday(date(2027, 3, 29))  # Easter Monday
    for person, away in [
        ("mob3", [3]),
        ("int3", [8]),
        ("plat2", [7]),
        ("csm2", [9]),
        ("growth2", [10]),
        ("field1", [6]),
        ("ae2", [11]),
        ("plat1", [4]),
    ]:
        w.away(person, away)

    # The integrations protocol work waits on two platform issues from week 5 to week 10.
    gateway = w.jira_issue(
        w.moment(4, 3, 10, "plat_lead"),
        "plat_lead",
        platform_chores,
        "Edge gateway: raw frame passthrough API",
        assignee="plat3",
        held=True,
    )
    certs = w.jira_issue(
        w.moment(4, 3, 11, "plat_lead"),
        "plat_lead",
        platform_chores,
        "Device certificates for industrial protocols",
        assignee="plat4",
        held=True,
    )
    blocked = [
        w.jira_issue(w.moment(4, 4, 10, "int_pm"), "int_pm", protocols, summary, assignee=person, held=True)
        for summary, person in [
            ("PROFINET adapter: read raw frames", "int1"),
            ("EtherNet/IP adapter: CIP over raw frames", "int2"),
            ("BACnet adapter: secure device onboarding", "int1"),
        ]
    ]
    w.jira_block(w.moment(5, 0, 10, "int_lead"), "int_lead", blocked[:2], gateway, protocols)
    w.jira_block(w.moment(5, 0, 10.5, "int_lead"), "int_lead", blocked[2:], certs, protocols)
    for week in range(5, 10):
        for index, issue in enumerate(blocked):
            person = ["int1", "int2", "int1"][index]
            blocker = gateway if index < 2 else certs
            if (week + index) % 2 == 1:
                w.jira_comment(
                    w.moment(week, 1 + index, 13, person),
                    person,
                    issue,
                    f"Still blocked on {blocker.key}; the adapter cannot be tested without it.",
                    protocols,
                )
        w.blocker("int_pm", [week], f"{gateway.key} and {certs.key} from platform have not moved.")
    w.jira_transition(w.moment(8, 1, 10, "plat3"), "plat3", gateway, "In Progress", platform_chores)
    w.jira_transition(w.moment(10, 2, 15, "plat3"), "plat3", gateway, "Done", platform_chores)
    w.jira_transition(w.moment(10, 3, 11, "plat4"), "plat4", certs, "Done", platform_chores)
    w.jira_release(w.moment(10, 4, 9, "int_lead"), blocked)

    # Growth: the work goes on, pilots and signatures stall from week 5; KPIs stay green.
    w.progress(
        "KR-GROWTH-1",
        by="cro",
        fraction=slows(4, rate=0.12, ahead=1.05),
        decimals=0,
        notes=["Budget freezes at two prospects.", *AT_RISK_NOTES],
    )
    w.progress(
        "KR-GROWTH-2",
        by="growth_lead",
        fraction=slows(4, rate=0.12, ahead=1.05),
        decimals=0,
        notes=["Pilots slipping into next quarter.", *AT_RISK_NOTES],
    )
    w.kpi_readings("K-COVER", lambda week: 3.3 + 0.05 * (week % 4), decimals=2)
    w.kpi_readings("K-CSAT", lambda week: 88 + week % 3, decimals=0)
    w.kpi_note("K-COVER", 6, "Coverage comfortably above 3x.", "O-GROWTH")
    w.kpi_readings("K-LATE", lambda week: 1.6 - 0.05 * week, decimals=2)

    w.progress("KR-MOB-1", by="mob_pm", fraction=stalls(5, creep=0.004))
    w.claim("KR-MOB-1", weeks(1, 13), "on_track")
    w.pulse_range("mobile", 2, 4, from_week=6)
    w.progress("KR-MOB-2", by="mob_lead", fraction=on_pace(1.06), decimals=2)
    w.progress(
        "KR-INT-1",
        by="int_pm",
        fraction=lambda week: (
            min(week, 4) * 0.075 + 0.01 * max(0, min(week, 10) - 4) + 0.1 * max(0, week - 10)
        ),
        decimals=0,
        notes=["Blocked on platform.", *AT_RISK_NOTES],
    )
    w.claim("KR-INT-1", weeks(5, 10), "blocked")
    w.progress("KR-INT-2", by="int_lead", fraction=on_pace(1.12), decimals=1)
    w.progress(
        "KR-ANA-1", by=lambda week: "ana_pm" if week <= 5 else None, fraction=stalls(5, ahead=1.02, creep=0)
    )
    for person in ("ana1", "ana2"):
        w.goes_silent(person, "KR-ANA-1", 6)
    w.progress("KR-DATA-1", by=lambda week: "data_lead" if week < 3 else "data2", fraction=on_pace(1.05))
    w.progress("KR-PLAT-1", by="plat_lead", fraction=on_pace(1.08), decimals=2)
    w.progress("KR-CS-1", by="cs_lead", fraction=on_pace(1.05))
    w.progress("KR-FIELD-1", by="field_lead", fraction=on_pace(1.06), decimals=0)
    w.progress("KR-CON-1", by="coo", fraction=on_pace(1.05), decimals=0)
    w.progress("KR-INSIGHT-1", by="cto", fraction=on_pace(1.0), decimals=0)
    for objective, owner in [
        ("O-MOBILE", "mob_lead"),
        ("O-INTEG", "int_lead"),
        ("O-FIELD", "field_lead"),
        ("O-ANALYTICS", "ana_lead"),
        ("O-DATA", "data_lead"),
        ("O-PLATFORM", "plat_lead"),
        ("O-CS", "cs_lead"),
    ]:
        w.review(w.moment(1, 2, 11, owner), objective, owner)

    # Week 8: the company objective is rewritten; two children re-confirm, field services never does.
    w.objective_change(
        w.moment(8, 1, 9, "ceo"),
        "O-CONNECT",
        "ceo",
        title="Connect every machine and every field engineer",
        description="Machines report within a day of installation; every field visit runs through Halden.",
    )
    w.review(w.moment(8, 2, 10, "mob_lead"), "O-MOBILE", "mob_lead")
    w.review(w.moment(8, 3, 14, "int_lead"), "O-INTEG", "int_lead")

    w.finding("priority_shift", "KR-MOB-1", 6)
    w.finding("status_contradiction", "KR-MOB-1", 7)
    w.finding("dependency_friction", "KR-INT-1", 5)
    w.finding("stale_progress", "KR-ANA-1", 7)
    w.finding("ownership_gap", "KR-DATA-1", 3)
    w.finding("kpi_conflict", "O-GROWTH", 5)
    w.finding("cascade_break", "O-FIELD", 8)
    w.contribution("data_eng", "KR-INT-2")
    w.quiet("KR-MOB-2", "KR-INT-2", "KR-FIELD-1", "KR-CON-1", "KR-PLAT-1", "KR-CS-1", "O-PLATFORM", "O-CS")
    return w


# --- the demo: Northwind Analytics, as of week 7 ---------------------------------------------------------


def demo_quarter() -> World:
    w = World(
        name="demo-quarter",
        description=(
            "Northwind Analytics, a dashboard company in Berlin, seven weeks into its quarter. From week 3 "
            "the sales team spends its time on renewals, which no key result maps, and new enterprise deals "
            "stop moving while the gross-margin KPI stays green. From week 4 the activation squad is pulled "
            "onto an unmapped security review for a bank prospect while its check-ins keep saying on_track. "
            "From week 3 the data team's import work waits on platform issues. In week 2 the security lead "
            "adds a team objective for the ISO audit without linking it to anything. Guided onboarding, "
            "dashboard speed, provisioning, marketing, retention and three individual objectives are "
            "healthy; in week 5 the CEO sharpens the onboarding objective and its team objectives "
            "re-confirm within two days; the dashboard engineer's work on guided onboarding goes uncredited. "
            "The file ends in week 7; load it with --relative so the quarter is in progress today."
        ),
        seed=5808,
        organization="Northwind Analytics",
        slug="northwind",
        time_zone="Europe/Berlin",
        cycle_name="2026-Q4",
        start=date(2026, 10, 5),
        domain="northwind.test",
        until_week=7,
        # Weekly, as the check-in asks it, so every week of the demo has line-of-sight figures.
        pulse_every_weeks=1,
    )
    staff(
        w,
        [
            ("leadership", "Leadership", None, "ceo"),
            ("product", "Product", "leadership", "cpo"),
            ("activation", "Activation squad", "product", "eng_lead"),
            ("sales", "Sales", "leadership", "cro"),
            ("platform", "Platform", "product", "plat_lead"),
            ("data", "Data", "product", "data_lead"),
            ("security", "Security", "leadership", "sec_lead"),
            ("marketing", "Marketing", "leadership", "mkt_lead"),
        ],
        [
            ("ceo", "Amara Okafor", "admin", "leadership", None, "", "s"),
            ("cpo", "Jonas Weber", "manager", "product", "ceo", "", "js"),
            ("cro", "Luc\u00eda Romero", "manager", "sales", "ceo", "Europe/Madrid", "sh"),
            ("eng_lead", "Priya Nair", "manager", "activation", "cpo", "", "js"),
            ("eng1", "Tom Becker", "employee", "activation", "eng_lead", "", "js"),
            ("eng2", "Mei Chen", "employee", "activation", "eng_lead", "", "js"),
            ("eng3", "Ravi Shah", "employee", "activation", "eng_lead", "Europe/London", "js"),
            ("pm1", "Hannah Lind", "employee", "product", "cpo", "Europe/Stockholm", "js"),
            ("ae1", "Diego Alves", "employee", "sales", "cro", "Europe/Lisbon", "sh"),
            ("ae2", "Sophie Martin", "employee", "sales", "cro", "Europe/Paris", "sh"),
            ("ae3", "Jamal Wright", "employee", "sales", "cro", "Europe/London", "sh"),
            ("cs1", "Kwame Mensah", "employee", "sales", "cro", "", "sh"),
            ("plat_lead", "Erik Johansson", "manager", "platform", "cpo", "Europe/Stockholm", "js"),
            ("sre1", "Ana Souza", "employee", "platform", "plat_lead", "Europe/Lisbon", "js"),
            ("data_lead", "Olu Adeyemi", "manager", "data", "cpo", "Europe/London", "js"),
            ("data_eng", "Lena Fischer", "employee", "data", "data_lead", "", "js"),
            ("sec_lead", "Marco Bianchi", "manager", "security", "ceo", "Europe/Rome", "js"),
            ("mkt_lead", "Chlo\u00e9 Dubois", "manager", "marketing", "ceo", "Europe/Paris", "js"),
        ],
    )
    revenue = w.objective(
        "O-REV",
        "Grow enterprise revenue by 30%",
        level="company",
        owner="ceo",
        description="Land and expand enterprise accounts in Europe.",
    )
    w.key_result(
        revenue,
        "KR-ARR",
        "Enterprise new ARR from EUR 0 to EUR 1.2M",
        owner="cro",
        unit="EUR",
        baseline=0,
        target=1_200_000,
        contributors=["ae1", "ae2", "ae3"],
    )
    onboarding = w.objective(
        "O-ONB",
        "Make enterprise onboarding effortless",
        level="company",
        owner="ceo",
        description="New enterprise workspaces reach value in days, not weeks.",
    )
    w.key_result(
        onboarding,
        "KR-ONB-1",
        "Median days to first shared dashboard from 9 to 3",
        owner="cpo",
        unit="days",
        baseline=9,
        target=3,
        contributors=["pm1"],
    )
    retention = w.objective(
        "O-RET",
        "Keep every enterprise customer we win",
        level="company",
        owner="ceo",
        type="aspirational",
    )
    w.key_result(
        retention,
        "KR-NRR",
        "Net revenue retention from 104% to 112%",
        owner="ceo",
        unit="%",
        baseline=104,
        target=112,
        contributors=["cs1"],
    )
    guided = w.objective(
        "O-GUIDED",
        "Ship guided onboarding for enterprise workspaces",
        level="team",
        team="product",
        owner="cpo",
        parent="O-ONB",
    )
    w.key_result(
        guided,
        "KR-GUIDE-1",
        "Onboarding checklist completion from 20% to 70%",
        owner="pm1",
        unit="%",
        baseline=20,
        target=70,
        contributors=[],
    )
    setup = w.objective(
        "O-SETUP",
        "Cut enterprise setup time",
        level="team",
        team="activation",
        owner="eng_lead",
        parent="O-ONB",
    )
    w.key_result(
        setup,
        "KR-ACT-1",
        "Enterprise workspaces activated within 14 days from 40% to 55%",
        owner="eng_lead",
        unit="%",
        baseline=40,
        target=55,
        contributors=["eng1", "eng2"],
    )
    w.key_result(
        setup,
        "KR-ACT-2",
        "p95 dashboard load from 3.2 s to 1.5 s",
        owner="eng3",
        unit="s",
        baseline=3.2,
        target=1.5,
        contributors=[],
    )
    data = w.objective(
        "O-DATA",
        "Make enterprise data import reliable",
        level="team",
        team="data",
        owner="data_lead",
        parent="O-ONB",
    )
    w.key_result(
        data,
        "KR-DATA-1",
        "Data import success rate from 85% to 98%",
        owner="data_lead",
        unit="%",
        baseline=85,
        target=98,
        contributors=["data_eng"],
    )
    platform = w.objective(
        "O-PLAT",
        "Provision enterprise workspaces in minutes",
        level="team",
        team="platform",
        owner="plat_lead",
        parent="O-ONB",
    )
    w.key_result(
        platform,
        "KR-PLAT-1",
        "Workspace provisioning time from 20 min to 2 min",
        owner="plat_lead",
        unit="min",
        baseline=20,
        target=2,
        contributors=["sre1"],
    )
    marketing = w.objective(
        "O-MKT",
        "Fill the enterprise funnel",
        level="team",
        team="marketing",
        owner="mkt_lead",
        parent="O-REV",
    )
    w.key_result(
        marketing,
        "KR-MKT-1",
        "Enterprise MQLs from 0 to 150",
        owner="mkt_lead",
        unit="MQLs",
        baseline=0,
        target=150,
        contributors=[],
    )
    # Individual objectives under the team ones, drawing on the same work as the key results they serve.
    tenants = w.objective(
        "O-TENANTS",
        "Make dashboards fast for our largest tenants",
        level="individual",
        team="activation",
        owner="eng3",
        parent="O-SETUP",
    )
    w.key_result(
        tenants,
        "KR-TENANTS",
        "Enterprise tenants with a p95 under 2 s from 3 to 12",
        owner="eng3",
        unit="tenants",
        baseline=3,
        target=12,
        parent_key_result="KR-ACT-2",
    )
    admins = w.objective(
        "O-ADMINS",
        "Learn what holds enterprise admins back in their first week",
        level="individual",
        team="product",
        owner="pm1",
        parent="O-GUIDED",
    )
    w.key_result(
        admins,
        "KR-ADMINS",
        "Enterprise admins interviewed about their first week from 0 to 12",
        owner="pm1",
        unit="interviews",
        baseline=0,
        target=12,
        parent_key_result="KR-GUIDE-1",
    )
    expand = w.objective(
        "O-EXPAND",
        "Turn quarterly business reviews into expansions",
        level="individual",
        team="sales",
        owner="cs1",
        parent="O-RET",
    )
    w.key_result(
        expand,
        "KR-EXPAND",
        "Expansion proposals accepted from 0 to 8",
        owner="cs1",
        unit="proposals",
        baseline=0,
        target=8,
        parent_key_result="KR-NRR",
    )
    w.kpi(
        "K-MARGIN",
        "Gross margin",
        unit="%",
        direction="increase",
        green=75,
        red=65,
        owner="ceo",
        team="leadership",
        objectives=["O-REV"],
    )
    w.kpi(
        "K-CHURN",
        "Monthly logo churn",
        unit="%",
        direction="decrease",
        green=1.0,
        red=2.0,
        owner="cs1",
        team="sales",
        objectives=["O-RET"],
    )
    w.kpi(
        "K-FRT",
        "Support first response time",
        unit="h",
        direction="decrease",
        green=4,
        red=8,
        owner="pm1",
        team="product",
        objectives=["O-ONB"],
    )

    for key, name, first in [
        ("NW", "Northwind", 400),
        ("SEC", "Security", 90),
        ("DATA", "Data", 210),
        ("PLAT", "Platform", 760),
        ("MKT", "Marketing", 55),
        ("ENG", "Engineering", 1900),
    ]:
        w.project(key, name, first)
    guided_epic = w.epic("NW", "Guided onboarding checklist", owner="pm1")
    setup_epic = w.epic("NW", "Self-serve enterprise setup", owner="eng_lead")
    speed_epic = w.epic("NW", "Fast dashboards for enterprise tenants", owner="eng3")
    review_epic = w.epic("SEC", "Security review for Baltic Bank", owner="sec_lead", days_before_start=-22)
    import_epic = w.epic("DATA", "Reliable data import", owner="data_lead")
    provisioning_epic = w.epic("PLAT", "Workspace provisioning in minutes", owner="plat_lead")
    campaign_epic = w.epic("MKT", "Enterprise campaigns Q4", owner="mkt_lead")
    w.map("jira", {"epic": guided_epic.key}, "KR-GUIDE-1")
    w.map("jira", {"epic": setup_epic.key}, "KR-ACT-1")
    w.map("jira", {"epic": speed_epic.key}, "KR-ACT-2")
    w.map("jira", {"epic": import_epic.key}, "KR-DATA-1")
    w.map("jira", {"epic": provisioning_epic.key}, "KR-PLAT-1")
    w.map("jira", {"epic": campaign_epic.key}, "KR-MKT-1")
    for channel, kr in [
        ("guided-onboarding", "KR-GUIDE-1"),
        ("activation", "KR-ACT-1"),
        ("dashboard-speed", "KR-ACT-2"),
        ("imports", "KR-DATA-1"),
        ("provisioning", "KR-PLAT-1"),
        ("campaigns", "KR-MKT-1"),
        ("enterprise-deals", "KR-ARR"),
        ("time-to-value", "KR-ONB-1"),
        ("customer-health", "KR-NRR"),
    ]:
        w.map("slack", {"channel": w.slack.channel(channel)}, kr)
    w.map("hubspot", {"pipeline": "enterprise"}, "KR-ARR")
    w.map("hubspot", {"pipeline": "expansion"}, "KR-NRR")
    w.map("jira", {"label": "largest-tenants"}, "KR-TENANTS")
    w.map("slack", {"channel": w.slack.channel("admin-interviews")}, "KR-ADMINS")
    w.map("slack", {"channel": w.slack.channel("business-reviews")}, "KR-EXPAND")

    guided_work = w.stream(
        "guided onboarding",
        key_result="KR-GUIDE-1",
        priorities=["Checklist step for connecting a warehouse", "Checklist progress e-mails"],
        jira=JiraWork(
            project="NW",
            epic=guided_epic,
            summaries=[
                "Checklist: connect your warehouse",
                "Checklist progress e-mails",
                "Sample dashboards for new workspaces",
                "Invite teammates step",
                "Checklist completion tracking",
                "Tooltips for the first dashboard",
            ],
        ),
        slack=SlackWork(
            channel="guided-onboarding",
            texts=[
                "Checklist completion this week: 31%.",
                "{issue} is live.",
                "New checklist copy in the doc.",
            ],
        ),
    )
    setup_work = w.stream(
        "self-serve setup",
        key_result="KR-ACT-1",
        priorities=["Self-serve SSO setup", "Workspace templates for enterprise teams"],
        jira=JiraWork(
            project="NW",
            epic=setup_epic,
            summaries=[
                "Self-serve SAML setup",
                "Domain verification",
                "Workspace templates by department",
                "Bulk user import",
                "Setup progress for admins",
                "Role presets for enterprise",
                "SCIM groups mapping",
            ],
        ),
        slack=SlackWork(
            channel="activation",
            texts=["Activation within 14 days: 43%.", "{issue} is ready for review.", "Picking up {issue}."],
        ),
    )
    speed_work = w.stream(
        "dashboard speed",
        key_result="KR-ACT-2",
        priorities=["Query cache for enterprise tenants", "Faster chart rendering"],
        jira=JiraWork(
            project="NW",
            epic=speed_epic,
            summaries=[
                "Query result cache per tenant",
                "Render charts in a worker",
                "Trim the dashboard payload",
                "Precompute popular tiles",
                "Measure p95 per tenant",
            ],
        ),
        slack=SlackWork(channel="dashboard-speed", texts=["Dashboard p95: 2.6 s.", "{issue} deployed."]),
    )
    security_review = w.stream(
        "baltic bank security review",
        priorities=[
            "Baltic Bank security questionnaire",
            "Pen-test fixes for Baltic Bank",
            "Audit log export",
        ],
        jira=JiraWork(
            project="SEC",
            epic=review_epic,
            summaries=[
                "Questionnaire: encryption and key management",
                "Pen-test fix: session fixation",
                "Audit log export",
                "Data residency evidence",
                "Pen-test fix: CSV injection",
                "Access review automation",
            ],
        ),
        slack=SlackWork(
            channel="baltic-bank-review",
            texts=["Baltic Bank sent 40 more questions.", "{issue} done.", "Pen-test retest on Thursday."],
        ),
    )
    iso = w.stream(
        "iso audit",
        priorities=["ISO 27001 evidence collection"],
        jira=JiraWork(
            project="SEC",
            types=("Task",),
            summaries=[
                "Evidence: access reviews",
                "Evidence: backup restore test",
                "Risk register update",
                "Supplier review",
                "Policy refresh: incident response",
            ],
        ),
        slack=SlackWork(channel="security", texts=["Auditor visit booked.", "{issue} evidence uploaded."]),
    )
    imports = w.stream(
        "data import",
        key_result="KR-DATA-1",
        priorities=["Retry failed imports automatically", "Snowflake connector v2"],
        jira=JiraWork(
            project="DATA",
            epic=import_epic,
            summaries=[
                "Automatic retry for failed imports",
                "Snowflake connector v2",
                "Import error messages people understand",
                "Schema drift detection",
                "BigQuery connector service accounts",
                "Import health page",
            ],
        ),
        slack=SlackWork(
            channel="imports",
            texts=[
                "Import success this week: 89%.",
                "{issue} merged.",
                "Still waiting on platform for {issue}.",
            ],
        ),
    )
    provisioning = w.stream(
        "provisioning",
        key_result="KR-PLAT-1",
        priorities=["Warm pool of workspaces", "Provisioning in one API call"],
        jira=JiraWork(
            project="PLAT",
            epic=provisioning_epic,
            summaries=[
                "Warm pool of pre-provisioned workspaces",
                "Provisioning API",
                "Parallel schema creation",
                "Provisioning time dashboard",
                "Tenant database templates",
            ],
        ),
        slack=SlackWork(channel="provisioning", texts=["Provisioning p50: 9 min.", "{issue} shipped."]),
    )
    platform_chores = w.stream(
        "platform chores",
        priorities=["On-call", "Database upgrades"],
        jira=JiraWork(project="PLAT", summaries=BUG_SUMMARIES, types=("Bug", "Task")),
        slack=SlackWork(channel="engineering", texts=ENGINEERING_CHATTER),
    )
    campaigns = w.stream(
        "campaigns",
        key_result="KR-MKT-1",
        priorities=["Enterprise webinar", "Case study with a DACH customer"],
        jira=JiraWork(
            project="MKT",
            epic=campaign_epic,
            types=("Task",),
            summaries=[
                "Enterprise webinar",
                "Case study: Hanse Logistics",
                "Paid search for BI replacement",
                "Nurture for trial admins",
            ],
        ),
        slack=SlackWork(channel="campaigns", texts=["MQLs this week: 12.", "{issue} is live."]),
    )
    enterprise = w.stream(
        "enterprise deals",
        key_result="KR-ARR",
        priorities=["Move three enterprise deals to proposal", "Close Hanse Logistics"],
        hubspot=HubSpotWork(
            pipeline="enterprise",
            stages=["appointmentscheduled", "qualifiedtobuy", "presentationscheduled", "contractsent"],
            deal_names=[
                f"{name} - Enterprise"
                for name in [
                    "Hanse Logistics",
                    "Baltic Bank",
                    "Rhein Chemie",
                    "Alpen Retail",
                    "Nordsee Energie",
                    "Bavaria Motors",
                    "Elbe Pharma",
                    "Spree Media",
                    "Donau Insurance",
                ]
            ],
            amounts=(60_000, 240_000),
            notes=[
                "Discovery with {company}; they want a pilot.",
                "{company} security review started.",
                "Proposal sent to {company}.",
            ],
            call_titles=["Discovery - {company}"],
            meeting_titles=["{company} demo"],
            email_subjects=["Northwind for {company}"],
            task_subjects=["Send {company} the proposal"],
            stage_moves_until_week=2,
        ),
        slack=SlackWork(
            channel="enterprise-deals", texts=["Two demos booked.", "Proposal out to Rhein Chemie."]
        ),
    )
    renewals = w.stream(
        "renewals",
        priorities=["Renewal quotes for Q1 customers", "Save the Spree Media renewal"],
        hubspot=HubSpotWork(
            pipeline="renewals",
            stages=["renewal_due", "renewal_quoted", "renewal_verbal"],
            deal_names=[
                f"{name} - Renewal"
                for name in [
                    "Harz Tools",
                    "Ostsee Hotels",
                    "Main Capital",
                    "Isar Health",
                    "Weser Foods",
                    "Mosel Wines",
                    "Ruhr Steel",
                ]
            ],
            amounts=(20_000, 120_000),
            deal_type="existingbusiness",
            notes=[
                "{company} renewal quote sent.",
                "{company} verbal yes.",
                "{company} pushing back on price.",
            ],
            call_titles=["Renewal call - {company}"],
            meeting_titles=["{company} renewal review"],
            email_subjects=["Your renewal - {company}"],
            task_subjects=["Chase {company} for the signature"],
        ),
        slack=SlackWork(
            channel="renewals", texts=["Four renewals quoted today.", "Renewal tracker updated."]
        ),
    )
    expansion = w.stream(
        "expansion",
        key_result="KR-NRR",
        priorities=["Expansion reviews with top accounts"],
        hubspot=HubSpotWork(
            pipeline="expansion",
            stages=["identified", "proposed"],
            deal_names=[
                "Harz Tools - Expansion",
                "Main Capital - Expansion",
                "Isar Health - Expansion",
                "Ruhr Steel - Expansion",
            ],
            amounts=(10_000, 60_000),
            deal_type="existingbusiness",
            notes=["{company} wants 30 more seats.", "QBR with {company}."],
            call_titles=["Usage review - {company}"],
            meeting_titles=["{company} QBR"],
            email_subjects=["Expansion proposal - {company}"],
            task_subjects=["Follow up with {company}"],
        ),
        slack=SlackWork(channel="customer-health", texts=["NRR tracking at 107%.", "Two expansions signed."]),
    )
    largest_tenants = w.stream(
        "largest tenants",
        key_result="KR-TENANTS",
        priorities=["Tune the slowest enterprise tenant", "Per-tenant query budgets"],
        jira=JiraWork(
            project="NW",
            labels=("largest-tenants",),
            types=("Task", "Story"),
            summaries=[
                "Profile the slowest dashboards of Hanse Logistics",
                "Per-tenant query budget",
                "Partition the events table for Globex",
                "Warm the cache before Monday reporting",
            ],
        ),
    )
    admin_interviews = w.stream(
        "admin interviews",
        key_result="KR-ADMINS",
        priorities=["Interview two enterprise admins"],
        slack=SlackWork(
            channel="admin-interviews",
            texts=[
                "Interview notes from today are in the doc.",
                "SSO setup came up again as the first hurdle.",
                "Booked two more admin interviews for next week.",
            ],
        ),
    )
    business_reviews = w.stream(
        "business reviews",
        key_result="KR-EXPAND",
        priorities=["Quarterly business reviews with the top accounts"],
        slack=SlackWork(
            channel="business-reviews",
            texts=["QBR deck for Main Capital is ready.", "Isar Health accepted the seat proposal."],
        ),
    )
    ttv = w.stream(
        "time to value",
        key_result="KR-ONB-1",
        priorities=["Weekly time-to-value review"],
        slack=SlackWork(
            channel="time-to-value",
            texts=["Median days to first shared dashboard: 6.", "Cohort review is in the doc."],
        ),
    )

    w.allocate("ceo", weeks(1, 7), {expansion: 1, ttv: 1, enterprise: 1})
    w.allocate("cpo", weeks(1, 7), {ttv: 3, guided_work: 3})
    w.allocate("pm1", weeks(1, 7), {guided_work: 6, admin_interviews: 1.5, ttv: 1})
    w.allocate("cro", weeks(1, 2), {enterprise: 7, renewals: 1})
    w.allocate("cro", weeks(3, 7), {renewals: 6, enterprise: 1.5})
    for person in ("ae1", "ae2", "ae3"):
        w.allocate(person, weeks(1, 2), {enterprise: 8.5, renewals: 0.5})
        w.allocate(person, weeks(3, 7), {renewals: 8, enterprise: 1})
    w.allocate("cs1", weeks(1, 7), {expansion: 5, business_reviews: 1.5, renewals: 3})
    for person in ("eng1", "eng2"):
        w.allocate(person, weeks(1, 3), {setup_work: 8, platform_chores: 1})
        w.allocate(person, weeks(4, 7), {security_review: 8, setup_work: 0.6, platform_chores: 1})
    w.allocate("eng_lead", weeks(1, 3), {setup_work: 6, speed_work: 1, platform_chores: 1})
    w.allocate("eng_lead", weeks(4, 7), {security_review: 6, setup_work: 1, platform_chores: 1})
    # Ravi also builds the sample dashboards of guided onboarding, a goal that is not his.
    w.allocate("eng3", weeks(1, 7), {speed_work: 5, largest_tenants: 2, guided_work: 2.5, platform_chores: 1})
    w.allocate("sec_lead", weeks(1, 7), {iso: 6, security_review: 2})
    w.allocate("data_lead", weeks(1, 7), {imports: 6, platform_chores: 1})
    w.allocate("data_eng", weeks(1, 7), {imports: 8, platform_chores: 1})
    w.allocate("plat_lead", weeks(1, 7), {provisioning: 6, platform_chores: 3})
    w.allocate("sre1", weeks(1, 7), {provisioning: 6, platform_chores: 4})
    w.allocate("mkt_lead", weeks(1, 7), {campaigns: 8})
    w.away("ae2", [5])
    w.away("sre1", [6])
    w.pulse_range("activation", 2, 4, from_week=5)  # the squad no longer sees how its work serves the goals

    # Week 2: the security lead writes down an objective linked to nothing.
    w.objective_add(
        w.moment(2, 1, 11, "sec_lead"),
        "sec_lead",
        "O-SEC",
        "Pass the ISO 27001 surveillance audit",
        level="team",
        owner="sec_lead",
        team="security",
        parent=None,
        key_results=[
            w.new_key_result(
                "KR-SEC-1",
                "Audit controls evidenced from 60 to 114",
                owner="sec_lead",
                unit="controls",
                baseline=60,
                target=114,
            )
        ],
    )
    w.key_result_added_in("KR-SEC-1", 2)
    w.progress("KR-SEC-1", by="sec_lead", fraction=on_pace(1.0), decimals=0)
    # Week 3: import work starts waiting on two platform issues that do not move.
    quota = w.jira_issue(
        w.moment(2, 3, 10, "plat_lead"),
        "plat_lead",
        platform_chores,
        "Per-tenant connection quota for warehouse connectors",
        assignee="sre1",
        held=True,
    )
    secrets = w.jira_issue(
        w.moment(2, 3, 11, "plat_lead"),
        "plat_lead",
        platform_chores,
        "Secrets store for customer warehouse credentials",
        assignee="plat_lead",
        held=True,
    )
    blocked = [
        w.jira_issue(
            w.moment(2, 4, 10, "data_lead"), "data_lead", imports, summary, assignee=person, held=True
        )
        for summary, person in [
            ("Snowflake connector v2: key-pair auth", "data_eng"),
            ("Parallel imports for large tenants", "data_eng"),
            ("BigQuery connector: rotate service accounts", "data_lead"),
        ]
    ]
    w.jira_block(w.moment(3, 0, 10, "data_lead"), "data_lead", blocked[:2], quota, imports)
    w.jira_block(w.moment(3, 0, 10.5, "data_lead"), "data_lead", blocked[2:], secrets, imports)
    for week in range(3, 8):
        for index, issue in enumerate(blocked):
            person = ["data_eng", "data_eng", "data_lead"][index]
            if (week + index) % 2 == 1:
                blocker = quota if index < 2 else secrets
                w.jira_comment(
                    w.moment(week, 2, 11 + index, person),
                    person,
                    issue,
                    f"Waiting on {blocker.key} from platform before this can ship.",
                    imports,
                )
        w.blocker("data_lead", [week], f"{quota.key} and {secrets.key} on the platform team have not moved.")
    w.jira_transition(w.moment(6, 2, 14, "sre1"), "sre1", quota, "In Progress", platform_chores)

    w.progress(
        "KR-ARR",
        by="cro",
        fraction=slows(2, rate=0.15, ahead=1.05),
        decimals=0,
        notes=["Renewals are taking the team's time.", *AT_RISK_NOTES],
    )
    w.progress("KR-ACT-1", by="eng_lead", fraction=stalls(3, creep=0.004))
    w.claim("KR-ACT-1", weeks(1, 7), "on_track")
    w.progress(
        "KR-DATA-1",
        by="data_lead",
        fraction=slows(2, rate=0.2, ahead=1.05),
        notes=["Waiting on platform.", ""],
    )
    w.claim("KR-DATA-1", weeks(3, 7), "blocked")
    w.progress("KR-ONB-1", by="cpo", fraction=on_pace(1.06))
    w.progress("KR-NRR", by="ceo", fraction=on_pace(1.05))
    w.progress("KR-GUIDE-1", by="pm1", fraction=on_pace(1.1), decimals=0)
    w.progress("KR-ACT-2", by="eng3", fraction=on_pace(1.08), decimals=2)
    w.progress("KR-PLAT-1", by="plat_lead", fraction=on_pace(1.08))
    w.progress("KR-MKT-1", by="mkt_lead", fraction=on_pace(1.05), decimals=0)
    w.progress("KR-TENANTS", by="eng3", fraction=on_pace(1.08), decimals=0)
    w.progress("KR-ADMINS", by="pm1", fraction=on_pace(1.05), decimals=0)
    w.progress("KR-EXPAND", by="cs1", fraction=on_pace(1.1), decimals=0)
    w.kpi_readings("K-MARGIN", lambda week: 76 + week % 3, decimals=0)
    w.kpi_note("K-MARGIN", 4, "Margin holding at 77%; renewals are profitable.", "O-REV")
    w.kpi_readings("K-CHURN", lambda week: 0.8 + 0.05 * (week % 3), decimals=2)
    w.kpi_readings("K-FRT", lambda week: 3.4 + 0.1 * (week % 4), decimals=1)
    for objective, owner in [
        ("O-GUIDED", "cpo"),
        ("O-SETUP", "eng_lead"),
        ("O-DATA", "data_lead"),
        ("O-PLAT", "plat_lead"),
        ("O-MKT", "mkt_lead"),
    ]:
        w.review(w.moment(1, 1, 11, owner), objective, owner)
    # Week 5: the CEO sharpens what "effortless" means; each team objective under it re-confirms.
    w.objective_change(
        w.moment(5, 1, 9, "ceo"),
        "O-ONB",
        "ceo",
        description="New enterprise workspaces share their first dashboard within three days.",
    )
    for objective, owner, day in [
        ("O-GUIDED", "cpo", 1),
        ("O-SETUP", "eng_lead", 2),
        ("O-DATA", "data_lead", 2),
        ("O-PLAT", "plat_lead", 3),
    ]:
        w.review(w.moment(5, day, 15, owner), objective, owner)

    w.finding("cascade_break", "O-SEC", 2)
    w.finding("priority_shift", "KR-ARR", 3)
    w.finding("dependency_friction", "KR-DATA-1", 3)
    w.finding("kpi_conflict", "O-REV", 4)
    w.finding("priority_shift", "KR-ACT-1", 4)
    w.finding("status_contradiction", "KR-ACT-1", 5)
    w.contribution("eng3", "KR-GUIDE-1")
    return w


def staff(
    w: World,
    teams: list[tuple[str, str, str | None, str]],
    people: list[tuple[str, str, str, str, str | None, str, str]],
) -> None:
    """Teams as (key, name, parent, lead); people as (key, name, role, team, manager, time zone, tools)."""
    for key, name, parent, lead in teams:
        w.team(key, name, parent=parent, lead=lead)
    for key, name, role, team, manager, time_zone, tools in people:
        w.person(key, name, role=role, team=team, manager=manager, time_zone=time_zone or None, tools=tools)


STORIES: list[Callable[[], World]] = [
    soc2_pivot,
    green_kpis,
    steady_quarter,
    reorg_cascade,
    blocked_checkout,
    renewal_pull,
    mixed_quarter,
    demo_quarter,
]


def main(argv: list[str] | None = None) -> int:
    for path in write_all():
        events = len(json.loads(path.read_text(encoding="utf-8"))["events"])
        print(f"wrote {path.relative_to(DIRECTORY.parent.parent)} ({events} events)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
