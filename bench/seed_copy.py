"""The COPY loader under bench/seed.py: rows gathered per table and written with binary COPY, the
next primary keys handed out in Python (COPY needs the ids to link rows), and the indexes and
constraints taken off before the load and put back (and so checked) after it.
"""

from datetime import datetime


class Table:
    """Rows for one model's table, in COPY order. Columns not supplied get the field's constant
    default (auto_now fields: the seed time), computed once."""

    def __init__(self, model, supplied: list[str], now: datetime):
        from django.db.models import JSONField
        from psycopg.types.json import Jsonb

        fields = {f.attname: f for f in model._meta.concrete_fields}
        rest = [f for name, f in fields.items() if name not in supplied]
        self.model = model
        self.name = model._meta.db_table
        self.columns = [fields[name].column for name in supplied] + [f.column for f in rest]
        constants = []
        for f in rest:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            elif f.blank and f.get_internal_type() in ("CharField", "TextField"):
                value = ""
            else:
                raise ValueError(f"{self.name}.{f.column} needs a value")
            constants.append(Jsonb(value) if isinstance(f, JSONField) and value is not None else value)
        self.constants = tuple(constants)
        self.rows: list[tuple] = []
        self.total = 0
        self.oids = None

    def add(self, *values) -> None:
        self.rows.append(values + self.constants)

    def flush(self, cursor) -> None:
        if not self.rows:
            return
        from psycopg import sql

        if self.oids is None:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
                [self.name],
            )
            types = dict(cursor.fetchall())
            self.oids = [types[column] for column in self.columns]
        # Binary: the server parses no text (timestamps above all), which is most of its work.
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(self.name), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )
        with cursor.copy(statement) as copy:
            copy.set_types(self.oids)
            for row in self.rows:
                copy.write_row(row)
        self.total += len(self.rows)
        self.rows = []


class Ids:
    """Next primary key per table, read once: COPY needs the ids to link rows."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.next: dict[str, int] = {}

    def take(self, table: str, column: str = "id") -> int:
        if table not in self.next:
            self.cursor.execute(f'SELECT coalesce(max("{column}"), 0) FROM "{table}"')
            self.next[table] = self.cursor.fetchone()[0] + 1
        value = self.next[table]
        self.next[table] += 1
        return value


def detach_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop the secondary indexes, unique and foreign-key constraints of `tables` and return
    the statements that put them back. Building an index once and checking a foreign key with
    one join after the load is many times faster than maintaining them row by row; putting them
    back checks every row loaded, so the models' constraints still hold."""
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
        FROM pg_constraint
        WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u')
        ORDER BY contype = 'f'
        """,
        [tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype <> 'f')
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    for table, name, _, _ in reversed(constraints):  # foreign keys first
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition, _ in constraints
    ]


def reset_sequences(cursor, tables) -> None:
    """Move each table's id sequence past the ids the load handed out."""
    for table in tables:
        if table.model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField"):
            pk = table.model._meta.pk.column
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk}'), "
                f"coalesce((SELECT max({pk}) FROM {table.name}), 1))"
            )
