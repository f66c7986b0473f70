"""URL names: the API under `api:`, the office pages under `pages:`, the technician's pages under
`tech:`. A name means one thing: `reverse('escalations')` once gave the API's path where the desk
page was meant. Paths are contracts (docs/api.md), so the key names are pinned to their paths."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse

REPO = Path(__file__).resolve().parents[1]
URL_TAG = re.compile(r"""\{%\s*url\s+['"]([^'"]+)['"]""")
PY_NAME = re.compile(r"""\b(?:reverse|redirect|reverse_lazy)\(\s*['"]([^'"/?]+)['"]""")


def names_in(namespace: str) -> set[str]:
    resolver = get_resolver()
    prefix, sub = resolver.namespace_dict[namespace]
    assert isinstance(sub, URLResolver)
    return {key for key in sub.reverse_dict if isinstance(key, str)}


def all_names() -> set[str]:
    resolver = get_resolver()
    names = {key for key in resolver.reverse_dict if isinstance(key, str)}
    for namespace in resolver.namespace_dict:
        names |= {f"{namespace}:{name}" for name in names_in(namespace)}
    return names


def test_the_api_and_the_pages_share_no_name():
    api = names_in("api")
    pages = names_in("pages") | names_in("tech")
    assert api and pages
    assert api & pages == set()
    # Nothing of either is left at the root, where an unqualified name would find it.
    root = {key for key in get_resolver().reverse_dict if isinstance(key, str)}
    assert root & (api | pages) == set(), root & (api | pages)


@pytest.mark.parametrize(
    ("name", "args", "path"),
    [
        ("login", [], "/login/"),
        ("logout", [], "/logout/"),
        ("schema", [], "/api/schema/"),
        ("api-docs", [], "/api/docs/"),
        ("api:api-token", [], "/api/v1/auth/token/"),
        ("api:call-list", [], "/api/v1/calls/"),
        ("api:call-detail", [7], "/api/v1/calls/7/"),
        ("api:call-move", [7], "/api/v1/calls/7/move/"),
        ("api:call-escalate", [7], "/api/v1/calls/7/escalate/"),
        ("api:escalations", [], "/api/v1/escalations/"),
        ("api:escalation-resolve", [3], "/api/v1/escalations/3/resolve/"),
        ("api:plan-detail", [2], "/api/v1/plans/2/"),
        ("api:technician-detail", [4], "/api/v1/technicians/4/"),
        ("pages:home", [], "/"),
        ("pages:board", [], "/board/"),
        ("pages:board-week-move", [], "/board/week/move/"),
        ("pages:board-move", [], "/board/move/"),
        ("pages:call-page", [7], "/calls/7/"),
        ("pages:call-escalate-form", [7], "/calls/7/escalate/"),
        ("pages:escalation-queue", [], "/escalations/"),
        ("pages:escalation-page", [3], "/escalations/3/"),
        ("pages:escalation-resolve-form", [3], "/escalations/3/resolve/"),
        ("pages:plan-page", [2], "/board/plan/2/"),
        ("pages:book", [], "/book/"),
        ("pages:dashboard", [], "/dashboard/"),
        ("pages:track", ["abc"], "/track/abc/"),
        ("tech:me", [], "/me/"),
        ("tech:me-call-status", [7], "/me/calls/7/status/"),
    ],
)
def test_key_names_reverse_to_the_documented_paths(name, args, path):
    assert reverse(name, args=args) == path


def test_an_unqualified_page_name_no_longer_reverses():
    with pytest.raises(NoReverseMatch):
        reverse("escalations")
    with pytest.raises(NoReverseMatch):
        reverse("board")


def test_every_name_the_templates_and_code_use_exists():
    """A template or view still using an old or unqualified name fails here, not on a page."""
    known = all_names() | {"admin:index"}
    used: dict[str, set[str]] = {}
    for path in (REPO / "templates").rglob("*.html"):
        for name in URL_TAG.findall(path.read_text()):
            used.setdefault(name, set()).add(str(path.relative_to(REPO)))
    for folder in ("accounts", "common", "config", "customers", "dispatch", "technicians"):
        for path in (REPO / folder).rglob("*.py"):
            for name in PY_NAME.findall(path.read_text()):
                used.setdefault(name, set()).add(str(path.relative_to(REPO)))
    assert used
    unknown = {name: sorted(where) for name, where in used.items() if name not in known}
    assert unknown == {}
