"""Running ``manage.py bench`` from the tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from django.db import connection


def run_bench(*args: str) -> tuple[str, dict[str, Any]]:
    """Run ``manage.py bench`` in a process of its own against the test database; answer its standard
    output and the JSON object on its last line.

    The benchmarks fork (set-up, generation, workers); a fork taken from the test process would copy the
    threads other tests leave running (the browser driver's, a live server's) and the connections they
    hold, which the child can then wait on forever or find closed under it.
    """
    database = connection.settings_dict
    url = (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST'] or '127.0.0.1'}:"
        f"{database['PORT'] or 5432}/{database['NAME']}"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "bench", *args],
        env={**os.environ, "DATABASE_URL": url, "DEBUG": "true"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout
    return text, json.loads(text.strip().splitlines()[-1])
