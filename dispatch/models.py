from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from common import clock
from customers.models import Customer, Site
from technicians.models import Skill, Technician


def new_tracking_token() -> str:
    return secrets.token_urlsafe(16)


class ServiceCall(models.Model):
    class Priority(models.TextChoices):
        EMERGENCY = "emergency", "Emergency"
        HIGH = "high", "High"
        NORMAL = "normal", "Normal"
        LOW = "low", "Low"

    class Status(models.TextChoices):
        NEW = "new", "New"
        ASSIGNED = "assigned", "Assigned"
        EN_ROUTE = "en_route", "En route"
        ON_SITE = "on_site", "On site"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Risk(models.TextChoices):
        OK = "ok", "OK"
        AT_RISK = "at_risk", "At risk"
        LATE = "late", "Late"

    # Issue 19: a 1 MB description was accepted. Every input (API and booking page) bounds it.
    MAX_DESCRIPTION_CHARS = 5000
    DESCRIPTION_TOO_LONG = (
        f"A description can be at most {MAX_DESCRIPTION_CHARS:,} characters; shorten it "
        "(the details a technician needs fit in that)."
    )

    OPEN_STATUSES = ("new", "assigned", "en_route", "on_site")
    QUEUED_STATUSES = ("assigned", "en_route", "on_site")
    PRIORITY_RANK = {"emergency": 0, "high": 1, "normal": 2, "low": 3}

    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="calls")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="calls")
    summary = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.NORMAL)
    skills = models.ManyToManyField(Skill, blank=True, related_name="calls")
    duration_minutes = models.IntegerField()
    window_start = models.DateTimeField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    scheduled_day = models.DateField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    technician = models.ForeignKey(
        Technician, on_delete=models.PROTECT, null=True, blank=True, related_name="calls"
    )
    # 0-based place in the technician's queue for the day; null when not queued.
    position = models.IntegerField(null=True, blank=True)

    # Computed by the ETA engine; never edited by hand.
    eta = models.DateTimeField(null=True, blank=True)
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_finish = models.DateTimeField(null=True, blank=True)
    slack_minutes = models.FloatField(null=True, blank=True)
    risk = models.CharField(max_length=8, choices=Risk.choices, blank=True, default="")
    overtime = models.BooleanField(default=False)
    eta_computed_at = models.DateTimeField(null=True, blank=True)
    # When the current at-risk/late spell began (null while on time): the clock that
    # auto-escalation reads for "at risk with no action for N minutes".
    risk_since = models.DateTimeField(null=True, blank=True)
    # The chance of arriving after the deadline, and the 10th, 80th and 90th percentile arrival
    # (issue 18): the card's "72% on time", the tracking page's window.
    p_late = models.FloatField(null=True, blank=True)
    eta_p10 = models.DateTimeField(null=True, blank=True)
    eta_p80 = models.DateTimeField(null=True, blank=True)
    eta_p90 = models.DateTimeField(null=True, blank=True)
    # p_late as first computed for the queued call: the forecast the calibration is judged by.
    p_late_planned = models.FloatField(null=True, blank=True)

    promised_eta = models.DateTimeField(null=True, blank=True)
    reschedule_count = models.IntegerField(default=0)
    # Optimistic concurrency: every change bumps it; a client's stale version is refused.
    version = models.IntegerField(default=1)

    en_route_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # What the job really took, as the technician reported it: the basis for better estimates.
    actual_minutes = models.IntegerField(null=True, blank=True)
    # The drive as planned when the technician set out: what the real drive is learned against.
    planned_travel_minutes = models.FloatField(null=True, blank=True)
    # What kind of job it was booked as: durations are learned per category.
    category = models.ForeignKey(
        "dispatch.CallCategory", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    tracking_token = models.CharField(max_length=32, unique=True, default=new_tracking_token)
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The services' clock (common/clock.py), so a demo's shifted time dates new rows too.
    created_at = models.DateTimeField(default=clock.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    # The team whose board shows the call while unassigned: its technician's, kept by a
    # trigger (migration 0012) whenever it is assigned; none yet: every team's board.
    team = models.ForeignKey(
        "technicians.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["scheduled_day", "technician_id", "position", "id"]
        indexes = [
            models.Index(fields=["scheduled_day", "status"], name="call_day_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0),
                name="call_duration_positive",
                violation_error_message="Duration must be more than zero minutes.",
            ),
            models.CheckConstraint(
                condition=Q(deadline__isnull=True)
                | Q(window_start__isnull=True)
                | Q(deadline__gte=F("window_start")),
                name="call_deadline_not_before_window",
                violation_error_message="The deadline cannot be before the window start.",
            ),
            models.CheckConstraint(
                condition=Q(position__isnull=True) | Q(position__gte=0, technician__isnull=False),
                name="call_position_needs_technician",
                violation_error_message="A queue position needs a technician and is 0 or more.",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["new", "assigned", "en_route", "on_site", "completed", "cancelled"]
                ),
                name="call_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=["emergency", "high", "normal", "low"]),
                name="call_priority_valid",
            ),
            models.CheckConstraint(
                condition=Q(status="new", technician__isnull=True) | ~Q(status="new"),
                name="call_new_is_unassigned",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["assigned", "en_route", "on_site"])
                | Q(technician__isnull=False, position__isnull=False),
                name="call_queued_has_place",
                violation_error_message="An assigned call needs a technician and a position.",
            ),
            # Deferred so a reorder can pass through duplicate positions inside one transaction.
            # Its index is also the queue's (technician, day, position) index: a second one on
            # the same columns made every move maintain both.
            models.UniqueConstraint(
                fields=["technician", "scheduled_day", "position"],
                name="call_unique_queue_position",
                deferrable=models.Deferrable.DEFERRED,
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.summary}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class CallEvent(models.Model):
    """The audit log: one row per state change, never edited, chained per call by hashes
    (dispatch/audit.py). Rows are appended by dispatch.services.events only; the database
    refuses UPDATE and DELETE (migration 0011)."""

    class Kind(models.TextChoices):
        BOOKED = "booked"
        EDITED = "edited"
        CANCELLED = "cancelled"
        ASSIGNED = "assigned"
        MOVED = "moved"
        REORDERED = "reordered"
        STATUS = "status"
        ETA_CHANGED = "eta_changed"
        RISK_RAISED = "risk_raised"
        RISK_CLEARED = "risk_cleared"
        ESCALATED = "escalated"
        RESOLVED = "resolved"
        CONCESSION = "concession"
        CUSTOMER_NOTIFIED = "customer_notified"
        # A new day or window for the call (a manager accepting a missed deadline).
        RESCHEDULED = "rescheduled"
        TECH_NOTIFIED = "tech_notified"
        # A technician's own day: offers of a call to a teammate, and claims of unassigned calls.
        HANDOFF_OFFERED = "handoff_offered"
        HANDOFF_ACCEPTED = "handoff_accepted"
        HANDOFF_DECLINED = "handoff_declined"
        HANDOFF_EXPIRED = "handoff_expired"
        CLAIMED = "claimed"
        # The dispatcher asks a working technician before taking their call; their answer.
        ASK_SENT = "ask_sent"
        ASK_ANSWERED = "ask_answered"

    call = models.ForeignKey(ServiceCall, on_delete=models.PROTECT, related_name="events")
    # Null actor means the system (a beat task, an automatic rule).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False, db_index=True)
    # The hash of the call's previous event ("" for its first) and this event's own hash.
    prev_hash = models.CharField(max_length=64, blank=True, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["call", "created_at"], name="event_call_time")]
        constraints = [
            # Two events claiming the same predecessor would fork the chain.
            models.UniqueConstraint(fields=["call", "prev_hash"], name="event_chain_linear"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on call {self.call_id}"

    def save(self, *args, **kwargs):
        # Saving would skip the chain (new rows) or rewrite history (old ones).
        raise TypeError("call events are appended with dispatch.services.events, never saved")


class Escalation(models.Model):
    class Reason(models.TextChoices):
        DEADLINE_RISK = "deadline_risk", "Deadline at risk"
        COMPLAINT = "complaint", "Customer complaint"
        SAFETY = "safety", "Safety"
        AGING = "aging", "Waiting too long"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"

    class Strategy(models.TextChoices):
        RESCUE = "rescue", "Rescue"
        TRIAGE = "triage", "Triage"
        ACCEPT = "accept", "Accept"

    call = models.ForeignKey(ServiceCall, on_delete=models.PROTECT, related_name="escalations")
    # Null means raised by a system rule.
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=16, choices=Reason.choices)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    strategy = models.CharField(max_length=10, choices=Strategy.choices, blank=True)
    resolution = models.TextField(blank=True)
    concession_labor_hours = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True
    )
    concession_discount_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    # The call as the manager left it: the automatic rules re-raise it only when something is
    # new since (a worse risk, another deadline), never for what the manager already decided.
    risk_at_resolution = models.CharField(max_length=8, blank=True)
    deadline_at_resolution = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One open escalation per call: rules and people never pile up duplicates.
            models.UniqueConstraint(
                fields=["call"], condition=Q(status="open"), name="escalation_one_open_per_call"
            ),
            models.CheckConstraint(
                condition=Q(concession_discount_percent__isnull=True)
                | Q(concession_discount_percent__gt=0, concession_discount_percent__lte=100),
                name="escalation_discount_range",
            ),
            models.CheckConstraint(
                condition=Q(concession_labor_hours__isnull=True) | Q(concession_labor_hours__gt=0),
                name="escalation_labor_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} on call {self.call_id}"


class Heartbeat(models.Model):
    """The last time a background job finished, one row per job name."""

    name = models.CharField(max_length=50, unique=True)
    last_success_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} at {self.last_success_at:%H:%M:%S}"


class CallCategory(models.Model):
    """What kind of job a booking is: its usual length and the skills it needs.

    A table rather than a setting: skills are rows too, and a manager adds or retunes a
    category in the admin without a deploy.
    """

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    default_duration_minutes = models.PositiveIntegerField()
    skills = models.ManyToManyField(Skill, blank=True, related_name="categories")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "call categories"
        constraints = [
            models.CheckConstraint(
                condition=Q(default_duration_minutes__gt=0, default_duration_minutes__lte=1440),
                name="category_duration_range",
                violation_error_message="A category's duration is 1 to 1440 minutes.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class BacklogAlert(models.Model):
    """A team's unassigned backlog outgrew its remaining capacity today (or too many calls are
    projected late). One open alert per team; raising and clearing are both kept: the row is the
    record, its `raised_*` figures frozen, its `latest_*` figures refreshed by each check."""

    team = models.ForeignKey("technicians.Team", on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    reason = models.TextField()
    raised_at = models.DateTimeField()
    raised_figures = models.JSONField(default=dict)
    latest_figures = models.JSONField(default=dict)
    # Off-shift technicians of the team who could be called in: [{"id", "name", "why"}].
    call_in = models.JSONField(default=list, blank=True)
    checked_at = models.DateTimeField()
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_figures = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team"],
                condition=Q(cleared_at__isnull=True),
                name="backlog_alert_one_open_per_team",
            )
        ]

    def __str__(self) -> str:
        state = "open" if self.cleared_at is None else "cleared"
        return f"Backlog alert ({state}) for team {self.team_id} on {self.day}"


# Kept in modules of their own (this one is long enough); Django finds them through these imports.
from dispatch.board_version_models import BoardVersion  # noqa: E402, F401
from dispatch.booking_models import TurnedAwayCall  # noqa: E402, F401
from dispatch.day_plan_models import DayPlan  # noqa: E402, F401
from dispatch.duration_models import DurationModel  # noqa: E402, F401
