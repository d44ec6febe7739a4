"""PostgreSQL row-level security: the second wall, which holds even if application scoping is bypassed."""

import psycopg
import pytest
from django.db import connection

from okrsignal import api_tokens, services
from okrsignal.database import role_bypasses_row_level_security
from okrsignal.migration_operations import POLICY_NAME
from okrsignal.models import Role
from okrsignal.tenancy import tenant_context, tenant_models
from tests.checkin_factories import make_check_in_data
from tests.drift_factories import make_drift_data
from tests.factories import OrgWorld, make_organization
from tests.goal_factories import make_goal_data
from tests.ingest_factories import make_ingest_data

TENANT_TABLES = sorted(model._meta.db_table for model in tenant_models())


def _connect(user: str | None = None) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=user or settings["USER"],
        autocommit=False,
    )


@pytest.fixture
def two_orgs(transactional_db: None) -> tuple[OrgWorld, OrgWorld]:
    """Two organisations with at least one row in every tenant table."""
    worlds = make_organization("Acme"), make_organization("Globex")
    for world in worlds:
        with tenant_context(world.organization):
            services.invitation_create(
                email=f"new@{world.slug}.test", role=Role.EMPLOYEE, invited_by=world.admin
            )
            goal_data = make_goal_data(world)
            make_check_in_data(world, goal_data)
            make_drift_data(world, goal_data)
            api_tokens.api_token_create(created_by=world.admin, name="Reports", scope="read")
            make_ingest_data(world, goal_data["key_result"])
    return worlds


def _set_organization(cursor: psycopg.Cursor, organization_id: int | None) -> None:
    cursor.execute(
        "SELECT set_config('okrsignal.organization_id', %s, true)",
        ["" if organization_id is None else str(organization_id)],
    )


def test_every_tenant_table_has_forced_row_level_security_and_the_policy(db: None) -> None:
    assert TENANT_TABLES, "no tenant tables found"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,"
            " EXISTS (SELECT 1 FROM pg_policies p WHERE p.tablename = c.relname AND p.policyname = %s)"
            " FROM pg_class c WHERE c.relname = ANY(%s)",
            [POLICY_NAME, TENANT_TABLES],
        )
        rows = {
            name: (enabled, forced, has_policy) for name, enabled, forced, has_policy in cursor.fetchall()
        }
    missing = [table for table in TENANT_TABLES if rows.get(table) != (True, True, True)]
    assert not missing, f"tenant tables without forced row-level security and {POLICY_NAME}: {missing}"


def test_every_policy_reads_the_organisation_once_per_statement(db: None) -> None:
    """Each setting is read by a sub-select (an InitPlan, evaluated once), not by a call per row."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, qual, with_check FROM pg_policies WHERE policyname = %s", [POLICY_NAME]
        )
        policies = cursor.fetchall()
        assert len(policies) == len(TENANT_TABLES)
        per_row = [
            table
            for table, qual, with_check in policies
            if qual != with_check or qual.count("( SELECT") != 2 or qual.count("current_setting(") != 2
        ]
        assert not per_row, f"policies that read a setting for every row: {per_row}"
        with tenant_context(make_organization("Acme").organization):
            cursor.execute("EXPLAIN SELECT * FROM signals_ingest_executionsignal")
            plan = "\n".join(row[0] for row in cursor.fetchall())
    assert plan.count("InitPlan") == 2, plan


def test_the_application_role_is_held_by_row_level_security(db: None) -> None:
    with connection.cursor() as cursor:
        assert not role_bypasses_row_level_security(cursor)


def test_a_superuser_connection_is_recognised_as_bypassing(db: None) -> None:
    with _connect("postgres") as superuser, superuser.cursor() as cursor:
        assert role_bypasses_row_level_security(cursor)


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_a_raw_query_without_the_setting_sees_nothing(
    two_orgs: tuple[OrgWorld, OrgWorld], table: str
) -> None:
    acme, _globex = two_orgs
    query = f"SELECT count(*) FROM {table}"  # noqa: S608 - table names come from the models
    with _connect() as raw, raw.cursor() as cursor:
        cursor.execute(query)
        assert cursor.fetchone() == (0,)
        _set_organization(cursor, acme.organization.pk)
        cursor.execute(query)
        assert cursor.fetchone()[0] > 0, f"{table} has no rows for the control query"


def test_every_table_with_an_organisation_column_is_a_tenant_table(db: None) -> None:
    not_tenant_data = {"okrsignal_auditevent"}  # sign-in events belong to no organisation
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.columns"
            " WHERE column_name = 'organization_id' AND table_schema = current_schema()"
        )
        tables = {row[0] for row in cursor.fetchall()}
    assert tables - not_tenant_data == set(TENANT_TABLES)


def test_two_organisations_alternating_on_one_connection_never_see_each_other(
    two_orgs: tuple[OrgWorld, OrgWorld],
) -> None:
    acme, globex = two_orgs
    expected = {
        acme.organization.pk: {
            m.pk for m in (acme.admin, acme.manager, acme.report, acme.indirect_report, acme.peer)
        },
        globex.organization.pk: {
            m.pk for m in (globex.admin, globex.manager, globex.report, globex.indirect_report, globex.peer)
        },
    }
    with _connect() as raw:
        for organization_id in [acme.organization.pk, globex.organization.pk] * 3:
            with raw.cursor() as cursor:
                _set_organization(cursor, organization_id)
                cursor.execute("SELECT id, organization_id FROM okrsignal_membership")
                rows = cursor.fetchall()
            raw.commit()  # the setting is transaction-local: the next transaction starts with none
            assert {row[0] for row in rows} == expected[organization_id]
            assert {row[1] for row in rows} == {organization_id}
        with raw.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM okrsignal_membership")
            assert cursor.fetchone() == (0,)


def test_writing_a_row_for_another_organisation_is_refused(two_orgs: tuple[OrgWorld, OrgWorld]) -> None:
    acme, globex = two_orgs
    with _connect() as raw, raw.cursor() as cursor:
        _set_organization(cursor, acme.organization.pk)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            cursor.execute(
                "INSERT INTO okrsignal_team (organization_id, name) VALUES (%s, 'Intruders')",
                [globex.organization.pk],
            )


def test_updates_cannot_reach_another_organisations_rows(two_orgs: tuple[OrgWorld, OrgWorld]) -> None:
    acme, globex = two_orgs
    with _connect() as raw, raw.cursor() as cursor:
        _set_organization(cursor, acme.organization.pk)
        cursor.execute("UPDATE okrsignal_team SET name = 'taken' WHERE id = %s", [globex.team.pk])
        assert cursor.rowcount == 0


def test_connecting_as_a_superuser_warns_at_start_up(db: None, caplog: pytest.LogCaptureFixture) -> None:
    from django.db.backends.postgresql.base import DatabaseWrapper

    from okrsignal import database

    superuser_settings = {**connection.settings_dict, "USER": "postgres"}
    superuser_connection = DatabaseWrapper(superuser_settings, alias="superuser-check")
    database._warned = False
    try:
        with caplog.at_level("WARNING", logger="okrsignal.database"):
            database.warn_if_row_level_security_is_bypassed(sender=None, connection=superuser_connection)
    finally:
        superuser_connection.close()
    assert "bypasses row-level security" in caplog.text
    assert "'postgres'" in caplog.text
