"""The API's entry checks, from the predicates in `disputes.permissions`.

These say who may call an operation at all; which cases a user sees is the selectors' scope
(another user's case is a 404), and what they may do to one is the state machine's `permission=`
as the services check it (a 403).
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from disputes.permissions import is_service_account


class IsServiceAccount(BasePermission):
    """The marketplace's integration: only it writes orders."""

    message = "Only the marketplace's service account writes orders."

    def has_permission(self, request, view):
        return is_service_account(request.user)


class ServiceAccountWritesOrders(BasePermission):
    """Orders: everyone signed in reads (in their scope); only the service account writes."""

    message = IsServiceAccount.message

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or is_service_account(request.user)


class PeopleActOnCases(BasePermission):
    """Cases: the service account reads them all but never acts on one; people act through the
    services, which check their role on the case."""

    message = "The marketplace's service account reads cases; it does not act on them."

    def has_permission(self, request, view):
        return request.method in SAFE_METHODS or not is_service_account(request.user)
