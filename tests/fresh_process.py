"""Run a snippet in a fresh Python process with the project's settings and an
environment the test chooses: what settings.py makes of environment variables
can only be seen in a process that loads it anew."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def json_from_fresh_process(
    code: str, tmp_path, *, unset: tuple[str, ...] = (), **env: str
) -> dict:
    """The JSON that `code` prints last, run with the project's settings,
    LOYALTY_VAR_DIR in `tmp_path`, the variables in `unset` removed from this
    process's environment and `env` added."""
    environ = {k: v for k, v in os.environ.items() if k not in unset}
    environ.update(
        DJANGO_SETTINGS_MODULE="loyalty_site.settings",
        LOYALTY_VAR_DIR=str(tmp_path),
        **env,
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter, fixed code
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
