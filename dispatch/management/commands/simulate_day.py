"""A simulated day: the baseline policy against ours on the same calls (in memory, no database)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from dispatch.selectors.planning import planning_rules, travel_provider
from dispatch.simulation import DURATION_SPREAD, Report, day_generate, day_simulate

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


def table(rows: list[tuple[int, Report]]) -> str:
    head = ["seed", *(title for title, _, _ in COLUMNS)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for seed, report in rows:
        cells = [str(seed), *(fmt.format(getattr(report, attr)) for _, attr, fmt in COLUMNS)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Simulate a day with two dispatch policies (baseline: free soonest, append; ours)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--techs", type=int, default=15)
        parser.add_argument("--calls", type=int, default=120)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--seeds", type=int, default=1, help="run seeds seed..seed+N-1")

    def handle(self, *args, techs: int, calls: int, seed: int, seeds: int, **options) -> None:
        if techs < 1 or calls < 1 or seeds < 1:
            raise CommandError("--techs, --calls and --seeds must be at least 1.")
        travel, rules = travel_provider(), planning_rules()
        rows = []
        for s in range(seed, seed + seeds):
            day = day_generate(techs=techs, calls=calls, seed=s)
            rows += [
                (s, day_simulate(day, policy, travel, rules)) for policy in ("baseline", "ours")
            ]
        low, high = DURATION_SPREAD
        self.stdout.write(
            f"{techs} technicians, {calls} calls; real duration = estimate x U({low}, {high}); "
            "travel: the product's model (settings TRAVEL_CIRCUITY, TRAVEL_SPEED_KMH); "
            "wait: from booking (or the booked window's start, if later) to arrival\n"
        )
        self.stdout.write(table(rows))
