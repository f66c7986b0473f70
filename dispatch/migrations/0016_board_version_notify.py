"""The board's version announces itself: every bump of a `dispatch_boardversion` row (the
triggers of 0012) also sends `NOTIFY board_version, '<team>:<day>'`. PostgreSQL delivers a
notification only when its transaction commits (never for one rolled back), once per distinct
payload per transaction, which is what an open board's stream wants (dispatch/live.py)."""

from django.db import migrations

NOTIFY = """
CREATE OR REPLACE FUNCTION dispatch_board_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('board_version', NEW.team_id::text || ':' || to_char(NEW.day, 'YYYY-MM-DD'));
    RETURN NULL;
END $$;

CREATE TRIGGER dispatch_board_notify AFTER INSERT OR UPDATE ON dispatch_boardversion
    FOR EACH ROW EXECUTE FUNCTION dispatch_board_notify();
"""

UNDO = """
DROP TRIGGER IF EXISTS dispatch_board_notify ON dispatch_boardversion;
DROP FUNCTION IF EXISTS dispatch_board_notify;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0014_tech_asks")]

    operations = [
        migrations.RunPython(_on_postgresql(NOTIFY), _on_postgresql(UNDO), elidable=False),
    ]
