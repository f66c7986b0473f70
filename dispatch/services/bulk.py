"""Writing many rows' fields at once.

Django's `bulk_update` builds a CASE WHEN per field and row; at fleet scale building that SQL
costs ten times what PostgreSQL needs to run it (see bench/bench_recompute.py). On PostgreSQL we
send one `UPDATE ... FROM json_to_recordset(...)` per batch instead (the rows as one JSON
parameter); other databases (the SQLite demo) keep `bulk_update`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import date, datetime, time
from decimal import Decimal

from django.db import connection, models

BATCH_SIZE = 500


def rows_update(
    model: type[models.Model],
    fields: list[str],
    rows: Sequence[tuple],
    *,
    flagged: Sequence[str] = (),
    added: Sequence[str] = (),
) -> int:
    """Write `fields` for each row `(pk, *values)`; values are plain Python (aware datetimes,
    numbers, strings, booleans, None). Returns the number of rows sent.

    With `flagged` or `added`, a row is `(pk, *values, *flagged values, flag, *added values)`:
    the `flagged` fields are written only where its flag is true (one row among many may change
    more, in the same statement, without rewriting the others' with what was read), and each
    `added` value is added to the stored one (a counter, never a lost update)."""
    if not rows:
        return 0
    if flagged or added:
        return _rows_update_flagged(model, list(fields), list(flagged), list(added), rows)
    if connection.vendor != "postgresql":
        objs = [model(pk=row[0], **dict(zip(fields, row[1:], strict=True))) for row in rows]
        model._default_manager.bulk_update(objs, fields, batch_size=BATCH_SIZE)
        return len(rows)
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    for start in range(0, len(rows), BATCH_SIZE):
        _update_batch(meta.db_table, columns, rows[start : start + BATCH_SIZE])
    return len(rows)


def _rows_update_flagged(model, fields, flagged, added, rows) -> int:
    n, m = len(fields), len(flagged)
    if connection.vendor != "postgresql":  # the SQLite demo: a statement per row
        for pk, *values in rows:
            changes = dict(zip(fields, values[:n], strict=True))
            if values[n + m]:
                changes |= dict(zip(flagged, values[n : n + m], strict=True))
            changes |= {f: models.F(f) + v for f, v in zip(added, values[n + m + 1 :], strict=True)}
            model._default_manager.filter(pk=pk).update(**changes)
        return len(rows)
    meta = model._meta
    plain = [meta.get_field(name) for name in fields]
    guarded = [meta.get_field(name) for name in flagged]
    counters = [meta.get_field(name) for name in added]
    flag = models.BooleanField(name="flag")
    flag.column = "flag__"
    columns = [meta.pk, *plain, *guarded, flag, *counters]
    quote = connection.ops.quote_name
    sets = [f"{quote(f.column)} = v.{quote(f.column)}" for f in plain]
    sets += [
        f"{quote(f.column)} = CASE WHEN v.flag__ THEN v.{quote(f.column)} "
        f"ELSE t.{quote(f.column)} END"
        for f in guarded
    ]
    sets += [f"{quote(f.column)} = t.{quote(f.column)} + v.{quote(f.column)}" for f in counters]
    for start in range(0, len(rows), BATCH_SIZE):
        _update_batch(meta.db_table, columns, rows[start : start + BATCH_SIZE], sets)
    return len(rows)


def _update_batch(
    table: str, columns: list[models.Field], rows: Sequence[tuple], sets: list[str] | None = None
) -> None:
    quote = connection.ops.quote_name
    names = [f.column for f in columns]
    # The rows travel as one JSON parameter read by json_to_recordset, typed by the column
    # list: psycopg2 adapting each of a queue's hundreds of values (ten timestamps a row) took
    # longer than PostgreSQL took to run the UPDATE.
    record = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in columns)
    assignments = ", ".join(
        sets or [f"{quote(f.column)} = v.{quote(f.column)}" for f in columns[1:]]
    )
    pk = quote(columns[0].column)
    # Table and column names come from model metadata (quoted), every value is a parameter.
    sql = (
        f"UPDATE {quote(table)} AS t SET {assignments} "  # noqa: S608  # nosec B608
        f"FROM json_to_recordset(%s) AS v({record}) WHERE t.{pk} = v.{pk}"
    )
    payload = json.dumps(
        [dict(zip(names, map(_json_value, row), strict=True)) for row in rows],
        allow_nan=False,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [payload])


def _json_value(value):
    """A value as json_to_recordset reads it back into its column's type: timestamps and days
    as ISO 8601 (with their offset), decimals as text, non-finite floats by name."""
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def objects_update(objs: Sequence[models.Model], fields: list[str]) -> int:
    """`rows_update` for model instances already holding the new values."""
    if not objs:
        return 0
    rows = [(obj.pk, *(getattr(obj, name) for name in fields)) for obj in objs]
    return rows_update(type(objs[0]), fields, rows)
