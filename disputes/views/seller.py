"""The seller's resolution center (`/seller/`)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from disputes import selectors
from disputes.presenters import case_status


@login_required
def resolution_center(request):
    bucket = request.GET.get("show")
    bucket = bucket if bucket in selectors.SELLER_BUCKETS else None
    cases = list(selectors.case_list_as_seller(user=request.user, bucket=bucket))
    counts = selectors.seller_case_counts(user=request.user)
    tabs = [(key, label, counts[key]) for key, (label, _) in selectors.SELLER_BUCKETS.items()]
    return render(
        request,
        "disputes/resolution_center.html",
        {
            "rows": [(case, case_status(case, request.user)) for case in cases],
            "tabs": tabs,
            "bucket": bucket,
            "total": sum(counts.values()),
        },
    )
