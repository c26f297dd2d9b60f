"""What the API's case tests share."""

from disputes.models import Case


def url(case: Case, tail: str = "") -> str:
    return f"/api/v1/cases/{case.reference}/{tail}"


def reload(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)
