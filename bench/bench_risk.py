"""Risk as a probability against the slack rule, on the simulated day (issue 18 figures).

For each seed: a warm-up day (seed + 1000) is played first, its finished jobs teaching the
durations; then the day itself, still learning as it goes. Both are played by the
policy chosen. At every event each waiting call with a deadline is looked at by both rules.

    python bench/bench_risk.py [--seeds 5] [--techs 15] [--calls 120]

Policy "ours" by default (the product's own dispatching; its rescues are triggered by the slack
screen, as in the product's what-if pricing), "baseline" on request.

Brier: mean squared error of the forecast against "arrived late" over every look (the slack rule's
forecast is its flag, 0 or 1; "calibrated" gives each of its labels the late share it had).
Warning: median minutes from the first flag to the deadline, over the calls that were late.
False alarms: calls flagged at some look that arrived on time.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dispatch.planning.rules import Rules  # noqa: E402
from dispatch.planning.travel import great_circle  # noqa: E402
from dispatch.simulation import day_generate  # noqa: E402
from dispatch.simulation_odds import (  # noqa: E402
    History,
    WatchedDay,
    default_learned,
    looks_with_outcome,
    reliability,
    rule_figures,
)

TRAVEL = great_circle(1.3, 40.0)  # the product's defaults (TRAVEL_CIRCUITY, TRAVEL_SPEED_KMH)


def one_seed(seed: int, techs: int, calls: int, rules: Rules, policy: str):
    history, defaults = History(), default_learned()
    warm = day_generate(techs=techs, calls=calls, seed=seed + 1000)
    WatchedDay(warm, TRAVEL, history, defaults=defaults, rules=rules, policy=policy).run()
    day = day_generate(techs=techs, calls=calls, seed=seed)
    sim = WatchedDay(day, TRAVEL, history, defaults=defaults, rules=rules, policy=policy)
    out = sim.run()
    return day, out, sim


def calibrated_slack_brier(day, out, looks) -> float:
    late = {c.id: out.arrival[c.id] > c.deadline for c in day.calls}
    by_label = defaultdict(list)
    for look in looks:
        by_label[look.slack_rule].append(late[look.call_id])
    rate = {label: sum(ys) / len(ys) for label, ys in by_label.items()}
    return statistics.fmean((rate[look.slack_rule] - late[look.call_id]) ** 2 for look in looks)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--techs", type=int, default=15)
    parser.add_argument("--calls", type=int, default=120)
    parser.add_argument("--policy", default="ours", choices=("ours", "baseline"))
    args = parser.parse_args()
    rules = Rules()
    print(
        f"{args.techs} technicians, {args.calls} calls, policy {args.policy}; slack rule: at risk "
        f"under {rules.risk_margin / 60:g} min; probability rule: at risk above "
        f"p_late {rules.p_at_risk:g}\n"
    )
    print(
        "| seed | rule | Brier | Brier, plan on time | late calls | warned "
        "| median warning (min) | false alarms |"
    )
    print("|---|---|---|---|---|---|---|---|")
    pairs, totals = [], defaultdict(list)
    for seed in range(1, args.seeds + 1):
        day, out, sim = one_seed(seed, args.techs, args.calls, rules, args.policy)
        pairs += looks_with_outcome(day, out, sim.looks)
        for rule, name in (("slack_rule", "slack"), ("probability_rule", "p_late")):
            f = rule_figures(day, out, sim.looks, rule)
            totals[name].append(f)
            print(
                f"| {seed} | {name} | {f.brier:.3f} | {f.brier_open:.3f} | {f.missed} | "
                f"{f.warned} | {f.warning_minutes:.0f} | {f.false_alarms} of {f.flagged} flagged |"
            )
        totals["calibrated"].append(calibrated_slack_brier(day, out, sim.looks))
    for name in ("slack", "p_late"):
        fs = totals[name]
        print(
            f"| all | {name} | {statistics.fmean(f.brier for f in fs):.3f} | "
            f"{statistics.fmean(f.brier_open for f in fs):.3f} | "
            f"{sum(f.missed for f in fs)} | {sum(f.warned for f in fs)} | "
            f"{statistics.median(f.warning_minutes for f in fs):.0f} | "
            f"{sum(f.false_alarms for f in fs)} of {sum(f.flagged for f in fs)} flagged |"
        )
    print(
        f"\nslack rule with each label's observed late share as its forecast: Brier "
        f"{statistics.fmean(totals['calibrated']):.3f}\n"
    )
    print("| predicted P(late) | looks | mean predicted | observed late |")
    print("|---|---|---|---|")
    for decile, n, predicted, observed in reliability(pairs):
        print(f"| {decile} | {n} | {predicted:.2f} | {observed:.2f} |")


if __name__ == "__main__":
    main()
