"""The seller's resolution center (`/seller/`)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from disputes import selectors
from disputes.pagination import keyset_page_or_first
from disputes.presenters import case_status
from feedback.selectors import feedback_scores, seller_performance

CASES_PER_PAGE = 25


@login_required
def resolution_center(request):
    bucket = request.GET.get("show")
    bucket = bucket if bucket in selectors.SELLER_BUCKETS else None
    cases = selectors.case_list_as_seller(user=request.user, bucket=bucket)
    page = keyset_page_or_first(
        cases, selectors.SELLER_CASES_KEYSET, cursor=request.GET.get("cursor"), size=CASES_PER_PAGE
    )
    counts = selectors.seller_case_counts(user=request.user)
    now = timezone.now()
    tabs = [(key, label, counts[key]) for key, (label, _) in selectors.SELLER_BUCKETS.items()]
    return render(
        request,
        "disputes/resolution_center.html",
        {
            "rows": [(case, case_status(case, request.user)) for case in page.rows],
            "page": page,
            "tabs": tabs,
            "bucket": bucket,
            "total": sum(counts.values()),
            "feedback_score": feedback_scores(user_ids=[request.user.pk], at=now)[request.user.pk],
            "performance": seller_performance(seller_ids=[request.user.pk], at=now)[request.user.pk],
        },
    )
