"""The isolation cases of ``test_isolation`` with an employee as the attacker.

A file of its own so that the two halves of the attacks run side by side, on two test workers.
"""

from __future__ import annotations

import pytest

from tests.factories import OrgWorld
from tests.test_isolation import (  # noqa: F401 - the two fixtures
    EMPLOYEE_ATTACK_CASES,
    Case,
    Victim,
    assert_refused,
    attacker_world_fixture,
    victim_fixture,
)


@pytest.mark.parametrize("case", EMPLOYEE_ATTACK_CASES, ids=[case.id for case in EMPLOYEE_ATTACK_CASES])
def test_other_organisation_gets_404(case: Case, victim: Victim, attacker_world: OrgWorld) -> None:
    assert_refused(case, victim, attacker_world)
