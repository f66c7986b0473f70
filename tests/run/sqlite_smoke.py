"""Run by tests/run/test_make_run_on_sqlite.py inside `manage.py shell` on a SQLite demo database:
every main page and API read of each role, a poll and its 304, a preview and a move. Prints one
line per request and exits non-zero on any 5xx."""

import sys

from django.test import Client

from dispatch.models import ServiceCall

PAGES = {
    "dispatcher": [
        "/board/",
        "/board/columns/",
        "/api/v1/calls/?page_size=200",
        "/api/v1/status/",
        "/dashboard/",
        "/escalations/",
        "/book/",
        "/api/v1/capacity/",
        "/reports/concessions/",
        "/api/schema/",
        "/api/docs/",
    ],
    "csr": ["/book/", "/board/"],
    "tech1": ["/me/", "/me/version/", "/board/"],
    "manager": ["/dashboard/", "/escalations/", "/board/"],
}
failures = []


def request(client, method, url, **kw):
    response = getattr(client, method)(url, **kw)
    print(response.status_code, method.upper(), url)
    if response.status_code >= 500:
        failures.append(f"{method.upper()} {url}: {response.status_code}")
    return response


for username, urls in PAGES.items():
    client = Client()
    assert client.login(username=username, password="demo-pass-2026"), username
    for url in urls:
        request(client, "get", url)
board = Client()
board.login(username="dispatcher", password="demo-pass-2026")
etag = request(board, "get", "/board/columns/")["ETag"]
if request(board, "get", "/board/columns/", HTTP_IF_NONE_MATCH=etag).status_code != 304:
    failures.append("an unchanged poll is not a 304")
call = ServiceCall.objects.filter(status="assigned").order_by("pk").first()
body = {"technician": call.technician_id, "position": 0, "expected_version": call.version}
for url in (f"/calls/{call.pk}/", f"/calls/{call.pk}/suggest/", f"/api/v1/calls/{call.pk}/rescue/"):
    request(board, "get", url)
request(
    board,
    "post",
    f"/api/v1/calls/{call.pk}/move/preview/",
    data=body,
    content_type="application/json",
)
moved = request(
    board, "post", "/board/move/", data={"call": call.pk, **body}, HTTP_HX_REQUEST="true"
)
if moved.status_code != 200:
    failures.append(f"the move answered {moved.status_code}")
print("FAILURES:", failures)
sys.exit(1 if failures else 0)
