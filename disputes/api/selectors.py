"""Reads only the API makes, on a case the caller already got through `disputes.selectors`."""

from django.db.models import QuerySet

from disputes.models import Case, Evidence


def case_history(*, case: Case) -> QuerySet:
    """Every saved change of the case, oldest first, with who made it."""
    return case.history.select_related("history_user").order_by("history_date", "history_id")


def evidence_list(*, case: Case) -> QuerySet[Evidence]:
    return case.evidence.select_related("uploaded_by").order_by("created_at", "pk")
