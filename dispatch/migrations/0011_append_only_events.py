"""Call events become an append-only, hash-chained audit trail.

1. `prev_hash` and `hash` columns; existing rows are chained here (per call, in id order) with the
   same function the writer uses (dispatch/audit.py), so `audit_verify` passes right after.
2. UNIQUE (call, prev_hash): two events naming the same predecessor (a forked chain) fail.
3. On PostgreSQL, a row trigger refusing UPDATE and DELETE on the table, for every role,
   superusers and the app's own included. The one way through for DELETE is the
   transaction-local setting `dispatch.audit_wipe = 'on'`, which only the demo's wipe sets
   (dispatch/services/events.py explains why). TRUNCATE fires no row trigger and stays possible
   for the table owner: the test runner's flush and a deliberate reset use it. The GRANT-based
   hardening that also closes these doors is in docs/operations.md.
"""

from django.db import migrations, models

from dispatch.audit import GENESIS, event_hash

TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION dispatch_callevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('dispatch.audit_wipe', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'call events are append-only: % of event % refused', TG_OP, OLD.id
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'History is never rewritten; record a new event instead.';
END
$$;
CREATE TRIGGER dispatch_callevent_append_only
    BEFORE UPDATE OR DELETE ON dispatch_callevent
    FOR EACH ROW EXECUTE FUNCTION dispatch_callevent_append_only();
"""

DROP_TRIGGER_SQL = """
DROP TRIGGER IF EXISTS dispatch_callevent_append_only ON dispatch_callevent;
DROP FUNCTION IF EXISTS dispatch_callevent_append_only();
"""


def chain_existing_events(apps, schema_editor):
    CallEvent = apps.get_model("dispatch", "CallEvent")
    heads: dict[int, str] = {}
    batch = []
    for event in CallEvent.objects.order_by("call_id", "id").iterator(chunk_size=2000):
        event.prev_hash = heads.get(event.call_id, GENESIS)
        event.hash = event_hash(
            call_id=event.call_id,
            actor_id=event.actor_id,
            kind=event.kind,
            payload=event.payload,
            created_at=event.created_at,
            prev_hash=event.prev_hash,
        )
        heads[event.call_id] = event.hash
        batch.append(event)
        if len(batch) >= 2000:
            CallEvent.objects.bulk_update(batch, ["prev_hash", "hash"])
            batch = []
    CallEvent.objects.bulk_update(batch, ["prev_hash", "hash"])
    if schema_editor.connection.vendor == "postgresql":
        # Fire the deferred FK checks queued by the updates now, or the ALTER TABLEs below
        # fail with "pending trigger events".
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def trigger_create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":  # SQLite (the demo) has no plpgsql
        schema_editor.execute(TRIGGER_SQL, params=None)


def trigger_drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_TRIGGER_SQL, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0010_created_at_from_the_clock"),
    ]

    operations = [
        migrations.AddField(
            model_name="callevent",
            name="prev_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="callevent",
            name="hash",
            field=models.CharField(default="", editable=False, max_length=64),
            preserve_default=False,
        ),
        migrations.RunPython(chain_existing_events, migrations.RunPython.noop, elidable=False),
        migrations.AddConstraint(
            model_name="callevent",
            constraint=models.UniqueConstraint(
                fields=("call", "prev_hash"), name="event_chain_linear"
            ),
        ),
        migrations.RunPython(trigger_create, trigger_drop, elidable=False),
    ]
