"""The board's version per team and day, kept by triggers; calls scoped to a team; the queue's
duplicate index dropped (the unique (technician, day, position) constraint's index serves it)."""

import django.db.models.deletion
from django.db import migrations, models

# Statement-level triggers with transition tables: one upsert per statement (a recompute's
# 500-row UPDATE bumps each board once), rows taken in (team, day) order so two writers never
# deadlock on them. A call with no team yet shows on every team's board, so it bumps them all.
BUMP_FUNCTION = """
CREATE OR REPLACE FUNCTION dispatch_board_bump(teams bigint[], days date[]) RETURNS void
LANGUAGE sql AS $$
    INSERT INTO dispatch_boardversion (team_id, day, version)
    SELECT DISTINCT coalesce(p.team, t.id) AS team_id, p.day, 1
      FROM unnest(teams, days) AS p(team, day)
      JOIN technicians_team t ON t.id = p.team OR p.team IS NULL
     WHERE p.day IS NOT NULL
     ORDER BY 1, 2
    ON CONFLICT (team_id, day) DO UPDATE SET version = dispatch_boardversion.version + 1
$$;

CREATE OR REPLACE FUNCTION dispatch_call_team() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.technician_id IS NOT NULL THEN
        NEW.team_id := (SELECT team_id FROM technicians_technician WHERE id = NEW.technician_id);
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION dispatch_calls_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE teams bigint[]; days date[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(team_id), array_agg(scheduled_day) INTO teams, days FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(team_id), array_agg(scheduled_day) INTO teams, days FROM old_rows;
    ELSE
        SELECT array_agg(team_id), array_agg(scheduled_day) INTO teams, days FROM (
            SELECT team_id, scheduled_day FROM new_rows
            UNION SELECT team_id, scheduled_day FROM old_rows) AS c;
    END IF;
    PERFORM dispatch_board_bump(teams, days);
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION dispatch_escalations_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE teams bigint[]; days date[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(c.team_id), array_agg(c.scheduled_day) INTO teams, days
          FROM old_rows e JOIN dispatch_servicecall c ON c.id = e.call_id;
    ELSE
        SELECT array_agg(c.team_id), array_agg(c.scheduled_day) INTO teams, days
          FROM new_rows e JOIN dispatch_servicecall c ON c.id = e.call_id;
    END IF;
    PERFORM dispatch_board_bump(teams, days);
    RETURN NULL;
END $$;

-- A technician's column (name, shift, status) is on every board of their team, whatever the
-- day: one roster row per team (day 0001-01-01) that every poll of the team adds in.
CREATE OR REPLACE FUNCTION dispatch_technicians_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE teams bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(team_id) INTO teams FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(team_id) INTO teams FROM old_rows;
    ELSE
        SELECT array_agg(team_id) INTO teams FROM (
            SELECT team_id FROM new_rows UNION SELECT team_id FROM old_rows) AS t;
    END IF;
    INSERT INTO dispatch_boardversion (team_id, day, version)
    SELECT DISTINCT team, DATE '0001-01-01', 1 FROM unnest(teams) AS team
     WHERE team IS NOT NULL ORDER BY 1
    ON CONFLICT (team_id, day) DO UPDATE SET version = dispatch_boardversion.version + 1;
    RETURN NULL;
END $$;
"""

TRIGGERS = """
UPDATE dispatch_servicecall c SET team_id = t.team_id
  FROM technicians_technician t WHERE t.id = c.technician_id;

CREATE TRIGGER dispatch_call_team BEFORE INSERT OR UPDATE OF technician_id
    ON dispatch_servicecall FOR EACH ROW EXECUTE FUNCTION dispatch_call_team();
CREATE TRIGGER dispatch_calls_inserted AFTER INSERT ON dispatch_servicecall
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION dispatch_calls_changed();
CREATE TRIGGER dispatch_calls_updated AFTER UPDATE ON dispatch_servicecall
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dispatch_calls_changed();
CREATE TRIGGER dispatch_calls_deleted AFTER DELETE ON dispatch_servicecall
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION dispatch_calls_changed();
CREATE TRIGGER dispatch_escalations_inserted AFTER INSERT ON dispatch_escalation
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dispatch_escalations_changed();
CREATE TRIGGER dispatch_escalations_updated AFTER UPDATE ON dispatch_escalation
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dispatch_escalations_changed();
CREATE TRIGGER dispatch_escalations_deleted AFTER DELETE ON dispatch_escalation
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dispatch_escalations_changed();
CREATE TRIGGER dispatch_technicians_inserted AFTER INSERT ON technicians_technician
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dispatch_technicians_changed();
CREATE TRIGGER dispatch_technicians_updated AFTER UPDATE ON technicians_technician
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dispatch_technicians_changed();
CREATE TRIGGER dispatch_technicians_deleted AFTER DELETE ON technicians_technician
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION dispatch_technicians_changed();
"""

UNDO = """
DROP TRIGGER IF EXISTS dispatch_call_team ON dispatch_servicecall;
DROP TRIGGER IF EXISTS dispatch_calls_inserted ON dispatch_servicecall;
DROP TRIGGER IF EXISTS dispatch_calls_updated ON dispatch_servicecall;
DROP TRIGGER IF EXISTS dispatch_calls_deleted ON dispatch_servicecall;
DROP TRIGGER IF EXISTS dispatch_escalations_inserted ON dispatch_escalation;
DROP TRIGGER IF EXISTS dispatch_escalations_updated ON dispatch_escalation;
DROP TRIGGER IF EXISTS dispatch_escalations_deleted ON dispatch_escalation;
DROP TRIGGER IF EXISTS dispatch_technicians_inserted ON technicians_technician;
DROP TRIGGER IF EXISTS dispatch_technicians_updated ON technicians_technician;
DROP TRIGGER IF EXISTS dispatch_technicians_deleted ON technicians_technician;
DROP FUNCTION IF EXISTS dispatch_calls_changed, dispatch_escalations_changed,
    dispatch_technicians_changed, dispatch_call_team, dispatch_board_bump;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0011_append_only_events"),
        ("technicians", "0006_on_call_shifts"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="servicecall", name="call_queue"),
        migrations.AddField(
            model_name="servicecall",
            name="team",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="technicians.team",
            ),
        ),
        migrations.CreateModel(
            name="BoardVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField()),
                ("version", models.BigIntegerField(default=0)),
                (
                    "team",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="technicians.team",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("team", "day"), name="board_version_team_day")
                ]
            },
        ),
        # Functions, then the backfill (before the triggers), then the triggers.
        migrations.RunPython(
            _on_postgresql(BUMP_FUNCTION + TRIGGERS), _on_postgresql(UNDO), elidable=False
        ),
    ]
