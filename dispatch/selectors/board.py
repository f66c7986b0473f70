"""The board's reads: columns of cards for a day and a team, the poll's fingerprint, alerts.

Every card is read as a plain row (no model instances); a board read has a fixed number of
queries whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

from django.db import connection, connections
from django.db.models import BooleanField, Exists, ExpressionWrapper, F, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from common import clock, roles
from common.db_router import read_alias
from common.errors import NotAllowed
from dispatch.models import BoardVersion, CallEvent, Escalation, ServiceCall

# What a board card shows; everything else stays in the database. The board reads these as
# plain rows (no model instances, no prefetch machinery: a third of a 600-card board's time).
from dispatch.selectors import _skill_codes, calls_visible_to, technicians_visible_to
from dispatch.selectors.search import CallFilters
from technicians.models import Team, Technician

CARD_FIELDS = (
    "id",
    "summary",
    "priority",
    "status",
    "technician_id",
    "position",
    "window_start",
    "deadline",
    "eta",
    "slack_minutes",
    "risk",
    "p_late",
    "overtime",
    "reschedule_count",
    "version",
    "duration_minutes",
    "created_at",
    "customer__name",
    # The timeline draws a call from its planned start to its planned finish (the stored plan).
    "planned_start",
    "planned_finish",
    "eta_computed_at",
    # An unassigned call waits from its day's start at the earliest (selectors/waiting.py).
    "scheduled_day",
)


@dataclass(slots=True)
class BoardCard:
    """One call as its board card shows it (fields in CARD_FIELDS order, then the extras)."""

    id: int
    summary: str
    priority: str
    status: str
    technician_id: int | None
    position: int | None
    window_start: datetime | None
    deadline: datetime | None
    eta: datetime | None
    slack_minutes: float | None
    risk: str
    p_late: float | None
    overtime: bool
    reschedule_count: int
    version: int
    duration_minutes: int
    created_at: datetime | None
    customer_name: str
    planned_start: datetime | None
    planned_finish: datetime | None
    eta_computed_at: datetime | None
    scheduled_day: date
    escalated: bool
    skill_codes: list[str]
    # False when the board's filters leave this card out (it stays in its column, unseen).
    matches: bool = True

    @property
    def pk(self) -> int:
        return self.id


# What a board alert shows (templates/dispatch/partials/_columns.html).
# The actor's names too: a notice names the person ("claimed by Tom Reed"), never the login.
ALERT_FIELDS = (
    "kind",
    "created_at",
    "payload",
    "call_id",
    "call__summary",
    "actor__username",
    "actor__first_name",
    "actor__last_name",
    "actor__technician__name",
)
# Risk and escalation notices stay on the board this long.
ALERT_MINUTES = 30
# What the dispatcher is told about on the board: risk, escalations, technicians' hand-offs
# (an offer that lapsed unanswered above all) and claims.
BOARD_ALERT_KINDS = [
    "risk_raised",
    "escalated",
    "handoff_offered",
    "handoff_accepted",
    "handoff_declined",
    "handoff_expired",
    "claimed",
    "ask_sent",
    "ask_answered",
]


@dataclass
class BoardColumn:
    technician: Technician
    calls: list[BoardCard] = field(default_factory=list)

    @property
    def booked_minutes(self) -> int:
        return sum(c.duration_minutes for c in self.calls)

    @property
    def shift_minutes(self) -> int:
        start, end = self.technician.shift_start, self.technician.shift_end
        return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)

    @property
    def overtime(self) -> bool:
        return any(c.overtime for c in self.calls)

    @property
    def dom_id(self) -> str:
        return f"col-{self.technician.pk}"


@dataclass
class Board:
    day: date
    team: Team | None
    teams: list[Team]
    unassigned: list[BoardCard]
    columns: list[BoardColumn]

    @cached_property
    def calls_prefix(self) -> str:
        # One reverse() per board instead of three per card (600 cards: ~0.2 s of rendering).
        return reverse("pages:call-page", args=[0]).removesuffix("0/")

    @property
    def skill_codes(self) -> set[str]:
        """Every skill a call on this board needs (the board's skill filter offers these)."""
        cards = [*self.unassigned, *(c for column in self.columns for c in column.calls)]
        return {code for card in cards for code in card.skill_codes or ()}

    @property
    def call_count(self) -> int:
        return len(self.unassigned) + sum(len(c.calls) for c in self.columns)


def card_annotations() -> dict:
    """What a card shows beyond the call's own columns, for reads of whole calls (a move's):
    `card_of` then needs no query of its own."""
    return {
        "customer_name": F("customer__name"),
        "escalated": Exists(Escalation.objects.filter(call=OuterRef("pk"), status="open")),
    }


def card_of(call: ServiceCall) -> BoardCard:
    """A call read with `card_annotations` and its skill codes, as its board card."""
    own = {name: getattr(call, name) for name in CARD_FIELDS if name != "customer__name"}
    return BoardCard(
        **own,
        customer_name=call.customer_name,
        escalated=call.escalated,
        skill_codes=call.skill_codes,
    )


def board_of_queues(
    *, day: date, team: Team | None, queues: dict[Technician, list[ServiceCall]]
) -> Board:
    """The columns of queues already read (a move's, after it): no query. A column of another
    team than the board's is left out, as `board_get` would."""
    techs = sorted(
        (t for t in queues if team is None or t.team_id == team.pk), key=lambda t: (t.name, t.pk)
    )
    columns = [BoardColumn(t, [card_of(c) for c in queues[t]]) for t in techs]
    return Board(day=day, team=team, teams=[], unassigned=[], columns=columns)


def _unassigned_order(call: BoardCard) -> tuple:
    # Emergencies first, then by deadline (none last), then oldest booking first.
    deadline = call.deadline.timestamp() if call.deadline else float("inf")
    return (call.priority != "emergency", deadline, call.created_at or datetime.min, call.pk)


def board_team_default(user) -> Team | None:
    tech = roles.technician_of(user)
    if tech is not None:
        return tech.team
    return user.teams.order_by("name").first() or Team.objects.order_by("name").first()


def board_door(user) -> None:
    """Who may see a board (its page, its poll, its stream): office staff and technicians."""
    if not roles.is_office(user) and roles.technician_of(user) is None:
        raise NotAllowed("Your account has no role on the board.")


def board_get(
    *,
    user,
    day: date,
    team: Team | None,
    technician_ids: list[int] | None = None,
    include_unassigned: bool = True,
    filters: CallFilters | None = None,
    now: datetime | None = None,
) -> Board:
    """The day's board for one team in a fixed number of queries, whatever its size.

    `technician_ids` and `include_unassigned` narrow it to the columns a move changed; `filters`
    mark the cards they leave out (read in the same query), which stay in their columns.
    """
    board_door(user)
    # A column shows the technician's own fields only: no skills, team or user rows.
    techs = technicians_visible_to(user).select_related(None).prefetch_related(None)
    if team is not None:
        techs = techs.filter(team=team)
    if technician_ids is not None:
        techs = techs.filter(pk__in=technician_ids)
    techs = list(techs)
    columns = {t.pk: BoardColumn(t) for t in techs}
    where = Q(technician__in=list(columns))
    if include_unassigned:
        # A team's unassigned calls are those its technicians last had, and those nobody had.
        unassigned = Q(technician__isnull=True)
        if team is not None:
            unassigned &= Q(team=team) | Q(team__isnull=True)
        where |= unassigned
    rows = (
        calls_visible_to(user)
        .filter(scheduled_day=day, status__in=ServiceCall.OPEN_STATUSES)
        .filter(where)
        .select_related(None)
        .prefetch_related(None)
        # An escalated call stands out on the board, and a card lists its skills: both read
        # in the same query as the call (no query per card, no prefetch query).
        .annotate(
            escalated=Exists(Escalation.objects.filter(call=OuterRef("pk"), status="open")),
            skill_codes=_skill_codes(),
        )
        .order_by("position", "id")
    )
    extra = ["escalated", "skill_codes"]
    if filters is not None and filters.active:
        matches = ExpressionWrapper(filters.q(now or clock.now()), output_field=BooleanField())
        rows, extra = rows.annotate(matches=matches), [*extra, "matches"]
    rows = rows.values_list(*CARD_FIELDS, *extra)
    unassigned = []
    for row in rows:
        card = BoardCard(*row)
        if card.technician_id is None:
            unassigned.append(card)
        else:
            columns[card.technician_id].calls.append(card)
    return Board(
        day=day,
        team=team,
        # Only the full page's team picker lists the teams; a move's changed columns do not.
        teams=list(Team.objects.order_by("name")) if technician_ids is None else [],
        unassigned=sorted(unassigned, key=_unassigned_order),
        columns=list(columns.values()),
    )


# The board's version row (kept by PostgreSQL triggers, migration 0012) and the background
# heartbeat in one round trip of one row, whatever the size of the company: a poll runs this
# every 500 ms per open board.
_BOARD_VERSION_SQL = """
    SELECT {version},
           (SELECT last_success_at FROM dispatch_heartbeat WHERE name = %s ORDER BY id LIMIT 1),
           {team_exists}
"""
# The day's row and the team's roster row (technicians' columns, any day: day 0001-01-01); both
# only grow, so their sum changes whenever either does.
_ONE_TEAM = (
    "(SELECT sum(version) FROM dispatch_boardversion"
    " WHERE team_id = %s AND day IN (%s, DATE '0001-01-01'))"
)
_EVERY_TEAM = (
    "(SELECT sum(version) FROM dispatch_boardversion WHERE day IN (%s, DATE '0001-01-01'))"
)

# SQLite (`make run`) has no triggers: the same board's aggregates, scanned each poll.
_BOARD_SCAN_SQL = """
    SELECT c.n, c.u, c.e, t.n, t.u,
           (SELECT last_success_at FROM dispatch_heartbeat WHERE name = %s ORDER BY id LIMIT 1),
           {team_exists}
    FROM
      (SELECT count(sc.id) AS n, max(sc.updated_at) AS u, max(sc.eta_computed_at) AS e
         FROM dispatch_servicecall sc
         LEFT JOIN technicians_technician tt ON tt.id = sc.technician_id
        WHERE sc.scheduled_day = %s {call_team}) AS c,
      (SELECT count(id) AS n, max(updated_at) AS u FROM technicians_technician {tech_team}) AS t
"""
_TEAM_EXISTS = "EXISTS (SELECT 1 FROM technicians_team WHERE id = %s)"


def _fingerprint_sql(day: date, team_id: int | None, heartbeat: str) -> tuple[str, list]:
    if connection.vendor == "postgresql":
        if team_id is None:
            return _BOARD_VERSION_SQL.format(version=_EVERY_TEAM, team_exists="TRUE"), [
                day,
                heartbeat,
            ]
        sql = _BOARD_VERSION_SQL.format(version=_ONE_TEAM, team_exists=_TEAM_EXISTS)
        return sql, [team_id, day, heartbeat, team_id]
    if team_id is None:
        sql = _BOARD_SCAN_SQL.format(team_exists="TRUE", call_team="", tech_team="")
        return sql, [heartbeat, day]
    sql = _BOARD_SCAN_SQL.format(
        team_exists=_TEAM_EXISTS,
        call_team="AND (tt.team_id = %s OR sc.technician_id IS NULL)",
        tech_team="WHERE team_id = %s",
    )
    return sql, [heartbeat, team_id, day, team_id, team_id]


@dataclass(frozen=True)
class BoardFingerprint:
    version: str
    # When the heartbeat's job last succeeded (None: never).
    last_success: datetime | None
    # False when the team id asked for names no team.
    team_exists: bool


def board_fingerprint(*, day: date, team_id: int | None, heartbeat: str) -> BoardFingerprint:
    """A cheap fingerprint of everything a board shows (team_id None: every team), when the
    `heartbeat` job last succeeded, and whether the team exists: one aggregate query, no rows,
    so a poll need not look the team up first."""
    sql, params = _fingerprint_sql(day, team_id, heartbeat)
    # The board's other reads' database: the replica when the request may use one.
    with connections[read_alias(BoardVersion)].cursor() as cursor:
        cursor.execute(sql, params)
        *parts, last_success, team_exists = cursor.fetchone()
    version = "-".join(str(p.timestamp() if isinstance(p, datetime) else (p or 0)) for p in parts)
    return BoardFingerprint(version, _aware(last_success), team_exists)


def _aware(value) -> datetime | None:
    """A raw cursor's timestamp as an aware datetime: PostgreSQL gives one already; SQLite
    (`make run`) gives naive UTC text."""
    if value is None or isinstance(value, datetime) and timezone.is_aware(value):
        return value
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return timezone.make_aware(moment, UTC) if timezone.is_naive(moment) else moment


def board_version(*, day: date, team: Team | None) -> str:
    """The board's fingerprint alone."""
    return board_fingerprint(day=day, team_id=team.pk if team else None, heartbeat="").version


def board_alerts(*, user, day: date, team: Team | None, now: datetime, limit: int = 5):
    """The newest risk and escalation events of the board's calls: the dispatcher's notices."""
    calls = calls_visible_to(user).filter(scheduled_day=day)
    if team is not None:
        unassigned = Q(technician__isnull=True) & (Q(team=team) | Q(team__isnull=True))
        calls = calls.filter(Q(technician__team=team) | unassigned)
    # Newest first with EXISTS, so PostgreSQL walks the recent events and stops at `limit`
    # (an IN over the day's calls sorted every recent event: 4 ms after a recompute's alerts).
    of_this_board = Q(
        Exists(calls.select_related(None).prefetch_related(None).filter(pk=OuterRef("call"))),
        kind__in=BOARD_ALERT_KINDS,
    )
    # The answer to my own question reaches me on whichever board I am looking at.
    answers_to_me = Q(kind="ask_answered", payload__asked_by=getattr(user, "pk", None))
    return list(
        CallEvent.objects.filter(
            of_this_board | answers_to_me,
            created_at__gte=now - timedelta(minutes=ALERT_MINUTES),
        )
        .select_related("call", "actor", "actor__technician")
        .only(*ALERT_FIELDS)
        .order_by("-created_at", "-id")[:limit]
    )
