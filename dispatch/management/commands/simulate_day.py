"""A simulated day: the baseline policy, ours (insertion), ours (the day planner re-planning at
events) and the clairvoyant bound, on the same calls (in memory, no database)."""

from __future__ import annotations

import statistics
from dataclasses import fields, replace

from django.core.management.base import BaseCommand, CommandError

from dispatch.selectors.planning import planning_rules, travel_provider
from dispatch.simulation import MIN, Report, day_generate, day_simulate
from dispatch.simulation_durations import words as duration_words
from dispatch.simulation_planner import PLANNED, day_simulate_planned

POLICIES = ("baseline", "ours", "planner", "bound")
LABELS = {"ours": "ours", "planner": "ours (planner)", "bound": "bound"}
COLUMNS = (
    ("policy", "policy", "{}"),
    ("on time", "on_time_rate", "{:.1%}"),
    ("mean late (min)", "mean_lateness_min", "{:.1f}"),
    ("worst late (min)", "worst_lateness_min", "{:.1f}"),
    ("mean wait (min)", "mean_wait_min", "{:.1f}"),
    ("worst wait (min)", "worst_wait_min", "{:.1f}"),
    ("worst from booking (min)", "worst_wait_from_booking_min", "{:.1f}"),
    ("reschedules", "reschedules", "{}"),
    ("overtime (min)", "overtime_min", "{:.0f}"),
    ("rescues", "rescues", "{}"),
)


def table(rows: list[tuple[object, Report]]) -> str:
    head = ["seed", *(title for title, _, _ in COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for seed, report in rows:
        cells = [str(seed), *(fmt.format(getattr(report, attr)) for _, attr, fmt in COLUMNS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def mean(reports: list[Report]) -> Report:
    """Every figure averaged over the seeds (the worst ones too: the mean of each day's worst)."""
    values = {
        f.name: round(statistics.fmean(getattr(r, f.name) for r in reports), 3)
        for f in fields(Report)
        if f.name != "policy"
    }
    return replace(reports[0], **values)


class Command(BaseCommand):
    help = "Simulate a day with each dispatch policy (baseline, ours, ours (planner), bound)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--techs", type=int, default=15)
        parser.add_argument("--calls", type=int, default=120)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--seeds", type=int, default=1, help="run seeds seed..seed+N-1")
        parser.add_argument(
            "--policies", default=",".join(POLICIES), help=f"comma-separated, of {POLICIES}"
        )
        parser.add_argument(
            "--plan-seconds", type=float, default=0.3, help="solver time per re-plan (planner)"
        )
        parser.add_argument(
            "--replan-every",
            type=float,
            default=15.0,
            help="minutes: the planner re-plans on a job finishing or a call turning late at "
            "most this often (every booking always re-plans)",
        )
        parser.add_argument(
            "--bound-seconds", type=float, default=10.0, help="solver time for the bound's plan"
        )

    def handle(self, *args, techs: int, calls: int, seed: int, seeds: int, **options) -> None:
        if techs < 1 or calls < 1 or seeds < 1:
            raise CommandError("--techs, --calls and --seeds must be at least 1.")
        policies = [p.strip() for p in options["policies"].split(",") if p.strip()]
        if not policies or set(policies) - set(POLICIES):
            raise CommandError(f"--policies: choose among {', '.join(POLICIES)}.")
        if options["plan_seconds"] <= 0 or options["bound_seconds"] <= 0:
            raise CommandError("--plan-seconds and --bound-seconds must be positive.")
        travel, rules = travel_provider(), planning_rules()
        seconds = {"planner": options["plan_seconds"], "bound": options["bound_seconds"]}
        every = options["replan_every"] * MIN
        rows, by_policy = [], {p: [] for p in policies}
        for s in range(seed, seed + seeds):
            day = day_generate(techs=techs, calls=calls, seed=s)
            for policy in policies:
                if policy in PLANNED:
                    report = day_simulate_planned(
                        day, policy, travel, rules, seconds=seconds[policy], replan_every=every
                    )
                else:
                    report = day_simulate(day, policy, travel, rules)
                report = replace(report, policy=LABELS.get(policy, policy))
                rows.append((s, report))
                by_policy[policy].append(report)
        if seeds > 1:
            rows += [("mean", mean(reports)) for reports in by_policy.values()]
        self.stdout.write(
            f"{techs} technicians, {calls} calls; real duration = estimate x {duration_words()}; "
            "travel: the product's model (settings TRAVEL_CIRCUITY, TRAVEL_SPEED_KMH); "
            "wait: from booking (or the booked window's start, if later) to arrival\n"
            "ours: insertion (candidates, send-now, rescue); ours (planner): plan_day + PyVRP, "
            f"{options['plan_seconds']:g} s per re-plan, at every booking and at most every "
            f"{options['replan_every']:g} min on a job finishing or a call turning late; "
            f"bound: clairvoyant (every call and real duration known at the start), planned once "
            f"in {options['bound_seconds']:g} s\n"
        )
        self.stdout.write(table(rows))
