"""The desk's own routes, plus the baselines the benchmarks measure against.

`/bench/baseline/?rows=N&bytes=B` renders N rows of one table through the template engine, in
a page padded to B bytes (the size of the page it stands beside), with no logic: no sign-in, no
permissions, no joins, no forms. `/bench/baseline.json` is the same as JSON. Each is what a page
of the same size costs on the same server, so ours over it is what the desk's logic costs.
"""

from django.http import HttpResponse, JsonResponse
from django.template import engines
from django.urls import include, path

from disputes.models import Case

PAGE = engines["django"].from_string(
    """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Baseline</title></head>
<body><main><table>
{% for case in cases %}<tr><td>{{ case.pk }}</td><td>{{ case.state }}</td><td>{{ case.reason }}</td><td>{{ case.amount_claimed }} {{ case.currency }}</td><td>{{ case.filed_at|date:"j M Y, H:i" }}</td><td>{{ case.updated_at|date:"j M Y, H:i" }}</td></tr>
{% endfor %}</table></main></body></html>"""
)
COLUMNS = ["pk", "state", "reason", "amount_claimed", "currency", "filed_at", "updated_at"]


def _ask(request) -> tuple[int, int]:
    rows = min(int(request.GET.get("rows", "25") or 25), 200)
    size = min(int(request.GET.get("bytes", "0") or 0), 1_000_000)
    return rows, size


def baseline(request):
    rows, size = _ask(request)
    cases = list(Case.objects.order_by("-pk").values(*COLUMNS)[:rows])
    html = PAGE.render({"cases": cases})
    return HttpResponse(html + "<!--" + "x" * max(size - len(html.encode()) - 7, 0) + "-->")


def baseline_json(request):
    rows, size = _ask(request)
    data = {"next": None, "results": list(Case.objects.order_by("-pk").values(*COLUMNS)[:rows])}
    body = JsonResponse(data).content
    data["padding"] = "x" * max(size - len(body) - len(',"padding":""'), 0)
    return JsonResponse(data)


urlpatterns = [
    path("bench/baseline/", baseline),
    path("bench/baseline.json", baseline_json),
    path("", include("marketplace_support.urls")),
]
