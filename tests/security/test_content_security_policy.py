"""A strict Content-Security-Policy on every response, and templates that can live under it.

The header is checked on pages, fragments, API answers, errors and the admin. The templates are
scanned for what the policy would block (inline scripts, style attributes, on* handlers, hx-on /
hx-vars / js: expressions), so a template change fails here before it fails in a browser; the
Chromium run (tests/browser/test_csp_in_chromium.py) checks what really executes.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from config.csp import STRICT_POLICY
from tests.conftest import DAY

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((REPO / "templates").rglob("*.html"))
REQUIRED = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
    "form-action 'self'",
]


def directives(policy: str) -> dict[str, list[str]]:
    parts = [d.split() for d in policy.split(";") if d.strip()]
    return {d[0]: d[1:] for d in parts}


def test_the_policy_is_strict():
    policy = directives(STRICT_POLICY)
    for required in REQUIRED:
        name, *sources = required.split()
        assert policy[name] == sources, required
    for sources in policy.values():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"} & set(sources)


@pytest.mark.parametrize(
    ("url", "who"),
    [
        ("/login/", None),
        ("/board/", None),  # the redirect to sign in
        (f"/board/?day={DAY}", "dispatcher"),
        (f"/board/columns/?day={DAY}", "dispatcher"),
        ("/escalations/", "manager"),
        ("/dashboard/", "manager"),
        ("/dashboard/", "csr"),  # a 403
        ("/calls/999999/", "dispatcher"),  # a 404
        ("/api/v1/calls/", "dispatcher"),
        ("/api/v1/calls/", None),  # a 403 in JSON
        ("/api/schema/", None),
        ("/api/docs/", None),
        ("/api/docs/?script=", None),
        ("/admin/", None),
        ("/admin/login/", None),
        ("/track/not-a-token/", None),
    ],
)
def test_every_response_carries_the_policy(request, client, url, who):
    if who:
        client.force_login(request.getfixturevalue(who))
    response = client.get(url)
    assert response["Content-Security-Policy"] == STRICT_POLICY, (url, response.status_code)


def test_the_admin_works_under_the_strict_policy_for_staff(admin_client):
    response = admin_client.get("/admin/dispatch/servicecall/")
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == STRICT_POLICY


def test_htmx_is_configured_without_eval_and_without_inline_indicator_styles(client, dispatcher):
    client.force_login(dispatcher)
    html = client.get(f"/board/?day={DAY}").content.decode()
    meta = re.search(r'<meta name="htmx-config" content=\'([^\']*)\'>', html)
    assert meta, "htmx-config meta missing"
    config = json.loads(meta.group(1))
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False
    assert config["allowScriptTags"] is False
    assert "style" not in config["attributesToSettle"]  # htmx would setAttribute("style", ...)
    css = (REPO / "static/css/app.css").read_text()
    assert ".htmx-indicator" in css and ".htmx-request .htmx-indicator" in css


FORBIDDEN_IN_TEMPLATES = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "on* handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on": re.compile(r"\s(data-)?hx-on", re.I),
    "hx-vars": re.compile(r"\s(data-)?hx-vars", re.I),
    "js: expression": re.compile(r"[\"']js:", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
    "<style> block": re.compile(r"<style", re.I),
}


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(REPO)))
def test_templates_contain_nothing_the_policy_blocks(template):
    text = template.read_text()
    found = [name for name, pattern in FORBIDDEN_IN_TEMPLATES.items() if pattern.search(text)]
    assert found == []
