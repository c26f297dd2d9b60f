"""Keyset pages for the desk's long lists (the console queue, My cases, My orders, the resolution center).

A page starts after the last row of the previous one, named by an opaque cursor, so the database
reads one page from an index wherever the page is: no OFFSET that walks over every earlier row,
and no row skipped or shown twice when rows share a timestamp (the primary key breaks the tie).

A list is ordered in groups (e.g. the cases waiting on the buyer, then the others), each group by
one field and then the primary key, in one direction. The first page is one query in the whole
order; a later page reads the rest of its group and, when that runs short, the groups after it.
"""

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Q, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan, TupleLessThan


@dataclass(frozen=True)
class Keyset:
    """How a list is ordered: `groups` in turn (conditions that split the rows, one group per row),
    each ordered by `field` then the primary key (`descending` applies to both). `group_of` tells
    which group a fetched row is in; `ordering` is the whole order as `order_by` arguments."""

    field: str
    descending: bool
    groups: Sequence[Q]
    group_of: Callable[[object], int]
    ordering: Sequence


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    next_cursor: str | None  # None on the last page
    is_first: bool


class InvalidCursor(ValueError):
    pass


def encode_cursor(group: int, value, pk: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([group, value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, keyset: Keyset) -> tuple[int, datetime | None, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        group, value, pk = json.loads(raw)
        value = None if value is None else datetime.fromisoformat(value)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise InvalidCursor(cursor) from None
    if not (isinstance(group, int) and 0 <= group < len(keyset.groups) and isinstance(pk, int)):
        raise InvalidCursor(cursor)
    if value is not None and value.tzinfo is None:
        raise InvalidCursor(cursor)
    return group, value, pk


def _after(keyset: Keyset, value, pk: int):
    """Rows after (value, pk) in one group's order, as a row comparison: PostgreSQL starts its
    index scan there (other databases get the equivalent ANDs and ORs)."""
    beyond = TupleLessThan if keyset.descending else TupleGreaterThan
    if value is None:  # a group whose field is empty: the primary key alone orders it
        return Q(**{"pk__lt" if keyset.descending else "pk__gt": pk})
    return beyond(Tuple(F(keyset.field), F("pk")), (value, pk))


def _group_order(keyset: Keyset) -> list:
    if keyset.descending:
        return [F(keyset.field).desc(), "-pk"]
    return [F(keyset.field).asc(), "pk"]


def keyset_page(queryset: QuerySet, keyset: Keyset, *, cursor: str | None, size: int) -> KeysetPage:
    """The page of `queryset` after `cursor` (None: the first page). An invalid cursor raises
    InvalidCursor. One query for the first page, at most two for the others."""
    if not cursor:
        rows = list(queryset.order_by(*keyset.ordering)[: size + 1])
        return _page(keyset, rows, size, is_first=True)
    group, value, pk = decode_cursor(cursor, keyset)
    in_group = queryset.filter(keyset.groups[group], _after(keyset, value, pk)).order_by(*_group_order(keyset))
    rows = list(in_group[: size + 1])
    if len(rows) <= size and group + 1 < len(keyset.groups):
        later = Q()
        for condition in keyset.groups[:group + 1]:
            later &= ~condition
        rows += list(queryset.filter(later).order_by(*keyset.ordering)[: size + 1 - len(rows)])
    return _page(keyset, rows, size, is_first=False)


def keyset_page_or_first(queryset: QuerySet, keyset: Keyset, *, cursor: str | None, size: int) -> KeysetPage:
    """As keyset_page, but an unreadable cursor (an old or edited link) shows the first page."""
    try:
        return keyset_page(queryset, keyset, cursor=cursor, size=size)
    except InvalidCursor:
        return keyset_page(queryset, keyset, cursor=None, size=size)


def _page(keyset: Keyset, rows: list, size: int, *, is_first: bool) -> KeysetPage:
    if len(rows) <= size:
        return KeysetPage(rows, None, is_first)
    rows = rows[:size]
    last = rows[-1]
    return KeysetPage(rows, encode_cursor(keyset.group_of(last), getattr(last, keyset.field), last.pk), is_first)
