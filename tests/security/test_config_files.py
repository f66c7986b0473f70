"""Issue 19: what ships in .env.example and docker-compose.yml is safe by default and complete.

Every variable config/settings.py reads is in .env.example (six ESCALATE_*/AGING_HOURS_* were
missing, and STALE_LOW_PRIORITY_DAYS was read with getattr and defined nowhere); the example
turns DEBUG on for nobody; compose has no built-in secret or password and publishes on
127.0.0.1 unless told otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]
ENV_EXAMPLE = (REPO / ".env.example").read_text()
COMPOSE_TEXT = (REPO / "docker-compose.yml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)


def settings_variables() -> set[str]:
    source = (REPO / "config" / "settings.py").read_text()
    return set(re.findall(r"env\.\w+\(\s*\"([A-Z0-9_]+)\"", source))


def example_variables() -> set[str]:
    return set(re.findall(r"^#? ?([A-Z0-9_]+)=", ENV_EXAMPLE, flags=re.MULTILINE))


def test_every_variable_the_settings_read_is_in_the_example():
    read = settings_variables()
    assert {"ESCALATE_AT_RISK_AFTER_MINUTES", "AGING_HOURS_LOW", "API_TOKEN_DAYS"} <= read
    assert read - example_variables() == set()


def test_stale_low_priority_days_is_a_real_setting_not_a_getattr_default():
    assert "STALE_LOW_PRIORITY_DAYS" in settings_variables()
    assert settings.STALE_LOW_PRIORITY_DAYS == 3
    desk = (REPO / "dispatch" / "pages" / "desk.py").read_text()
    assert "getattr(settings" not in desk


def test_the_example_does_not_turn_debug_on():
    active = re.findall(r"^DEBUG=(.*)$", ENV_EXAMPLE, flags=re.MULTILINE)
    assert all(value.strip().lower() in ("false", "0", "no", "off") for value in active)


def test_compose_refuses_to_start_without_a_secret_key_and_a_database_password():
    env = COMPOSE["x-env"]
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")
    assert "${POSTGRES_PASSWORD:?" in env["DATABASE_URL"]
    postgres = COMPOSE["services"]["postgres"]["environment"]
    assert postgres["POSTGRES_PASSWORD"].startswith("${POSTGRES_PASSWORD:?")
    assert "dispatch:dispatch@" not in COMPOSE_TEXT
    assert "change-me" not in COMPOSE_TEXT


def test_compose_publishes_the_web_port_on_localhost_unless_told_otherwise():
    for service in COMPOSE["services"].values():
        for port in service.get("ports", []):
            assert str(port).startswith("${WEB_BIND:-127.0.0.1}:"), port
