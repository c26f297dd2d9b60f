"""The desk's own routes, plus the baselines the benchmarks measure against.

`/bench/baseline/?rows=N` renders N rows of one table with no logic: no sign-in, no
permissions, no joins. It is what a page of the same size costs on the same server.
"""

from django.http import HttpResponse, JsonResponse
from django.urls import include, path
from django.utils.html import escape

from disputes.models import Case


def baseline(request):
    rows = min(int(request.GET.get("rows", "25") or 25), 200)
    cells = "".join(
        f"<tr><td>{Case.REFERENCE_PREFIX}{pk:06d}</td><td>{escape(state)}</td><td>{filed_at:%Y-%m-%d}</td></tr>"
        for pk, state, filed_at in Case.objects.order_by("-pk").values_list("pk", "state", "filed_at")[:rows]
    )
    return HttpResponse(f"<!doctype html><title>Baseline</title><table>{cells}</table>")


def baseline_json(request):
    rows = min(int(request.GET.get("rows", "25") or 25), 200)
    data = list(Case.objects.order_by("-pk").values("pk", "state", "filed_at")[:rows])
    return JsonResponse({"results": data})


urlpatterns = [
    path("bench/baseline/", baseline),
    path("bench/baseline.json", baseline_json),
    path("", include("marketplace_support.urls")),
]
