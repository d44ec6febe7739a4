"""Settings come from the environment and fail loudly, naming the variable that is wrong.

Start-up is tested in a fresh interpreter with a controlled environment: settings are read once per
process, so only a new process shows what a deployment with that environment would get.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from okrsignal import env
from okrsignal.env import env_bool, env_int, env_str

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_HOST = "okrsignal.example.com"


@pytest.fixture(autouse=True)
def _names_read_here_are_forgotten() -> Iterator[None]:
    """The readers record every name they read; the made-up names of these tests must not linger."""
    before = set(env.VARIABLES)
    yield
    env.VARIABLES.intersection_update(before)


def _run(code_or_args: str | list[str], extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run Python in the project directory with only PATH, the settings module and ``extra_env`` set."""
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else code_or_args
    environment = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "okrsignal.settings", **extra_env}
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def _start_up(extra_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run("import django; django.setup()", extra_env)


def _settings_values(extra_env: dict[str, str], *names: str) -> dict[str, object]:
    code = (
        "import json, sys, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}, default=str))"
    )
    result = _run(["-c", code, *names], extra_env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The exception's own line, the last of the traceback: the source lines above it name variables too."""
    return result.stderr.strip().splitlines()[-1]


def _production_env(**overrides: str) -> dict[str, str]:
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": PRODUCTION_HOST,
        "INTEGRATION_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        **overrides,
    }


# --- The typed readers -------------------------------------------------------------------------------


def test_missing_required_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OKRSIGNAL_EXAMPLE_TOKEN", raising=False)
    with pytest.raises(ImproperlyConfigured, match="OKRSIGNAL_EXAMPLE_TOKEN"):
        env_str("OKRSIGNAL_EXAMPLE_TOKEN", required=True)


def test_empty_required_variable_counts_as_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKRSIGNAL_EXAMPLE_TOKEN", "")
    with pytest.raises(ImproperlyConfigured, match="OKRSIGNAL_EXAMPLE_TOKEN"):
        env_str("OKRSIGNAL_EXAMPLE_TOKEN", required=True)


def test_malformed_boolean_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKRSIGNAL_EXAMPLE_FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="OKRSIGNAL_EXAMPLE_FLAG"):
        env_bool("OKRSIGNAL_EXAMPLE_FLAG", default=False)


@pytest.mark.parametrize(("raw", "expected"), [("TRUE", True), ("on", True), ("0", False), ("no", False)])
def test_boolean_spellings_are_understood(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("OKRSIGNAL_EXAMPLE_FLAG", raw)
    assert env_bool("OKRSIGNAL_EXAMPLE_FLAG", default=not expected) is expected


def test_malformed_integer_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKRSIGNAL_EXAMPLE_COUNT", "twelve")
    with pytest.raises(ImproperlyConfigured, match="OKRSIGNAL_EXAMPLE_COUNT"):
        env_int("OKRSIGNAL_EXAMPLE_COUNT", 3)


def test_value_is_read_from_name_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text("from-a-mounted-secret\n")
    monkeypatch.delenv("OKRSIGNAL_EXAMPLE_TOKEN", raising=False)
    monkeypatch.setenv("OKRSIGNAL_EXAMPLE_TOKEN_FILE", str(secret_file))
    assert env_str("OKRSIGNAL_EXAMPLE_TOKEN", required=True) == "from-a-mounted-secret"


def test_name_and_name_file_both_set_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret_file = tmp_path / "token"
    secret_file.write_text("from-a-file")
    monkeypatch.setenv("OKRSIGNAL_EXAMPLE_TOKEN", "from-the-environment")
    monkeypatch.setenv("OKRSIGNAL_EXAMPLE_TOKEN_FILE", str(secret_file))
    with pytest.raises(
        ImproperlyConfigured, match="OKRSIGNAL_EXAMPLE_TOKEN and OKRSIGNAL_EXAMPLE_TOKEN_FILE"
    ):
        env_str("OKRSIGNAL_EXAMPLE_TOKEN")


def test_unreadable_name_file_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("OKRSIGNAL_EXAMPLE_TOKEN", raising=False)
    monkeypatch.setenv("OKRSIGNAL_EXAMPLE_TOKEN_FILE", str(tmp_path / "absent"))
    with pytest.raises(ImproperlyConfigured, match="OKRSIGNAL_EXAMPLE_TOKEN_FILE"):
        env_str("OKRSIGNAL_EXAMPLE_TOKEN")


# --- Start-up ----------------------------------------------------------------------------------------


def test_start_up_without_debug_refuses_a_missing_secret_key() -> None:
    result = _start_up({"DEBUG": "false", "ALLOWED_HOSTS": PRODUCTION_HOST})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in _error_line(result)
    assert "SECRET_KEY" in _error_line(result)


def test_start_up_without_debug_refuses_a_short_secret_key() -> None:
    result = _start_up(_production_env(SECRET_KEY="too-short"))
    assert result.returncode != 0
    assert "SECRET_KEY" in _error_line(result)


def test_start_up_without_debug_refuses_missing_allowed_hosts() -> None:
    environment = _production_env()
    del environment["ALLOWED_HOSTS"]
    result = _start_up(environment)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in _error_line(result)
    assert "ALLOWED_HOSTS" in _error_line(result)


def test_start_up_reads_the_secret_key_from_a_file(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret_key"
    secret_file.write_text(secrets.token_urlsafe(48) + "\n")
    environment = _production_env(SECRET_KEY_FILE=str(secret_file))
    del environment["SECRET_KEY"]
    result = _start_up(environment)
    assert result.returncode == 0, result.stderr


def test_start_up_names_a_malformed_variable() -> None:
    result = _start_up(
        {"DEBUG": "true", "DATABASE_URL": "postgres://x@127.0.0.1/x", "DATABASE_CONN_MAX_AGE": "a"}
    )
    assert result.returncode != 0
    assert "DATABASE_CONN_MAX_AGE" in _error_line(result)


def test_without_database_url_the_database_is_an_sqlite_file_under_var() -> None:
    database = _settings_values({"DEBUG": "true"}, "DATABASES")["DATABASES"]["default"]  # type: ignore[index]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(database["NAME"]).parent == ROOT / "var"


def test_without_redis_url_tasks_run_in_process() -> None:
    code = (
        "import json, django; django.setup(); from okrsignal.celery import app; "
        "print(json.dumps({'eager': app.conf.task_always_eager, 'broker': app.conf.broker_url}))"
    )
    result = _run(code, {"DEBUG": "true"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"eager": True, "broker": "memory://"}


def test_with_redis_url_tasks_go_to_the_broker() -> None:
    redis_url = "redis://127.0.0.1:6379/3"
    values = _settings_values(
        {"DEBUG": "true", "REDIS_URL": redis_url}, "CELERY_TASK_ALWAYS_EAGER", "CELERY_BROKER_URL"
    )
    assert values == {"CELERY_TASK_ALWAYS_EAGER": False, "CELERY_BROKER_URL": redis_url}


def test_production_settings_pass_the_deployment_checks() -> None:
    environment = _production_env(DATABASE_URL=os.environ["DATABASE_URL"])
    assert environment["DATABASE_URL"].startswith(("postgres://", "postgresql://"))
    assert len(environment["SECRET_KEY"]) == 64
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], environment)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_debug_log_records_are_json_lines() -> None:
    code = (
        "import logging, django; django.setup(); "
        "logging.getLogger('okrsignal.example').info('member %s invited', 42)"
    )
    result = _run(code, _production_env())
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["level"] == "INFO"
    assert record["logger"] == "okrsignal.example"
    assert record["message"] == "member 42 invited"
    assert "time" in record


def test_without_debug_session_and_csrf_cookies_are_secure() -> None:
    values = _settings_values(_production_env(), "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE")
    assert values == {"SESSION_COOKIE_SECURE": True, "CSRF_COOKIE_SECURE": True}


def test_without_debug_browsers_are_told_to_use_https_for_a_year() -> None:
    values = _settings_values(_production_env(), "SECURE_HSTS_SECONDS", "SECURE_SSL_REDIRECT")
    assert values["SECURE_HSTS_SECONDS"] >= 60 * 60 * 24 * 365  # type: ignore[operator]
    assert values["SECURE_SSL_REDIRECT"] is True
