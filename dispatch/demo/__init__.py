"""A believable Chicago-area service company for demos: teams, technicians, customers, one day.

``demo_build(seed=..., day=..., now=...)`` wipes the dispatch data (calls, events, escalations,
sites, customers, technicians, teams, skills and the demo logins) and builds it again, in one
transaction. Everything random comes from one ``random.Random(seed)``, so a seed, a day and a
"now" always give the same company and the same day.

The day is built around a reference time: ``now`` when the day is today, else 10:00 of that day.
Queues are planned with the same engine the product uses (``dispatch.selectors.planning``), and
deadlines are then set relative to those planned arrivals, so "a few already late" and "a few at
risk" hold whatever the hour: the stored ETAs are recomputed by ``etas_refresh_day`` at the end.
The later the hour, the more calls are already done and the shorter the queues (at least two
calls each), so an afternoon demo is not a board full of overtime.

Planning (no database) comes first, then writing:

- ``reference``: the company's size, regions, shifts, skills, names and office logins
- ``problems``: what customers call about, emergencies, and CSR notes
- ``plan``: the plan's plain dataclasses and company-time arithmetic
- ``company``: technicians, customers and their sites, placed in their regions
- ``calls``: one call drawn for a technician, and what has happened to it by now
- ``queues``: queue sizes, the emergency, and deadlines set from the planned arrivals
- ``day``: the day's calls in their fixed order of draws, and ``plan_demo``
- ``save``: the wipe, the logins, skills, teams, technicians, customers and sites
- ``history``: the calls and the events each would have
- ``build``: ``demo_build`` and the summary ``seed_demo`` prints

The names below are the package's public face (``seed_demo``, tests and benchmarks import them
from ``dispatch.demo``); the rest stays importable from its module.
"""

from __future__ import annotations

from dispatch.demo.build import DemoResult, demo_build, summary_lines
from dispatch.demo.day import plan_demo
from dispatch.demo.plan import DemoPlan
from dispatch.demo.reference import PASSWORD, TECHNICIAN_COUNT
from dispatch.demo.save import demo_usernames, wipe

__all__ = [
    "PASSWORD",
    "TECHNICIAN_COUNT",
    "DemoPlan",
    "DemoResult",
    "demo_build",
    "demo_usernames",
    "plan_demo",
    "summary_lines",
    "wipe",
]
