from __future__ import annotations

from django.conf import settings
from django.db import models

from customers.models import lat_lng_checks


class Team(models.Model):
    """A dispatcher's patch: a region and the technicians who work it."""

    name = models.CharField(max_length=100, unique=True)
    region = models.CharField(max_length=100, blank=True)
    # Office staff (CSRs, dispatchers, managers) who work this team's board by default.
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="teams")
    # Prepare a day plan when a call turns late or an emergency arrives (never applied without a
    # person: the dispatcher is told a proposal is waiting).
    replan_on_events = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Technician(models.Model):
    class Status(models.TextChoices):
        OFF = "off", "Off"
        AVAILABLE = "available", "Available"
        EN_ROUTE = "en_route", "En route"
        ON_SITE = "on_site", "On site"
        BREAK = "break", "On break"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="technician"
    )
    name = models.CharField(max_length=150)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="technicians")
    skills = models.ManyToManyField(Skill, blank=True, related_name="technicians")
    home_lat = models.FloatField()
    home_lng = models.FloatField()
    # Local wall-clock times (settings.TIME_ZONE) of a normal working day.
    shift_start = models.TimeField()
    shift_end = models.TimeField()
    last_lat = models.FloatField(null=True, blank=True)
    last_lng = models.FloatField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFF)
    # Lets an open board notice a status or location change without re-reading the roster.
    updated_at = models.DateTimeField(auto_now=True)
    # Set (to the time of the latest change) when this queue needs a background recompute;
    # cleared by the recompute that saw that change. The minute-by-minute run heals whatever a
    # lost task left, so correctness never depends on the broker redelivering anything.
    needs_recompute_since = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(
                fields=["needs_recompute_since"],
                condition=models.Q(needs_recompute_since__isnull=False),
                name="technician_needs_recompute",
            ),
        ]
        constraints = [
            *lat_lng_checks("technician", "home_lat", "home_lng"),
            *lat_lng_checks("technician", "last_lat", "last_lng"),
            models.CheckConstraint(
                condition=models.Q(shift_end__gt=models.F("shift_start")),
                name="technician_shift_ends_after_start",
                violation_error_message="A shift must end after it starts.",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["off", "available", "en_route", "on_site", "break"]),
                name="technician_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class HandoffOffer(models.Model):
    """A technician offers one of their calls to a teammate, who accepts or declines it.

    An open offer lapses at `expires_at` (settings.HANDOFF_OFFER_MINUTES after it was made) and
    the dispatcher is told. Accepting moves the call through the move service; the offer only
    records who asked whom and what came of it.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        WITHDRAWN = "withdrawn", "Withdrawn"

    call = models.ForeignKey(
        "dispatch.ServiceCall", on_delete=models.PROTECT, related_name="handoff_offers"
    )
    from_technician = models.ForeignKey(
        Technician, on_delete=models.PROTECT, related_name="handoffs_offered"
    )
    to_technician = models.ForeignKey(
        Technician, on_delete=models.PROTECT, related_name="handoffs_received"
    )
    # The call's version when offered: accepting moves exactly what was offered, nothing newer.
    call_version = models.IntegerField()
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    response_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="open"),
                name="handoff_open_expiry",
            ),
        ]
        constraints = [
            # One open offer per call: a teammate never accepts a call already promised to another.
            models.UniqueConstraint(
                fields=["call"], condition=models.Q(status="open"), name="handoff_one_open_per_call"
            ),
            models.CheckConstraint(
                condition=~models.Q(from_technician=models.F("to_technician")),
                name="handoff_to_someone_else",
                violation_error_message="A call can be offered only to someone else.",
            ),
            models.CheckConstraint(
                condition=models.Q(
                    status__in=["open", "accepted", "declined", "expired", "withdrawn"]
                ),
                name="handoff_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Call {self.call_id} offered to {self.to_technician_id} ({self.status})"


class TechAsk(models.Model):
    """The dispatcher asks a technician who is under way before changing their day: before
    taking the call they are on ("Can you still make #62 by 14:00?") or changing the call they
    go to next ("Can you do #70 next, before #62?"). Answered on the phone with one tap.

    The answer informs, it moves nothing: when they agree the move goes ahead without more ado;
    while the answer is not yet due (`answer_by`, settings.TECH_ASK_MINUTES after asking) the
    change waits; otherwise the dispatcher decides (taking a call under way needs a reason). An
    ask is about the call at `call_version`: once the call changes, it no longer stands.
    """

    class About(models.TextChoices):
        WORKING = "working", "The call they are on"
        NEXT_CALL = "next_call", "Their next call"

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an answer"
        AGREED = "agreed", "Agreed"
        KEPT = "kept", "Keeps it as it is"
        # The call changed (moved, started, finished, given back) before an answer came.
        OVERTAKEN = "overtaken", "Overtaken"

    call = models.ForeignKey("dispatch.ServiceCall", on_delete=models.PROTECT, related_name="asks")
    technician = models.ForeignKey(Technician, on_delete=models.PROTECT, related_name="asks")
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    about = models.CharField(max_length=10, choices=About.choices, default=About.WORKING)
    # Where the dispatcher means to put the call (None: back to the unassigned list).
    to_technician = models.ForeignKey(
        Technician, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    position = models.PositiveIntegerField(null=True, blank=True)
    question = models.CharField(max_length=300)
    call_version = models.IntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    answer_note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    answer_by = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["technician", "status"], name="ask_technician_status")]
        constraints = [
            # One question at a time per call: nobody is asked twice about the same change.
            models.UniqueConstraint(
                fields=["call"], condition=models.Q(status="open"), name="ask_one_open_per_call"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["open", "agreed", "kept", "overtaken"]),
                name="ask_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Ask {self.technician_id} about call {self.call_id} ({self.status})"

    @property
    def options(self) -> tuple:
        """The question's two buttons: (answer, status, words)."""
        return ANSWERS[self.about]

    @property
    def answer_words(self) -> str:
        """The answer as the technician tapped it."""
        return ANSWER_WORDS.get((self.about, self.status), self.get_status_display())


# The two buttons of each kind of question, as (answer, status, words): the first keeps things
# as they are for the call they are on, the second lets the change go ahead.
ANSWERS = {
    TechAsk.About.WORKING: (
        ("yes", "kept", "Yes, I'll make it"),
        ("hand_over", "agreed", "No, hand it over"),
    ),
    TechAsk.About.NEXT_CALL: (
        ("yes", "agreed", "Yes, go ahead"),
        ("no", "kept", "No, keep my order"),
    ),
}
ANSWER_WORDS = {
    (about, status): words for about, options in ANSWERS.items() for _, status, words in options
}


class OnCallShift(models.Model):
    """A span of the rota: this technician is on call for their team (nights, weekends).

    An emergency inside the span may be sent to them whatever their shift says (the one rule in
    dispatch/planning/eligibility.py), the call-out shown as a cost. Managers add and remove
    spans on `/rota/`; a removed span stays as the record of who removed it and when.
    """

    technician = models.ForeignKey(
        Technician, on_delete=models.PROTECT, related_name="on_call_shifts"
    )
    # The technician's team when the span was added: the team whose nights it covers.
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="on_call_shifts")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)
    # Who added it (None for the demo's seeded rota) and who removed it.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField()
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [
            models.Index(fields=["team", "starts_at"], name="on_call_team_start"),
            models.Index(fields=["technician", "starts_at"], name="on_call_tech_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="on_call_ends_after_start",
                violation_error_message="An on-call span must end after it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.technician_id} on call {self.starts_at:%Y-%m-%d %H:%M}-{self.ends_at:%H:%M}"
