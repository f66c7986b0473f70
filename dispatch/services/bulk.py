"""Writing many rows' fields at once.

Django's `bulk_update` builds a CASE WHEN per field and row; at fleet scale building that SQL
costs ten times what PostgreSQL needs to run it (see bench/bench_recompute.py). On PostgreSQL we
send one `UPDATE ... FROM (VALUES ...)` per batch instead; other databases (the SQLite demo)
keep `bulk_update`.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models

BATCH_SIZE = 500


def rows_update(model: type[models.Model], objs: Sequence[models.Model], fields: list[str]) -> int:
    """Write `fields` of every object (matched by primary key); returns rows sent."""
    if not objs:
        return 0
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, fields, batch_size=BATCH_SIZE)
        return len(objs)
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    for start in range(0, len(objs), BATCH_SIZE):
        _update_batch(meta.db_table, columns, objs[start : start + BATCH_SIZE])
    return len(objs)


def _update_batch(table: str, columns: list[models.Field], objs: Sequence[models.Model]) -> None:
    quote = connection.ops.quote_name
    # Casts on every placeholder: VALUES alone would guess NULL columns as text.
    cell = "(" + ", ".join(f"%s::{f.db_type(connection)}" for f in columns) + ")"
    names = ", ".join(quote(f.column) for f in columns)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns[1:])
    pk = quote(columns[0].column)
    sql = (
        f"UPDATE {quote(table)} AS t SET {assignments} "  # noqa: S608 - names from model metadata
        f"FROM (VALUES {', '.join([cell] * len(objs))}) AS v({names}) WHERE t.{pk} = v.{pk}"
    )
    params = [
        f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objs for f in columns
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
