"""The Dockerfile, docker-compose.yml, .env.example and the database init script agree with the code.

Containers are not started here; these tests hold the deployment files to what the application actually
reads and runs, so they cannot drift from it unnoticed.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import re
import secrets
import shlex
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from cryptography.fernet import Fernet

from okrsignal.celery import QUEUES

ROOT = Path(__file__).resolve().parent.parent
APP_SERVICES = ("web", "worker", "beat")
INIT_SCRIPT_MOUNT_DIR = "/docker-entrypoint-initdb.d/"


# --- Reading the files -------------------------------------------------------------------------------


@functools.cache
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def command(name: str) -> list[str]:
    value = service(name)["command"]
    return shlex.split(value) if isinstance(value, str) else list(value)


def environment(name: str) -> dict[str, str]:
    value = service(name).get("environment", {})
    if isinstance(value, list):
        value = dict(item.split("=", 1) for item in value)
    return {key: str(item) for key, item in value.items()}


def interpolated(value: str) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}`` replaced by a plain word."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*[^}]*\}", "interpolated", value)


def option(args: list[str], *names: str) -> str:
    """The value of a command-line option given as ``--name value`` or ``--name=value``."""
    for index, arg in enumerate(args):
        for name in names:
            if arg == name:
                return args[index + 1]
            if arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    raise AssertionError(f"none of {names} in {args}")


@functools.cache
def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile as (INSTRUCTION, arguments), continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        keyword, _, arguments = (pending + stripped).partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
        pending = ""
    return instructions


def dockerfile_arguments(keyword: str) -> list[str]:
    return [arguments for instruction, arguments in dockerfile() if instruction == keyword]


def dockerfile_cmd() -> list[str]:
    (cmd,) = dockerfile_arguments("CMD")
    return json.loads(cmd)


def documented_variables() -> list[str]:
    """Names in .env.example, set (``NAME=value``) or shown with their default (``# NAME=value``)."""
    text = (ROOT / ".env.example").read_text()
    return re.findall(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=", text, flags=re.MULTILINE)


def init_script() -> str:
    return (ROOT / "deploy" / "postgres-init.sql").read_text()


def _run_python(code: str, extra_env: dict[str, str]) -> str:
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "okrsignal.settings", **extra_env}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@functools.cache
def variables_read_by_settings() -> frozenset[str]:
    """Every name okrsignal.env.VARIABLES holds after the settings load, in development and in production.

    Some names are read only with DEBUG off or only with a database configured, so both are loaded, each
    in a fresh process (the set in this process also holds names that other tests made up).
    """
    code = (
        "import json, django; django.setup(); "
        "from okrsignal.env import VARIABLES; print(json.dumps(sorted(VARIABLES)))"
    )
    development = {"DEBUG": "true"}
    production = {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "okrsignal.example.com",
        "INTEGRATION_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "DATABASE_URL": "postgres://okrsignal@postgres:5432/okrsignal",
        "REDIS_URL": "redis://redis:6379/0",
    }
    names: set[str] = set()
    for extra_env in (development, production):
        names.update(json.loads(_run_python(code, extra_env)))
    return frozenset(names)


def is_read_by_settings(name: str) -> bool:
    return name in variables_read_by_settings() or name.removesuffix("_FILE") in variables_read_by_settings()


# --- docker-compose.yml: the services ----------------------------------------------------------------


def test_compose_has_web_worker_beat_postgres_and_redis() -> None:
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(compose()["services"])


def test_postgres_is_version_15_with_a_healthcheck() -> None:
    assert service("postgres")["image"] == "postgres:15"
    assert "pg_isready" in service("postgres")["healthcheck"]["test"]


def test_redis_is_version_7() -> None:
    assert service("redis")["image"] == "redis:7"


def test_web_serves_the_wsgi_application_with_gunicorn() -> None:
    args = command("web")
    assert args[0] == "gunicorn"
    module_name, _, attribute = args[1].partition(":")
    module = importlib.import_module(module_name)
    assert callable(getattr(module, attribute))


def test_web_binds_the_port_it_publishes_and_the_image_exposes() -> None:
    bind_port = option(command("web"), "--bind", "-b").rsplit(":", 1)[1]
    published_container_ports = {str(mapping).rsplit(":", 1)[1] for mapping in service("web")["ports"]}
    assert published_container_ports == {bind_port}
    assert dockerfile_arguments("EXPOSE") == [bind_port]


def test_migrations_run_once_before_web_worker_and_beat_start() -> None:
    assert command("migrate")[:3] == ["python", "manage.py", "migrate"]
    for name in APP_SERVICES:
        assert service(name)["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_worker_and_beat_run_the_okrsignal_celery_app() -> None:
    for name, subcommand in (("worker", "worker"), ("beat", "beat")):
        args = command(name)
        assert args[0] == "celery"
        assert option(args, "-A", "--app") == "okrsignal"
        assert subcommand in args


def test_worker_consumes_every_queue_the_tasks_are_sent_to() -> None:
    queues = option(command("worker"), "-Q", "--queues").split(",")
    assert sorted(queues) == sorted(QUEUES)


def test_web_worker_and_beat_run_the_same_image_and_environment() -> None:
    first = service(APP_SERVICES[0])
    for name in APP_SERVICES[1:]:
        assert service(name)["build"] == first["build"]
        assert environment(name) == environment(APP_SERVICES[0])


# --- docker-compose.yml and .env.example: the environment --------------------------------------------


def test_every_variable_compose_gives_the_application_is_read_by_settings() -> None:
    for name in APP_SERVICES:
        unread = {key for key in environment(name) if not is_read_by_settings(key)}
        assert not unread, f"{name} sets variables the settings never read: {sorted(unread)}"


def test_every_variable_compose_gives_the_application_is_documented() -> None:
    documented = set(documented_variables())
    for name in APP_SERVICES:
        undocumented = {key.removesuffix("_FILE") for key in environment(name)} - documented
        assert not undocumented, (
            f"{name} sets variables .env.example does not document: {sorted(undocumented)}"
        )


def test_every_documented_variable_is_read_by_settings() -> None:
    unread = {name for name in documented_variables() if name not in variables_read_by_settings()}
    assert not unread, f".env.example documents variables the settings never read: {sorted(unread)}"


def test_every_variable_settings_read_is_documented() -> None:
    undocumented = variables_read_by_settings() - set(documented_variables())
    assert not undocumented, f".env.example does not document: {sorted(undocumented)}"


def test_each_variable_is_documented_once() -> None:
    names = documented_variables()
    assert len(names) == len(set(names))


def test_each_documented_variable_has_a_comment_above_it() -> None:
    lines = (ROOT / ".env.example").read_text().splitlines()
    for index, line in enumerate(lines):
        match = re.match(r"^(?:#\s*)?([A-Z][A-Z0-9_]*)=", line)
        if match:
            above = lines[index - 1] if index else ""
            assert above.startswith("#"), f"{match.group(1)} has no comment above it"
            assert not re.match(r"^#\s*[A-Z][A-Z0-9_]*=", above), (
                f"{match.group(1)} has no comment of its own"
            )


def test_env_example_says_any_variable_can_come_from_a_file() -> None:
    assert "NAME_FILE" in (ROOT / ".env.example").read_text()


def test_database_url_points_at_the_postgres_service() -> None:
    url = urlsplit(interpolated(environment("web")["DATABASE_URL"]))
    assert url.scheme in ("postgres", "postgresql")
    assert url.hostname == "postgres"
    assert str(url.port) in service("postgres")["expose"]


def test_redis_url_points_at_the_redis_service() -> None:
    url = urlsplit(interpolated(environment("web")["REDIS_URL"]))
    assert url.scheme == "redis"
    assert url.hostname == "redis"
    assert str(url.port) in service("redis")["expose"]


# --- The database role -------------------------------------------------------------------------------


def _database_url_parts() -> tuple[str, str, str]:
    """(user, name of the variable holding the password, database) of the application's DATABASE_URL."""
    raw = environment("web")["DATABASE_URL"]
    match = re.match(r"^postgres(?:ql)?://([^:@/]+):\$\{([A-Za-z_][A-Za-z0-9_]*)[^}]*\}@[^/]+/(\w+)$", raw)
    assert match, f"DATABASE_URL should be postgres://USER:${{PASSWORD_VARIABLE}}@HOST:PORT/NAME, not {raw}"
    user, password_variable, database = match.groups()
    return user, password_variable, database


def _created_role(role: str) -> str:
    match = re.search(rf"CREATE ROLE {role}\b([^;]*);", init_script(), flags=re.IGNORECASE)
    assert match, f"deploy/postgres-init.sql does not create the role {role}"
    return match.group(1).upper()


def test_the_application_does_not_connect_as_the_postgres_superuser() -> None:
    user, _, _ = _database_url_parts()
    assert user != "postgres"


def test_init_script_creates_the_application_role_without_superuser_or_bypassrls() -> None:
    user, _, _ = _database_url_parts()
    attributes = _created_role(user).split()
    assert "NOSUPERUSER" in attributes
    assert "NOBYPASSRLS" in attributes


def test_init_script_creates_the_database_owned_by_the_application_role() -> None:
    user, _, database = _database_url_parts()
    assert re.search(rf"CREATE DATABASE {database} OWNER {user}\s*;", init_script(), flags=re.IGNORECASE)


def test_init_script_is_given_to_postgres_with_the_role_password() -> None:
    mounts = [str(volume).split(":") for volume in service("postgres")["volumes"]]
    init_mounts = [
        (source, target) for source, target, *_ in mounts if target.startswith(INIT_SCRIPT_MOUNT_DIR)
    ]
    assert [(Path(source).resolve(), Path(target).suffix) for source, target in init_mounts] == [
        ((ROOT / "deploy" / "postgres-init.sql").resolve(), ".sql")
    ]
    _, password_variable, _ = _database_url_parts()
    (script_variable,) = re.findall(r"\\getenv\s+\w+\s+(\w+)", init_script())
    assert f"${{{password_variable}" in environment("postgres")[script_variable]


def _psql(*args: str, password: str | None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """psql as the postgres superuser on the test server, as the postgres image's entrypoint runs it."""
    server = urlsplit(os.environ["DATABASE_URL"])
    connection = ["-h", server.hostname or "127.0.0.1", "-p", str(server.port or 5432), "-U", "postgres"]
    psql_env = {"PATH": os.environ["PATH"]}
    if password is not None:
        psql_env["OKRSIGNAL_DB_PASSWORD"] = password
    return subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", *connection, "-d", "postgres", *args],
        input=stdin,
        env=psql_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _query(sql: str, name: str) -> str:
    """One value from the test server, with ``:'name'`` bound by psql."""
    result = _psql("-tA", "-v", f"name={name}", password=None, stdin=sql + ";")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def throwaway_init_script() -> Iterator[tuple[str, str]]:
    """The init script with the role and database renamed, and the role dropped again afterwards."""
    user, _, database = _database_url_parts()
    name = f"okrsignal_initcheck_{uuid.uuid4().hex[:12]}"
    yield name, re.sub(rf"\b({re.escape(user)}|{re.escape(database)})\b", name, init_script())
    _psql("-c", f'DROP DATABASE IF EXISTS "{name}"', password=None)
    _psql("-c", f'DROP ROLE IF EXISTS "{name}"', password=None)


def test_init_script_creates_a_role_that_row_level_security_applies_to(
    throwaway_init_script: tuple[str, str],
) -> None:
    name, script = throwaway_init_script
    result = _psql(password=secrets.token_hex(16), stdin=script)
    assert result.returncode == 0, result.stderr
    attributes = _query(
        "SELECT rolsuper, rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = :'name'", name
    )
    assert attributes == "f|f|t"  # neither superuser nor BYPASSRLS, and may log in
    assert _query("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :'name'", name) == name


def test_init_script_refuses_to_run_without_the_role_password(throwaway_init_script: tuple[str, str]) -> None:
    name, script = throwaway_init_script
    result = _psql(password=None, stdin=script)
    assert result.returncode != 0
    assert "OKRSIGNAL_DB_PASSWORD" in result.stderr
    assert _query("SELECT count(*) FROM pg_roles WHERE rolname = :'name'", name) == "0"


# --- Dockerfile --------------------------------------------------------------------------------------


def test_image_is_built_on_python_3_11_slim() -> None:
    (base,) = dockerfile_arguments("FROM")
    assert base.startswith("python:3.11-slim")


def test_image_installs_the_project_with_pip_from_pyproject() -> None:
    runs = " ".join(dockerfile_arguments("RUN"))
    assert "pyproject.toml" in " ".join(dockerfile_arguments("COPY"))
    assert "pip install" in runs
    assert re.search(r"pip install [^&]*--editable \.", runs)


def test_image_runs_as_a_non_root_user() -> None:
    users = dockerfile_arguments("USER")
    assert users, "the Dockerfile never switches away from root"
    assert users[-1] not in ("root", "0")


def test_image_runs_gunicorn_with_the_web_services_application_by_default() -> None:
    cmd = dockerfile_cmd()
    assert cmd[:2] == command("web")[:2] == ["gunicorn", "okrsignal.wsgi:application"]
    assert option(cmd, "--bind", "-b") == option(command("web"), "--bind", "-b") == "0.0.0.0:8000"


def _collectstatic_step() -> list[str]:
    (step,) = [arguments for arguments in dockerfile_arguments("RUN") if "collectstatic" in arguments]
    (invocation,) = [part for part in step.split("&&") if "collectstatic" in part]
    return shlex.split(invocation)


def test_static_files_are_collected_at_build_time_with_debug_off() -> None:
    words = _collectstatic_step()
    assert "DEBUG=false" in words
    assert words[-3:] == ["manage.py", "collectstatic", "--no-input"]


def test_build_only_secret_key_is_not_kept_in_the_image() -> None:
    assert any(word.startswith("SECRET_KEY=") for word in _collectstatic_step())
    for keyword in ("ENV", "ARG"):
        assert not any("SECRET_KEY" in arguments for arguments in dockerfile_arguments(keyword))


def test_build_time_environment_satisfies_the_settings() -> None:
    """The variables the collectstatic step sets must get past the settings' own start-up checks."""
    assignments = dict(word.split("=", 1) for word in _collectstatic_step() if re.match(r"^[A-Z_]+=", word))
    _run_python("import django; django.setup()", assignments)


def test_build_context_leaves_out_local_secrets_and_the_virtualenv() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored
    assert ".venv" in ignored
