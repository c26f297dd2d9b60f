"""The queue's query can be planned once: PostgreSQL prepares a statement it runs often and plans it
for any parameters, and such a plan must still read the queue in order from its partial index
(`case_queue_order`) rather than sort every case in the queue's states. At 1M cases a query that
could not was planned again on every request (~1.5 ms of its ~2.5).

`field__in_constants`, which makes that possible, writes its values into the SQL: it must give the
rows `__in` gives and refuse anything but a name."""

import re

import pytest
from django.db import connection

from disputes import lookups  # noqa: F401  (field__in_constants)
from disputes.models import Case
from disputes.selectors import queue as queue_selectors
from tests import factories
from tests.disputes.case_states import bring_to

pytestmark = pytest.mark.django_db

S = Case.State


def generic_plan(queryset) -> str:
    """EXPLAIN of the statement as PostgreSQL plans it once for any parameters."""
    sql, params = queryset.query.sql_with_params()
    numbered = iter(range(1, len(params) + 1))
    prepared = re.sub(r"%s", lambda _: f"${next(numbered)}", sql)
    arguments = ", ".join(["%s"] * len(params))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        # A handful of rows here: sequential scans and sorts would always win, so they are
        # priced out and the plan shows whether the index can serve at all.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"PREPARE queue_page AS {prepared}")
        try:
            execute = f"EXECUTE queue_page({arguments})" if params else "EXECUTE queue_page"
            cursor.execute("EXPLAIN " + connection.ops.compose_sql(execute, params))
            return "\n".join(line for (line,) in cursor.fetchall())
        finally:
            cursor.execute("DEALLOCATE queue_page")


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared plans")
def test_the_queue_planned_once_reads_its_partial_index_in_order(policy, agent):
    for _ in range(3):
        bring_to(S.ESCALATED, factories.case())
    queue = queue_selectors.queue_list(user=agent)

    plan = generic_plan(queue.annotate(**queue_selectors.QUEUE_ROW_VALUES)[: queue_selectors.QUEUE_LIMIT + 1])

    assert "case_queue_order" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's prepared plans")
def test_the_same_query_with_its_states_as_parameters_could_not(policy, agent):
    """What the test above guards against: the states sent as parameters."""
    queue = Case.objects.filter(state__in=queue_selectors.QUEUE_STATES).order_by(*queue_selectors.QUEUE_KEYSET.ordering)

    assert "case_queue_order" not in generic_plan(queue[:26])


def test_in_constants_finds_what_in_finds(policy):
    escalated = bring_to(S.ESCALATED, factories.case())
    appealed = bring_to(S.APPEALED, factories.case())
    factories.case()  # open

    states = [S.ESCALATED, S.APPEALED, S.ESCALATED]
    found = set(Case.objects.filter(state__in_constants=states).values_list("pk", flat=True))

    assert found == set(Case.objects.filter(state__in=states).values_list("pk", flat=True))
    assert found == {escalated.pk, appealed.pk}
    assert not Case.objects.filter(state__in_constants=[]).exists()


@pytest.mark.parametrize("value", ["open' OR 'a' = 'a", "Open", "open;", ""])
def test_in_constants_refuses_anything_but_a_name(value):
    with pytest.raises(ValueError, match="lowercase names"):
        list(Case.objects.filter(state__in_constants=["open", value]))
