"""A person's notifications (`/notifications/`) and settings (`/account/`)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from disputes import selectors
from disputes.exceptions import InvalidInput
from disputes.forms import ProfileForm
from disputes.models import Profile
from disputes.services.accounts import notifications_mark_read, profile_update


@login_required
def notification_list(request):
    page = Paginator(selectors.notification_list(user=request.user), 30).get_page(request.GET.get("page"))
    return render(request, "disputes/notification_list.html", {"page": page})


@login_required
@require_POST
def notification_read(request):
    notification_id = request.POST.get("notification")
    if notification_id is None:
        notifications_mark_read(user=request.user)
    elif notification_id.isdigit():
        notifications_mark_read(user=request.user, notification_id=int(notification_id))
    target = request.POST.get("next", "")
    return redirect(target if target.startswith("/cases/") else "disputes:notification-list")


@login_required
def account_settings(request):
    profile = Profile.objects.filter(user=request.user).first()
    form = ProfileForm(request.POST or None, initial={"time_zone": profile.time_zone if profile else ""})
    if request.method == "POST" and form.is_valid():
        try:
            profile_update(user=request.user, time_zone=form.cleaned_data["time_zone"])
        except InvalidInput as error:
            form.add_error("time_zone", error.message)
        else:
            messages.success(request, "Settings saved.")
            return redirect("disputes:account")
    return render(request, "disputes/account.html", {"form": form})
