"""`manage.py check --deploy` with production-like settings reports nothing.

Production differs from development only by environment variables (.env.example, "HTTPS"), so
the check runs in a subprocess with exactly those set, as a deploy would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3Vq9-production-like-secret-for-the-deploy-check-0123456789-abcdefghijklmnop",
    "ALLOWED_HOSTS": "dispatch.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://dispatch.example.com",
    "HTTPS": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "SECURE_PROXY_SSL_HEADER": "true",
}


def check_deploy(extra: dict[str, str]) -> subprocess.CompletedProcess:
    # The test run's own switches (DJANGO_ALLOW_ASYNC_UNSAFE for Playwright) are no deploy's.
    dropped = {
        *PRODUCTION,
        "DJANGO_ALLOW_ASYNC_UNSAFE",
        *(k for k in os.environ if k.startswith("SECURE_")),
    }
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(extra)
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_deploy_check_is_clean_with_production_settings():
    result = check_deploy(PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_would_catch_plain_http_settings():
    # The same check fails loudly without the HTTPS switch: it is really looking.
    result = check_deploy({**PRODUCTION, "HTTPS": "false", "SECURE_HSTS_PRELOAD": "false"})
    assert result.returncode != 0
    for warning in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert warning in result.stderr + result.stdout


# What an operator puts in the .env beside docker-compose.yml to run it behind a TLS proxy.
OPERATOR_ENV = {
    "SECRET_KEY": PRODUCTION["SECRET_KEY"],
    "POSTGRES_PASSWORD": "a-long-random-database-password",
    "ALLOWED_HOSTS": "dispatch.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://dispatch.example.com",
    "PUBLIC_BASE_URL": "https://dispatch.example.com",
    "HTTPS": "true",
    "SECURE_PROXY_SSL_HEADER": "true",
    "SECURE_HSTS_PRELOAD": "true",
}
REFERENCE = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def compose_environment(operator: dict[str, str]) -> dict[str, str]:
    """The web container's environment as compose builds it: docker-compose.yml's x-env with
    ${VAR:-default} and ${VAR:?message} filled from the operator's .env (compose's own rules)."""
    raw = yaml.safe_load((REPO / "docker-compose.yml").read_text())["x-env"]

    def fill(match: re.Match) -> str:
        name, op, rest = match.groups()
        if operator.get(name):
            return operator[name]
        assert op != "?", f"compose refuses to start without {name}: {rest}"
        return rest or ""

    return {key: REFERENCE.sub(fill, str(value)) for key, value in raw.items()}


def test_the_deploy_check_is_clean_with_the_compose_environment_and_https_on():
    env = compose_environment(OPERATOR_ENV)
    assert env["DEBUG"] == "false" and env["HTTPS"] == "true"
    result = check_deploy(env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_compose_environment_without_https_is_caught():
    # Compose's defaults keep plain http (a first local try); the deploy check says so.
    env = compose_environment({k: OPERATOR_ENV[k] for k in ("SECRET_KEY", "POSTGRES_PASSWORD")})
    assert env["HTTPS"] == "false"
    result = check_deploy(env)
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout  # SECURE_SSL_REDIRECT
