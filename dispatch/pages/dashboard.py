"""HTML views for the manager's dashboard: thin; selectors read, services write.

The charts are inline SVG drawn by the templates from numbers computed here; user text (a
technician's name) reaches them only through the template's autoescaping.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from common import clock, roles
from dispatch.selectors import calibration, reports

FORBIDDEN = "Dashboards and reports are for dispatchers and managers."

# On-time chart geometry (SVG user units).
DAY_BAR_WIDTH, DAY_STEP, DAY_PLOT_TOP, DAY_PLOT_HEIGHT = 44, 64, 24, 140
# Utilisation chart geometry: 100 % of a shift is FULL_WIDTH; longer bars stop at MAX_WIDTH.
TECH_LABEL_WIDTH, TECH_ROW, TECH_BAR_HEIGHT, FULL_WIDTH, MAX_WIDTH = 130, 28, 18, 200, 250

CSV_DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _forbidden() -> HttpResponse:
    return HttpResponse(FORBIDDEN, status=403, content_type="text/plain; charset=utf-8")


def _bad_request(message: str) -> HttpResponse:
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    minutes = max(int(value.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.0f}%"


def _on_time_chart(days: list[reports.DayOnTime]) -> dict:
    bars = []
    for i, day in enumerate(days):
        x = 10 + i * DAY_STEP
        height = round((day.rate or 0) * DAY_PLOT_HEIGHT, 1)
        bars.append(
            {
                "x": x,
                "mid": x + DAY_BAR_WIDTH / 2,
                "y": DAY_PLOT_TOP + DAY_PLOT_HEIGHT - height,
                "height": height,
                "label": _percent(day.rate) if day.rate is not None else "no data",
                "label_y": DAY_PLOT_TOP + DAY_PLOT_HEIGHT - height - 6,
                "day": day.day,
                "count": f"{day.on_time} of {day.completed_with_deadline}",
            }
        )
    return {
        "bars": bars,
        "bar_width": DAY_BAR_WIDTH,
        "width": 20 + len(days) * DAY_STEP,
        "height": DAY_PLOT_TOP + DAY_PLOT_HEIGHT + 44,
        "axis_y": DAY_PLOT_TOP + DAY_PLOT_HEIGHT,
        "date_y": DAY_PLOT_TOP + DAY_PLOT_HEIGHT + 18,
        "count_y": DAY_PLOT_TOP + DAY_PLOT_HEIGHT + 34,
    }


def _utilisation_chart(rows: list[reports.TechUtilisation]) -> dict:
    bars = []
    for i, row in enumerate(rows):
        rate = row.rate or 0
        width = round(min(rate * FULL_WIDTH, MAX_WIDTH), 1)
        y = 8 + i * TECH_ROW
        bars.append(
            {
                "name": row.name,
                "y": y,
                "text_y": y + TECH_BAR_HEIGHT - 5,
                "width": width,
                "over": rate > 1,
                "label": f"{_percent(row.rate)} ({row.booked_minutes} of {row.shift_minutes} min)"
                + (" over" if rate > 1 else ""),
                "label_x": TECH_LABEL_WIDTH + width + 6,
            }
        )
    return {
        "bars": bars,
        "bar_x": TECH_LABEL_WIDTH,
        "bar_height": TECH_BAR_HEIGHT,
        "full_x": TECH_LABEL_WIDTH + FULL_WIDTH,
        "width": TECH_LABEL_WIDTH + MAX_WIDTH + 190,
        "height": 16 + len(rows) * TECH_ROW,
    }


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    if not roles.can_see_dashboards(request.user):
        return _forbidden()
    data = reports.dashboard_get(now=clock.now())
    turned_away = reports.turned_away_counts(today=data.today)
    periods = [
        {
            "figures": period,
            "turned_away": turned_away[key],
            "on_time_rate": _percent(period.on_time_rate),
            "mean_wait": format_duration(period.mean_wait),
            "worst_wait": format_duration(period.worst_wait),
        }
        for key, period in zip(("today", "week"), data.periods, strict=True)
    ]
    context = {
        "data": data,
        "periods": periods,
        "oldest_age": format_duration(data.oldest_escalation_age),
        "median_age": format_duration(data.median_escalation_age),
        "on_time_chart": _on_time_chart(data.on_time_by_day),
        "utilisation_chart": _utilisation_chart(data.utilisation),
        "week_first": data.periods[-1].first,
        "backlog_alerts": reports.backlog_alerts_recent(),
        "calibration": calibration.calibration(now=data.now),
        "learned": calibration.durations_by_category(),
    }
    return render(request, "dashboard/dashboard.html", context)


def _parse_day(request: HttpRequest, name: str, default: date) -> date:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return default
    try:
        if not ISO_DAY.fullmatch(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(
            f"The '{name}' date must be a real date written YYYY-MM-DD, e.g. 2026-03-10."
        ) from None


def csv_safe(value: object) -> object:
    """A spreadsheet would run a cell starting with = + - @ (or tab, CR) as a formula."""
    if isinstance(value, str) and value.startswith(CSV_DANGEROUS_PREFIXES):
        return "'" + value
    return value


CSV_HEADER = [
    "date",
    "call_id",
    "summary",
    "customer",
    "contract",
    "labor_hours",
    "discount_percent",
    "approved_by",
]


def _csv_response(rows: list, first: date, last: date) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="concessions_{first.isoformat()}_{last.isoformat()}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(CSV_HEADER)
    for esc in rows:
        writer.writerow(
            [
                csv_safe(value)
                for value in (
                    timezone.localtime(esc.resolved_at).date().isoformat(),
                    esc.call_id,
                    esc.call.summary,
                    esc.call.customer.name,
                    esc.call.customer.get_contract_display(),
                    "" if esc.concession_labor_hours is None else esc.concession_labor_hours,
                    ""
                    if esc.concession_discount_percent is None
                    else esc.concession_discount_percent,
                    esc.resolved_by.get_username() if esc.resolved_by else "",
                )
            ]
        )
    return response


@login_required
@require_GET
def concessions(request: HttpRequest) -> HttpResponse:
    if not roles.can_see_dashboards(request.user):
        return _forbidden()
    today = timezone.localdate(clock.now())
    try:
        first = _parse_day(request, "from", today - timedelta(days=reports.WEEK_DAYS - 1))
        last = _parse_day(request, "to", today)
    except ValueError as exc:
        return _bad_request(str(exc))
    if first > last:
        return _bad_request("The 'from' date must not be after the 'to' date.")
    output = request.GET.get("format", "html")
    if output not in ("html", "csv"):
        return _bad_request("The format must be 'html' or 'csv'.")
    rows = reports.concessions_report(first=first, last=last)
    if output == "csv":
        return _csv_response(rows, first, last)
    context = {
        "rows": rows,
        "first": first,
        "last": last,
        "total_labor": sum((r.concession_labor_hours or 0 for r in rows), 0),
    }
    return render(request, "dashboard/concessions.html", context)
