"""Settings are read in one place: config/settings.py reads every environment variable, each one
is in .env.example, and every entry there is read (tests/security/test_config_files.py checks
the first direction). The code asks `settings.X`, never `getattr(settings, "X", default)`: a
default there is a second copy of the setting that drifts from the first."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP_FOLDERS = ("accounts", "common", "config", "customers", "dispatch", "technicians")
# Sections of .env.example that are read by something else, and say so in their heading.
NOT_SETTINGS = re.compile(r"^# --- .*\(.*not (?:read )?by the settings\)", re.MULTILINE)


def settings_variables() -> set[str]:
    source = (REPO / "config" / "settings.py").read_text()
    return set(re.findall(r"\benv\.\w+\(\s*\"([A-Z0-9_]+)\"", source))


def example_sections() -> tuple[set[str], set[str]]:
    """(variables the settings should read, variables documented for compose or scripts)."""
    settings_part, other_part = set(), set()
    for section in re.split(r"(?=^# --- )", (REPO / ".env.example").read_text(), flags=re.M):
        names = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", section, flags=re.MULTILINE))
        (other_part if NOT_SETTINGS.match(section) else settings_part).update(names)
    return settings_part, other_part


def app_sources():
    for folder in APP_FOLDERS:
        for path in (REPO / folder).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path, path.read_text()


def test_every_example_entry_is_read_by_the_settings():
    for_settings, for_others = example_sections()
    assert {"STALE_LOW_PRIORITY_DAYS", "AGING_HOURS_LOW", "DEBUG"} <= for_settings
    assert "POSTGRES_PASSWORD" in for_others  # compose's, in its own section
    assert for_settings - settings_variables() == set()
    assert settings_variables() - for_settings == set()


def test_only_the_settings_read_the_environment():
    readers = re.compile(
        r"os\.environ(?!\.setdefault\(\"DJANGO_SETTINGS_MODULE\")|os\.getenv|\benv\."
    )
    found = [
        str(path.relative_to(REPO))
        for path, text in app_sources()
        if path != REPO / "config" / "settings.py" and readers.search(text)
    ]
    assert found == []


def test_no_project_setting_is_read_with_a_getattr_default():
    found = [
        f"{path.relative_to(REPO)}: {match}"
        for path, text in app_sources()
        for match in re.findall(r"getattr\(\s*settings\s*,[^)]*\)", text)
    ]
    assert found == []
