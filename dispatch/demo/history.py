"""Saving the day's calls with the history each would have: booked, assigned, then its statuses.

A call's history (its page, the API) is read from its events, so every demo call gets the events
a real call of its shape would have, dated when they would have happened, not when seeded.
"""

from __future__ import annotations

from django.contrib.auth.models import User

from dispatch.demo.plan import CallSpec, DemoPlan
from dispatch.models import CallEvent, ServiceCall
from dispatch.services.events import events_append, jsonable


def call_events(
    call: ServiceCall, spec: CallSpec, users: dict[str, User], tech_user: User | None
) -> list[CallEvent]:
    """The history a call of this shape would have: booked, assigned, then its statuses."""
    events = [
        CallEvent(
            call=call,
            actor=users["csr"],
            kind="booked",
            created_at=spec.booked_at,
            payload=jsonable(
                {
                    "after": {
                        "summary": call.summary,
                        "description": call.description,
                        "priority": call.priority,
                        "duration_minutes": call.duration_minutes,
                        "window_start": call.window_start,
                        "deadline": call.deadline,
                        "promised_eta": call.promised_eta,
                        "scheduled_day": call.scheduled_day,
                        "site": call.site_id,
                    }
                }
            ),
        )
    ]
    if spec.tech is None:
        return events
    events.append(
        CallEvent(
            call=call,
            actor=users["dispatcher"],
            kind="assigned",
            created_at=spec.assigned_at,
            payload={
                "reason": "",
                "before": {"technician": None, "position": None, "status": "new", "eta": None},
                "after": {
                    "technician": call.technician_id,
                    "position": call.position if call.position is not None else 0,
                    "status": "assigned",
                    "eta": None,
                },
            },
        )
    )
    steps = [
        ("assigned", "en_route", spec.en_route_at),
        ("en_route", "on_site", spec.started_at),
        ("on_site", "completed", spec.completed_at),
    ]
    for before, after, when in steps:
        if when is not None:
            events.append(
                CallEvent(
                    call=call,
                    actor=tech_user,
                    kind="status",
                    created_at=when,
                    payload={"before": {"status": before}, "after": {"status": after}},
                )
            )
    return events


def save_calls(plan: DemoPlan, users: dict[str, User], company) -> None:
    skills, techs, customers, sites = company
    calls = ServiceCall.objects.bulk_create(
        [
            ServiceCall(
                customer=customers[s.customer],
                site=sites[s.customer][s.site],
                summary=s.problem.summary,
                description=s.description,
                priority=s.priority,
                duration_minutes=s.duration,
                window_start=s.window_start,
                deadline=s.deadline,
                scheduled_day=plan.day,
                status=s.status,
                technician=techs[s.tech] if s.tech is not None else None,
                position=s.position,
                promised_eta=s.promised_eta,
                en_route_at=s.en_route_at,
                started_at=s.started_at,
                completed_at=s.completed_at,
                booked_by=users["csr"],
            )
            for s in plan.calls
        ]
    )
    # auto_now_add stamps "now" on insert; the demo's history goes back days.
    for call, spec in zip(calls, plan.calls, strict=True):
        call.created_at = spec.booked_at
    ServiceCall.objects.bulk_update(calls, ["created_at"], batch_size=500)
    ServiceCall.skills.through.objects.bulk_create(
        [
            ServiceCall.skills.through(servicecall_id=call.pk, skill_id=skills[code].pk)
            for call, spec in zip(calls, plan.calls, strict=True)
            for code in spec.problem.skills
        ]
    )
    tech_users = [users[t.username] for t in plan.techs]
    events = [
        event
        for call, spec in zip(calls, plan.calls, strict=True)
        for event in call_events(
            call, spec, users, tech_users[spec.tech] if spec.tech is not None else None
        )
    ]
    # Each event keeps the created_at set above (a default, not auto_now_add): it is hashed
    # into the chain, and events are never updated afterwards.
    events_append(events)
