"""Plan a team's day (or every team's) with the solver and print the before/after table.

    python manage.py plan_day --day 2026-12-03 [--team 2] [--seconds 10] [--apply]

Without --apply nothing on the board changes; the plan is kept (see /board/plan/<id>/). --apply
applies it through the move service as the first manager (or --user).
"""

from __future__ import annotations

from datetime import date

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from common.errors import DispatchError
from dispatch.selectors.day_plans import FIGURE_WORDS
from dispatch.services.day_plans import plan_apply, plan_compute, plan_request


class Command(BaseCommand):
    help = "Plan a day with the solver; print before and after; --apply to apply it."

    def add_arguments(self, parser):
        parser.add_argument("--day", required=True, help="YYYY-MM-DD")
        parser.add_argument("--team", type=int, default=None, help="team id (default: every team)")
        parser.add_argument("--seconds", type=int, default=None, help="solver time limit, 1-120")
        parser.add_argument("--apply", action="store_true", help="apply the plan")
        parser.add_argument("--user", default=None, help="who applies it (default: a manager)")

    def handle(self, *args, **options):
        try:
            day = date.fromisoformat(options["day"])
        except ValueError:
            raise CommandError("--day must be a date like 2026-12-03") from None
        user = self._user(options["user"])
        try:
            with transaction.atomic():
                plan = plan_request(user=user, day=day, team_id=options["team"],
                                    seconds=options["seconds"], start=False)  # fmt: skip
            plan = plan_compute(plan.pk)
        except DispatchError as exc:
            raise CommandError(exc.message) from None
        if plan.status != "ready":
            raise CommandError(f"Plan #{plan.pk} {plan.status}: {plan.error}")
        self.stdout.write(f"Plan #{plan.pk} for {day} ({plan.team or 'every team'}), "
                          f"{plan.solver_seconds:.1f} s of search")  # fmt: skip
        self.stdout.write(f"{'':36} {'now':>10} {'planned':>10}")
        for key, label, _ in FIGURE_WORDS:
            self.stdout.write(f"{label:36} {plan.before[key]:>10} {plan.after[key]:>10}")
        self.stdout.write(f"{len(plan.changes)} calls change; {len(plan.unplanned)} unplanned")
        if options["apply"]:
            try:
                result = plan_apply(user=user, plan_id=plan.pk)
            except DispatchError as exc:
                raise CommandError(exc.message) from None
            self.stdout.write(f"Applied: {result['ripple']}")

    def _user(self, username):
        users = get_user_model().objects
        if username:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(f"No user {username!r}")
            return user
        user = users.filter(groups__name__in=["manager", "dispatcher"]).order_by("id").first()
        if user is None:
            raise CommandError("No manager or dispatcher to plan as; give --user")
        return user
