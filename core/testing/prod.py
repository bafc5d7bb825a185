"""Run manage.py in a subprocess with the production settings (and a throwaway SECRET_KEY)."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys

from django.conf import settings


def run_with_prod_settings(*args: str, **env: str) -> subprocess.CompletedProcess:
    secret = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(60))
    environment = {name: value for name, value in os.environ.items() if name != "DEBUG"} | {
        "DJANGO_SETTINGS_MODULE": "project.settings.prod",
        "SECRET_KEY": secret,
        "DATABASE_URL": "postgres://flux@127.0.0.1:5432/flux",
        "FLUX_LOG_SHIPPING": "0",
        "FLUX_NUM_PROXIES": "1",
        **env,
    }
    return subprocess.run([sys.executable, "manage.py", *args], cwd=settings.BASE_DIR, env=environment,
                          capture_output=True, text=True, timeout=120)
