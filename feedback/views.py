"""Feedback pages: leave or change trade feedback, a seller's public page, and the reports (agents)."""

import csv

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from disputes.models import Order
from disputes.permissions import is_agent_user
from disputes.views._forms import form_ids, submit_once
from feedback import reports, selectors, services
from feedback.charts import bar_chart
from feedback.forms import ReportFilterForm, TradeFeedbackForm


def _order_for(user, external_id) -> Order:
    """An order the user bought or sold; anyone else's is not found."""
    return get_object_or_404(
        Order.objects.filter(Q(buyer=user) | Q(seller=user)).select_related("buyer", "seller"),
        external_id=external_id,
    )


@login_required
def order_feedback(request, external_id):
    order = _order_for(request.user, external_id)
    given = selectors.feedback_given(order=order, user=request.user)
    editable = given is not None and timezone.now() <= given.editable_until
    if request.method == "POST":
        form = TradeFeedbackForm(request.POST, auto_id=form_ids("feedback"))
        write = services.trade_feedback_edit if given else services.trade_feedback_leave
        if given and not editable:
            write = services.trade_feedback_leave  # refused as a second answer, with its message
        return submit_once(
            request,
            form,
            lambda: write(
                order=order,
                author=request.user,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            ),
            done="Feedback changed." if given else "Thank you: your feedback is recorded.",
            redirect_to=request.POST.get("back") if _safe(request.POST.get("back")) else request.path,
            on_error=lambda form: _render(request, order, given, form, status=400),
        )
    form = None
    if selectors.feedback_open_for(order) and (given is None or editable):
        initial = {"rating": given.rating, "comment": given.comment} if given else {}
        form = TradeFeedbackForm(auto_id=form_ids("feedback"), initial=initial)
    return _render(request, order, given, form)


def _safe(url) -> bool:
    return bool(url) and url.startswith("/") and not url.startswith("//")


def _render(request, order, given, form, status=200):
    other = order.seller if order.buyer_id == request.user.pk else order.buyer
    return render(
        request,
        "feedback/order_feedback.html",
        {"order": order, "given": given, "form": form, "other": other},
        status=status,
    )


@login_required
def seller_page(request, username):
    seller = get_object_or_404(get_user_model(), username=username, is_active=True)
    now = timezone.now()
    return render(
        request,
        "feedback/seller.html",
        {
            "seller": seller,
            "score": selectors.feedback_scores(user_ids=[seller.pk], at=now)[seller.pk],
            "received": selectors.feedback_received_list(user=seller),
        },
    )


# Reports


def _agent_only(request):
    if not is_agent_user(request.user):
        raise PermissionDenied("Reports are for support agents and admins.")


def _filters(request) -> tuple[ReportFilterForm, reports.ReportFilters]:
    chosen = reports.default_filters(today=timezone.localdate())
    form = ReportFilterForm(request.GET or None, initial={"start": chosen.start, "end": chosen.end})
    if request.GET and form.is_valid():
        data = form.cleaned_data
        chosen = reports.ReportFilters(start=data["start"], end=data["end"], reason=data["reason"])
    return form, chosen


@login_required
def report_page(request):
    _agent_only(request)
    form, chosen = _filters(request)
    data = reports.report(chosen)
    weeks: dict = {}
    for row in data["weekly"]:
        weeks.setdefault(row["week"], {"week": row["week"], "total": 0, "by_reason": {}})
        weeks[row["week"]]["total"] += row["cases"]
        weeks[row["week"]]["by_reason"][row["reason"]] = row["cases"]
    reasons_seen = sorted({row["reason"] for row in data["weekly"]})
    week_rows = [
        {"week": w["week"], "total": w["total"], "cells": [w["by_reason"].get(r, 0) for r in reasons_seen]}
        for w in weeks.values()
    ]
    return render(
        request,
        "feedback/reports.html",
        {
            "form": form,
            "filters": chosen,
            "query": request.GET.urlencode(),
            "data": data,
            "week_rows": week_rows,
            "reason_columns": [reports.REASONS.get(r, r) for r in reasons_seen],
            "reasons": reports.REASONS,
            "paths": reports.PATHS,
            "weekly_chart": bar_chart([(f"{w['week']:%d %b}", w["total"]) for w in week_rows]),
            "satisfaction_chart": bar_chart(
                [(f"{row['week']:%d %b}", row["average"]) for row in data["satisfaction"]], maximum=5
            ),
        },
    )


CSV_TABLES = {
    "weekly": ("week", "reason", "cases"),
    "by_reason": ("group", "cases", "median_hours", "p90_hours"),
    "by_path": ("group", "cases", "median_hours", "p90_hours"),
    "compliance": ("who", "due", "met", "rate"),
    "satisfaction": ("week", "answers", "average"),
    "top_sellers": ("seller", "orders", "cases", "rate"),
    "without_agent": ("resolved", "without_agent", "rate"),
    "appeals": ("appealed", "decided", "overturned", "rate"),
}


@login_required
def report_csv(request, table):
    _agent_only(request)
    if table not in CSV_TABLES:
        raise Http404("No such table.")
    _, chosen = _filters(request)
    rows = reports.report_table(chosen, table)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{table}-{chosen.start}-{chosen.end}.csv"'
    writer = csv.writer(response)
    columns = CSV_TABLES[table]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return response
