from django.utils import timezone
from django.views.generic import DetailView, ListView

from policies.selectors import policy_published_get, policy_published_list


class PolicyListView(ListView):
    template_name = "policies/policy_list.html"
    context_object_name = "policies"

    def get_queryset(self):
        return policy_published_list(at=timezone.now())


class PolicyDetailView(DetailView):
    template_name = "policies/policy_detail.html"
    context_object_name = "policy"

    def get_object(self, queryset=None):
        return policy_published_get(slug=self.kwargs["slug"], at=timezone.now())
