"""Every route of the site, asked by every kind of person, about a record of theirs and one of others.

The routes are read from the URLconf (pages, API, admin, sign-in pages) and from the WebSocket
router; a route missing from MATRIX fails the test, and so does a row naming a route that is gone.

Rows: route (URL name, or the pattern when it has none; `*`, `{a,b}` and `{edited}` group the
admin's many model routes; a later row for the same route, method and object replaces an earlier
one, and a row naming the route itself replaces any group row), method, object: `own` is the
case/order/evidence/seller page of `buyer` and `seller`, `other` the same between `other_buyer`
and `other_seller` (so for buyer and seller it is a case between two other people), `cross` asks
for the other case's evidence under the own case's address, `-` a route without one.

Cells: an HTTP status; `login` a redirect to the sign-in page (the admin's for /admin/) that comes
back to the page; `form` a 200 that writes nothing (the form shown again with its errors, or the
admin's "cannot delete" page). A write that is refused (`login`, `form`, 4xx) must leave every
record as it was. Each cell runs in a transaction rolled back after it, so cells never see each
other's writes. On a WS row, `accept` is a socket that opens and answers, a number is the close
code it is refused with before any data frame, `refuse` a handshake refused outright.

Pages are asked with the person's session, /api/ with their API token. `service` is the
marketplace's integration ("Marketplace integrations" group): it uses the API only, so a session
of it counts for nothing on the pages and sockets (they answer as to someone signed out).
"""

import fnmatch
import re
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.test import Client
from django.urls import URLResolver, get_resolver
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from rest_framework.authtoken.models import TokenProxy
from rest_framework.test import APIClient
from zeal import zeal_context, zeal_ignore

from disputes.models import Case, Notification, Order
from marketplace_support.asgi import application
from marketplace_support.routing import websocket_urlpatterns
from tests.security.conftest import ROLES, build_world, png

MATRIX = """
route                                      method object anonymous buyer  other_buyer seller other_seller agent  senior_agent admin  service
# Sign-in pages: open to everyone
login                                      GET    -      200       200    200         200    200          200    200          200    200
login                                      POST   -      302       302    302         302    302          302    302          302    302
logout                                     GET    -      405       405    405         405    405          405    405          405    405
logout                                     POST   -      200       200    200         200    200          200    200          200    200
password_change                            GET    -      login     200    200         200    200          200    200          200    login
password_change                            POST   -      login     302    302         302    302          302    302          302    login
password_change_done                       GET    -      login     200    200         200    200          200    200          200    login
password_reset                             GET    -      200       200    200         200    200          200    200          200    200
password_reset                             POST   -      302       302    302         302    302          302    302          302    302
password_reset_done                        GET    -      200       200    200         200    200          200    200          200    200
password_reset_confirm                     GET    -      302       302    302         302    302          302    302          302    302
password_reset_confirm                     POST   -      302       302    302         302    302          302    302          302    302
password_reset_complete                    GET    -      200       200    200         200    200          200    200          200    200

# The published policies: public
policies:list                              GET    -      200       200    200         200    200          200    200          200    200
policies:detail                            GET    -      200       200    200         200    200          200    200          200    200

# Reports (agents), trade feedback (the order's two sides), a seller's page (anyone signed in)
feedback:reports                           GET    -      login     403    403         403    403          200    200          200    login
feedback:report-csv                        GET    -      login     403    403         403    403          200    200          200    login
feedback:order-feedback                    GET    own    login     200    404         200    404          404    404          404    login
feedback:order-feedback                    GET    other  login     404    200         404    200          404    404          404    login
feedback:order-feedback                    POST   own    login     302    404         302    404          404    404          404    login
feedback:order-feedback                    POST   other  login     404    302         404    302          404    404          404    login
feedback:seller                            GET    own    login     200    200         200    200          200    200          200    login
feedback:seller                            GET    other  login     200    200         200    200          200    200          200    login

# The portal and the case page: a case that is not yours is a 404 (the integration reads every case, through the API)
disputes:home                              GET    -      login     200    200         200    200          200    200          200    login
disputes:order-list                        GET    -      login     200    200         200    200          200    200          200    login
disputes:case-list                         GET    -      login     200    200         200    200          200    200          200    login
disputes:case-file                         GET    -      login     200    200         200    200          200    200          200    login
disputes:case-file                         POST   -      login     302    form        form   form         form   form         form   login
disputes:case-detail                       GET    own    login     200    404         200    404          200    200          200    login
disputes:case-detail                       GET    other  login     404    200         404    200          200    200          200    login
disputes:case-action                       GET    own    login     405    405         405    405          405    405          405    login
disputes:case-action                       GET    other  login     405    405         405    405          405    405          405    login
disputes:case-action                       POST   own    login     403    404         302    404          403    403          403    login
disputes:case-action                       POST   other  login     404    403         404    302          403    403          403    login
disputes:message-create                    GET    own    login     405    405         405    405          405    405          405    login
disputes:message-create                    GET    other  login     405    405         405    405          405    405          405    login
disputes:message-create                    POST   own    login     302    404         302    404          302    302          302    login
disputes:message-create                    POST   other  login     404    302         404    302          302    302          302    login
disputes:evidence-create                   GET    own    login     405    405         405    405          405    405          405    login
disputes:evidence-create                   GET    other  login     405    405         405    405          405    405          405    login
disputes:evidence-create                   POST   own    login     302    404         302    404          302    302          302    login
disputes:evidence-create                   POST   other  login     404    302         404    302          302    302          302    login
disputes:evidence-file                     GET    own    login     200    404         200    404          200    200          200    login
disputes:evidence-file                     GET    other  login     404    200         404    200          200    200          200    login
disputes:evidence-file                     GET    cross  login     404    404         404    404          404    404          404    login
disputes:return-shipped                    GET    own    login     405    405         405    405          405    405          405    login
disputes:return-shipped                    GET    other  login     405    405         405    405          405    405          405    login
disputes:return-shipped                    POST   own    login     400    404         403    404          403    403          403    login
disputes:return-shipped                    POST   other  login     404    400         404    403          403    403          403    login
disputes:proposal-respond                  GET    own    login     405    405         405    405          405    405          405    login
disputes:proposal-respond                  GET    other  login     405    405         405    405          405    405          405    login
disputes:proposal-respond                  POST   own    login     400    404         400    404          400    400          400    login
disputes:proposal-respond                  POST   other  login     404    400         404    400          400    400          400    login
disputes:survey-respond                    GET    own    login     405    405         405    405          405    405          405    login
disputes:survey-respond                    GET    other  login     405    405         405    405          405    405          405    login
disputes:survey-respond                    POST   own    login     400    404         400    404          403    403          403    login
disputes:survey-respond                    POST   other  login     404    400         404    400          403    403          403    login
disputes:resolution-center                 GET    -      login     200    200         200    200          200    200          200    login
disputes:notification-list                 GET    -      login     200    200         200    200          200    200          200    login
disputes:notification-read                 GET    -      login     405    405         405    405          405    405          405    login
disputes:notification-read                 POST   -      login     302    302         302    302          302    302          302    login
disputes:account                           GET    -      login     200    200         200    200          200    200          200    login
disputes:account                           POST   -      login     302    302         302    302          302    302          302    login

# The console: agents only. Its queue pages are a 403 to anyone else; a case's pages are a 404 (a case that is
# not yours is not found, whoever you are on it); the open case is not in mediation yet
disputes:console-queue                     GET    -      login     403    403         403    403          200    200          200    login
disputes:console-take-next                 GET    -      login     403    403         403    403          405    405          405    login
disputes:console-take-next                 POST   -      login     403    403         403    403          302    302          302    login
disputes:console-availability              GET    -      login     403    403         403    403          405    405          405    login
disputes:console-availability              POST   -      login     403    403         403    403          302    302          302    login
disputes:console-case                      GET    own    login     404    404         404    404          200    200          200    login
disputes:console-case                      GET    other  login     404    404         404    404          200    200          200    login
disputes:console-claim                     GET    own    login     404    404         404    404          405    405          405    login
disputes:console-claim                     GET    other  login     404    404         404    404          405    405          405    login
disputes:console-claim                     POST   own    login     404    404         404    404          400    400          400    login
disputes:console-claim                     POST   other  login     404    404         404    404          400    400          400    login
disputes:console-appeal-take               GET    own    login     404    404         404    404          405    405          405    login
disputes:console-appeal-take               GET    other  login     404    404         404    404          405    405          405    login
disputes:console-appeal-take               POST   own    login     404    404         404    404          400    400          400    login
disputes:console-appeal-take               POST   other  login     404    404         404    404          400    400          400    login
disputes:console-message                   GET    own    login     404    404         404    404          405    405          405    login
disputes:console-message                   GET    other  login     404    404         404    404          405    405          405    login
disputes:console-message                   POST   own    login     404    404         404    404          302    302          302    login
disputes:console-message                   POST   other  login     404    404         404    404          302    302          302    login
disputes:console-note                      GET    own    login     404    404         404    404          405    405          405    login
disputes:console-note                      GET    other  login     404    404         404    404          405    405          405    login
disputes:console-note                      POST   own    login     404    404         404    404          302    302          302    login
disputes:console-note                      POST   other  login     404    404         404    404          302    302          302    login
disputes:console-canned                    GET    own    login     404    404         404    404          405    405          405    login
disputes:console-canned                    GET    other  login     404    404         404    404          405    405          405    login
disputes:console-canned                    POST   own    login     404    404         404    404          200    200          200    login
disputes:console-canned                    POST   other  login     404    404         404    404          200    200          200    login
disputes:console-evidence-request          GET    own    login     404    404         404    404          405    405          405    login
disputes:console-evidence-request          GET    other  login     404    404         404    404          405    405          405    login
disputes:console-evidence-request          POST   own    login     404    404         404    404          400    400          400    login
disputes:console-evidence-request          POST   other  login     404    404         404    404          400    400          400    login
disputes:console-propose                   GET    own    login     404    404         404    404          405    405          405    login
disputes:console-propose                   GET    other  login     404    404         404    404          405    405          405    login
disputes:console-propose                   POST   own    login     404    404         404    404          400    400          400    login
disputes:console-propose                   POST   other  login     404    404         404    404          400    400          400    login
disputes:console-decide                    GET    own    login     404    404         404    404          405    405          405    login
disputes:console-decide                    GET    other  login     404    404         404    404          405    405          405    login
disputes:console-decide                    POST   own    login     404    404         404    404          400    400          400    login
disputes:console-decide                    POST   other  login     404    404         404    404          400    400          400    login
disputes:console-decide-appeal             GET    own    login     404    404         404    404          405    405          405    login
disputes:console-decide-appeal             GET    other  login     404    404         404    404          405    405          405    login
disputes:console-decide-appeal             POST   own    login     404    404         404    404          400    400          400    login
disputes:console-decide-appeal             POST   other  login     404    404         404    404          400    400          400    login
disputes:console-reassign                  GET    own    login     404    404         404    404          405    405          405    login
disputes:console-reassign                  GET    other  login     404    404         404    404          405    405          405    login
disputes:console-reassign                  POST   own    login     404    404         404    404          400    400          400    login
disputes:console-reassign                  POST   other  login     404    404         404    404          400    400          400    login

# The API, with each person's token
api:order-list                             GET    -      401       200    200         200    200          200    200          200    200
api:order-detail                           GET    own    401       200    404         200    404          200    200          200    200
api:order-detail                           GET    other  401       404    200         404    200          200    200          200    200
api:order-detail                           PUT    own    401       403    403         403    403          403    403          403    200
api:order-detail                           PUT    other  401       403    403         403    403          403    403          403    200
api:order-shipment                         GET    own    401       403    403         403    403          403    403          403    405
api:order-shipment                         GET    other  401       403    403         403    403          403    403          403    405
api:order-shipment                         POST   own    401       403    403         403    403          403    403          403    400
api:order-shipment                         POST   other  401       403    403         403    403          403    403          403    400
api:case-list                              GET    -      401       200    200         200    200          200    200          200    200
api:case-list                              POST   -      401       201    400         400    400          400    400          400    403
api:case-detail                            GET    own    401       200    404         200    404          200    200          200    200
api:case-detail                            GET    other  401       404    200         404    200          200    200          200    200
api:case-transitions                       GET    own    401       405    405         405    405          405    405          405    405
api:case-transitions                       GET    other  401       405    405         405    405          405    405          405    405
api:case-transitions                       POST   own    401       403    404         200    404          403    403          403    403
api:case-transitions                       POST   other  401       404    403         404    200          403    403          403    403
api:case-return-shipment                   GET    own    401       405    405         405    405          405    405          405    405
api:case-return-shipment                   GET    other  401       405    405         405    405          405    405          405    405
api:case-return-shipment                   POST   own    401       409    404         403    404          403    403          403    403
api:case-return-shipment                   POST   other  401       404    409         404    403          403    403          403    403
api:case-proposal-answer                   GET    own    401       405    405         405    405          405    405          405    405
api:case-proposal-answer                   GET    other  401       405    405         405    405          405    405          405    405
api:case-proposal-answer                   POST   own    401       409    404         409    404          409    409          409    403
api:case-proposal-answer                   POST   other  401       404    409         404    409          409    409          409    403
api:case-history                           GET    own    401       200    404         200    404          200    200          200    200
api:case-history                           GET    other  401       404    200         404    200          200    200          200    200
api:case-messages                          GET    own    401       200    404         200    404          200    200          200    200
api:case-messages                          GET    other  401       404    200         404    200          200    200          200    200
api:case-messages                          POST   own    401       201    404         201    404          201    201          201    403
api:case-messages                          POST   other  401       404    201         404    201          201    201          201    403
api:case-evidence                          GET    own    401       200    404         200    404          200    200          200    200
api:case-evidence                          GET    other  401       404    200         404    200          200    200          200    200
api:case-evidence                          POST   own    401       201    404         201    404          201    201          201    403
api:case-evidence                          POST   other  401       404    201         404    201          201    201          201    403
api:case-evidence-file                     GET    own    401       200    404         200    404          200    200          200    200
api:case-evidence-file                     GET    other  401       404    200         404    200          200    200          200    200
api:case-evidence-file                     GET    cross  401       404    404         404    404          404    404          404    404
api/v1/                                    GET    -      404       404    404         404    404          404    404          404    404
api-schema                                 GET    -      200       200    200         200    200          200    200          200    200
api-docs                                   GET    -      200       200    200         200    200          200    200          200    200

# Django admin: the superuser only; anyone else is sent to the admin's sign-in page
admin:index                                GET    -      login     login  login       login  login        login  login        200    login
admin:login                                GET    -      200       200    200         200    200          200    200          302    200
admin:login                                POST   -      302       302    302         302    302          302    302          302    302
admin:logout                               GET    -      302       302    302         302    302          302    302          405    302
admin:logout                               POST   -      302       302    302         302    302          302    302          200    302
admin:password_change                      GET    -      login     login  login       login  login        login  login        200    login
admin:password_change                      POST   -      login     login  login       login  login        login  login        302    login
admin:password_change_done                 GET    -      login     login  login       login  login        login  login        200    login
admin:autocomplete                         GET    -      login     login  login       login  login        login  login        403    login
admin:jsi18n                               GET    -      login     login  login       login  login        login  login        200    login
admin:view_on_site                         GET    -      login     login  login       login  login        login  login        302    login
admin:app_list                             GET    -      login     login  login       login  login        login  login        200    login
admin/(?P<url>.*)$                         GET    -      login     login  login       login  login        login  login        404    login

# Every model's pages, asked about a real record; the records are read-only unless listed further down
admin:*_changelist                         GET    -      login     login  login       login  login        login  login        200    login
admin:*_history                            GET    -      login     login  login       login  login        login  login        200    login
admin:*_change                             GET    -      login     login  login       login  login        login  login        200    login
admin/*/<path:object_id>/                  GET    -      login     login  login       login  login        login  login        302    login
admin:*_simple_history                     GET    -      login     login  login       login  login        login  login        200    login
admin:*_simple_history                     POST   -      login     login  login       login  login        login  login        form   login
admin:*_add                                GET    -      login     login  login       login  login        login  login        403    login
admin:*_add                                POST   -      login     login  login       login  login        login  login        403    login
admin:*_change                             POST   -      login     login  login       login  login        login  login        403    login
admin:*_delete                             GET    -      login     login  login       login  login        login  login        403    login
admin:*_delete                             POST   -      login     login  login       login  login        login  login        403    login

# What the admin edits: groups, users, tokens, policies, canned replies, webhook endpoints
admin:{edited}_add                         GET    -      login     login  login       login  login        login  login        200    login
admin:{edited}_add                         POST   -      login     login  login       login  login        login  login        form   login
admin:{edited}_change                      POST   -      login     login  login       login  login        login  login        form   login
admin:{edited}_delete                      GET    -      login     login  login       login  login        login  login        200    login
admin:{edited}_delete                      POST   -      login     login  login       login  login        login  login        302    login
# a user with cases is kept; an endpoint's deliveries are not the admin's to delete
admin:auth_user_delete                     POST   -      login     login  login       login  login        login  login        form   login
admin:disputes_webhookendpoint_delete      POST   -      login     login  login       login  login        login  login        403    login
# a case: the form saves nothing, the state moves only by a transition (through the services)
admin:disputes_case_change                 POST   -      login     login  login       login  login        login  login        302    login
admin:disputes_case_simple_history         POST   -      login     login  login       login  login        login  login        302    login
admin:disputes_case_transition             GET    -      login     login  login       login  login        login  login        302    login
admin:disputes_case_transition             POST   -      login     login  login       login  login        login  login        302    login
admin:auth_user_password_change            GET    -      login     login  login       login  login        login  login        200    login
admin:auth_user_password_change            POST   -      login     login  login       login  login        login  login        302    login
# sign-in records (django-axes): read and delete only
admin:axes_*_change                        POST   -      login     login  login       login  login        login  login        302    login
admin:axes_*_delete                        GET    -      login     login  login       login  login        login  login        200    login
admin:axes_*_delete                        POST   -      login     login  login       login  login        login  login        302    login

# Sockets: a number is the close code of a refusal, sent before any data frame
ws/cases/<str:reference>/                  WS     own    4401      accept 4404        accept 4404         accept accept       accept 4401
ws/cases/<str:reference>/                  WS     other  4401      4404   accept      4404   accept       accept accept       accept 4401
ws/console/queue/                          WS     -      4401      4403   4403        4403   4403         accept accept       accept 4401
"""

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
OBJECT_PARAMS = {"reference", "external_id", "username", "pk"}  # a non-admin route with one is asked per object


# The table


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    scope: str
    cells: dict


def table() -> list[Row]:
    lines = [line for line in MATRIX.strip().splitlines() if line.strip() and not line.startswith("#")]
    header, *rows = [line.split() for line in lines]
    assert header == ["route", "method", "object", *ROLES]
    parsed = []
    for row in rows:
        assert len(row) == 3 + len(ROLES), f"row has {len(row)} columns: {row}"
        parsed.append(Row(row[0], row[1], row[2], dict(zip(ROLES, row[3:], strict=True))))
    return parsed


# The models whose records the admin edits by hand; the desk writes the others through its services.
NAMED = {
    "edited": "auth_group,auth_user,authtoken_tokenproxy,policies_policy,disputes_cannedreply,disputes_webhookendpoint"
}


def _expand(pattern: str) -> list[str]:
    """`a{b,c}d` -> [abd, acd]; `{edited}` stands for the list NAMED gives it."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    return [
        expanded
        for option in NAMED.get(match.group(1), match.group(1)).split(",")
        for expanded in _expand(pattern[: match.start()] + option + pattern[match.end() :])
    ]


def _is_group(row_route: str) -> bool:
    return "*" in row_route or "{" in row_route


def _matches(row_route: str, key: str) -> bool:
    if row_route == key:
        return True
    return _is_group(row_route) and any(fnmatch.fnmatchcase(key, p) for p in _expand(row_route))


def rows_for(key: str, rows: list[Row]) -> dict[tuple[str, str], Row]:
    """The rows that apply to a route, by (method, object); a later row replaces an earlier one,
    and a row naming the route itself replaces any group row."""
    chosen: dict[tuple[str, str], Row] = {}
    for exact in (False, True):
        for row in rows:
            if (row.route == key) if exact else (_is_group(row.route) and _matches(row.route, key)):
                chosen[(row.method, row.scope)] = row
    return chosen


# The routes


@dataclass(frozen=True)
class Route:
    key: str  # the URL name (namespaced), or the pattern when it has none
    pattern: str  # the full pattern from the root, without the leading slash
    params: tuple[str, ...]


def _params(pattern: str) -> tuple[str, ...]:
    return tuple(match.group(2) for match in re.finditer(r"<(?:(\w+):)?(\w+)>", pattern))


def http_routes() -> list[Route]:
    found = []

    def walk(resolver, prefix, namespace):
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                inner = ":".join(filter(None, [namespace, entry.namespace])) if entry.namespace else namespace
                walk(entry, prefix + str(entry.pattern), inner)
            else:
                pattern = prefix + str(entry.pattern)
                name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
                found.append(Route(name or pattern, pattern, _params(pattern)))

    walk(get_resolver(), "", None)
    return found


def ws_routes() -> list[Route]:
    """The routes of the URLRouter inside the real ASGI application (under its middleware)."""
    found = []

    def router_of(app):
        while not isinstance(app, URLRouter):
            mapping = getattr(app, "application_mapping", None)  # the ProtocolTypeRouter
            app = mapping["websocket"] if mapping else getattr(app, "application", None) or app.inner
        return app

    def walk(router, prefix):
        for route in router.routes:
            pattern = prefix + str(route.pattern)
            callback = route.callback
            if isinstance(callback, URLRouter):
                walk(callback, pattern)
            else:
                found.append(Route(pattern, pattern, _params(pattern)))

    walk(router_of(application), "")
    return found


def test_every_route_is_in_the_table_and_every_row_is_a_route():
    rows = table()
    routes = http_routes() + ws_routes()
    keys = {route.key for route in routes}
    assert len(keys) == len(routes), "two routes share a key"

    missing = [route.key for route in routes if not rows_for(route.key, rows)]
    gone = sorted({row.route for row in rows if not any(_matches(row.route, key) for key in keys)})
    unscoped = [
        f"{route.key} {method}"
        for route in routes
        if not route.key.startswith("admin") and set(route.params) & OBJECT_PARAMS
        for method in {method for method, _ in rows_for(route.key, rows)}
        if not {"own", "other"} <= {scope for m, scope in rows_for(route.key, rows) if m == method}
    ]

    assert not missing, f"routes with no row in MATRIX: {missing}"
    assert not gone, f"rows naming no route: {gone}"
    assert not unscoped, f"routes about a record need an own and an other row: {unscoped}"
    assert {route.pattern for route in ws_routes()} == {str(entry.pattern) for entry in websocket_urlpatterns}


# Asking


def _admin_object(world, pattern: str):
    """The record an admin route of `admin/<app>/<model>/...` is about: the own case and its
    people where the model has them, else the model's first record."""
    app_label, model_name = pattern.split("/")[1:3]
    model = apps.get_model(app_label, model_name)
    chosen = {
        "auth.user": lambda: world.people["buyer"],
        "auth.group": lambda: world.people["agent"].groups.get(),
        "authtoken.tokenproxy": lambda: TokenProxy.objects.get(user=world.people["service"]),
        "disputes.case": lambda: world.cases["own"],
        "disputes.order": lambda: world.orders["own"],
    }
    record = chosen.get(model._meta.label_lower, lambda: model._default_manager.order_by("pk").first())()
    assert record is not None, f"the world has no {model._meta.label_lower} to ask the admin about"
    return record


def url_of(route: Route, scope: str, world) -> str:
    """The address of `route` about the record `scope` names (with real ids, tokens and names)."""
    pattern = route.pattern
    if "history/([^/]+)/$" in pattern:  # simple-history's form for one past version
        record = _admin_object(world, pattern)
        return f"/{pattern.split('^')[0]}{record.pk}/history/{record.history.earliest().history_id}/"
    if pattern.endswith("(?P<url>.*)$"):
        return f"/{pattern.split('(')[0]}no-such-page/"
    if "(?P<app_label>" in pattern:
        return f"/{pattern.split('^')[0]}disputes/"
    if route.key == "api/v1/":
        return "/api/v1/no-such-endpoint/"

    case_scope = "own" if scope == "cross" else scope
    buyer = world.people["buyer"]
    values = {
        "reference": lambda: world.cases[case_scope].reference,
        "pk": lambda: world.evidence["other" if scope == "cross" else scope].pk,
        "external_id": lambda: world.orders[scope].external_id,
        "username": lambda: world.sellers(scope).username,
        "name": lambda: "decline_claim",
        "table": lambda: "weekly",
        "slug": lambda: "disputes",
        "uidb64": lambda: urlsafe_base64_encode(force_bytes(buyer.pk)),
        "token": lambda: default_token_generator.make_token(buyer),
        "id": lambda: buyer.pk,
        "content_type_id": lambda: ContentType.objects.get_for_model(Case).pk,
        "object_id": lambda: (
            world.cases["own"].pk if pattern.startswith("admin/r/") else _admin_object(world, pattern).pk
        ),
        "transition_name": lambda: "decline_claim",
    }
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda match: str(values[match.group(1)]()), pattern)
    query = f"?order={world.orders['own'].external_id}" if route.key == "disputes:case-file" else ""
    return f"/{path}{query}"


def once() -> dict:
    """A fresh one-time form token."""
    return {"submission": str(uuid.uuid4())}


def form(**fields):
    """A page's form, with a fresh one-time token each time it is sent."""
    return lambda w, s: {**once(), **fields}


def body(**fields):
    """A body that does not depend on the world."""
    return lambda w, s: dict(fields)


NEW_PASSWORD = {"new_password1": "a-new-pass-word-2026", "new_password2": "a-new-pass-word-2026"}
FILING = {"reason": "damaged", "requested_outcome": "partial_refund", "amount_claimed": "10.00"}
ORDER_PUT = {
    "item_title": "Walnut desk lamp, relisted",
    "amount": "45.00",
    "currency": "EUR",
    "status": "paid",
    "placed_at": "2026-01-05T10:00:00Z",
}

# (route, method) -> body(world, scope). Every write here is one that route would take from its
# rightful user, so a refusal is about who asks, not about what they sent.
BODIES = {
    ("disputes:case-file", "POST"): lambda w, s: {
        **once(),
        "order": w.spare_order.external_id,
        **FILING,
        "description": "It arrived broken.",
    },
    ("disputes:case-action", "POST"): form(note="It left here intact."),
    ("disputes:message-create", "POST"): form(body="Any news?"),
    ("disputes:evidence-create", "POST"): lambda w, s: {**once(), "files": [png()], "description": "The box"},
    ("disputes:return-shipped", "POST"): form(carrier="DHL", tracking_number="JD1"),
    ("disputes:proposal-respond", "POST"): form(answer="accept"),
    ("disputes:survey-respond", "POST"): form(score="5", comment="Quick and fair."),
    ("disputes:notification-read", "POST"): body(),
    ("disputes:account", "POST"): body(time_zone="Europe/Paris"),
    ("disputes:console-take-next", "POST"): form(),
    ("disputes:console-availability", "POST"): form(available="0"),
    ("disputes:console-claim", "POST"): form(),
    ("disputes:console-appeal-take", "POST"): form(),
    ("disputes:console-message", "POST"): form(body="Hello both."),
    ("disputes:console-note", "POST"): form(body="Seller seems honest."),
    ("disputes:console-canned", "POST"): lambda w, s: {"reply": w.canned_reply.pk},
    ("disputes:console-evidence-request", "POST"): form(
        party="buyer", note="A photo of the box, please.", due_at="2099-01-01T12:00"
    ),
    ("disputes:console-propose", "POST"): form(kind="partial_refund", amount="25.00", note="Fair given the photos."),
    ("disputes:console-decide", "POST"): form(outcome="no_action", rationale="Disputes policy 4.2."),
    ("disputes:console-decide-appeal", "POST"): form(outcome="full_refund", rationale="Disputes policy 6."),
    ("disputes:console-reassign", "POST"): lambda w, s: {**once(), "agent": w.people["senior_agent"].pk},
    ("feedback:order-feedback", "POST"): form(rating="positive", comment="Fine."),
    ("login", "POST"): body(username="buyer", password="pass-word-2026"),
    ("logout", "POST"): body(),
    ("password_change", "POST"): body(old_password="pass-word-2026", **NEW_PASSWORD),
    ("password_reset", "POST"): body(email="buyer@example.com"),
    ("password_reset_confirm", "POST"): body(**NEW_PASSWORD),
    ("api:order-detail", "PUT"): lambda w, s: {
        **ORDER_PUT,
        "buyer": w.orders[s].buyer.username,
        "seller": w.orders[s].seller.username,
    },
    ("api:order-shipment", "POST"): body(carrier="UPS", tracking_number="1Z999", shipped_at="2026-01-06T10:00:00Z"),
    ("api:case-list", "POST"): lambda w, s: {
        "order": w.spare_order.external_id,
        **FILING,
        "description": "It arrived broken.",
    },
    ("api:case-transitions", "POST"): body(name="decline_claim", note="It left here intact."),
    ("api:case-return-shipment", "POST"): body(carrier="DHL", tracking_number="JD1"),
    ("api:case-proposal-answer", "POST"): body(answer="accept"),
    ("api:case-messages", "POST"): body(body="Any news?"),
    ("api:case-evidence", "POST"): lambda w, s: {"files": [png()], "description": "The box"},
    ("admin:auth_user_password_change", "POST"): body(
        password1="a-new-pass-word-2026", password2="a-new-pass-word-2026"
    ),
    ("admin:*_delete", "POST"): body(post="yes"),
    ("admin:disputes_case_transition", "POST"): body(),
    ("admin:logout", "POST"): body(),
    ("admin:login", "POST"): body(username="admin", password="pass-word-2026", next="/admin/"),
    ("admin:password_change", "POST"): body(old_password="pass-word-2026", **NEW_PASSWORD),
}
MULTIPART_API = {"api:case-evidence"}


def body_of(route: Route, method: str, world, scope: str) -> dict:
    for (key, body_method), make in BODIES.items():
        if body_method == method and _matches(key, route.key):
            return make(world, scope)
    return {}  # the admin's add and change forms: sent empty, answered with the form or a refusal


class Asker:
    """Clients for every role: a session per person for pages, their API token for /api/."""

    def __init__(self, world):
        self.world = world
        self.sessions = {}
        with zeal_ignore():  # signing nine people in is setup, not a request's N+1
            for role, user in world.people.items():
                if user is not None:
                    client = Client()
                    client.force_login(user)
                    self.sessions[role] = client.cookies["sessionid"].value

    def send(self, role: str, method: str, url: str, body: dict, *, multipart_api=False):
        if url.startswith("/api/"):
            client = APIClient(raise_request_exception=False)
            if role != "anonymous":
                client.credentials(HTTP_AUTHORIZATION=f"Token {self.world.tokens[role]}")
            send = getattr(client, method.lower())
            if method == "GET":
                return send(url)
            return send(url, body, format="multipart" if multipart_api else "json")
        client = Client(raise_request_exception=False)
        if role != "anonymous":
            client.cookies["sessionid"] = self.sessions[role]
        return client.get(url) if method == "GET" else getattr(client, method.lower())(url, body)


def outcome(response, url: str) -> str:
    if response.status_code in (301, 302, 303):
        location = urlparse(response["Location"])
        sign_in = "/admin/login/" if url.startswith("/admin/") else "/accounts/login/"
        if location.path == sign_in and parse_qs(location.query).get("next") == [url]:
            return "login"
    return str(response.status_code)


def is_refusal(expected: str) -> bool:
    return expected in ("login", "form") or expected.startswith("4")


WATCHED_APPS = {"auth", "authtoken", "admin", "disputes", "policies", "feedback"}


def footprint() -> dict:
    """Every stored record, counted (in one query), and the fields a write without a history row would change."""
    models = [model for model in apps.get_models() if model._meta.app_label in WATCHED_APPS]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in models))
        counts = dict(zip((model._meta.label for model in models), cursor.fetchone(), strict=True))
    return {
        **counts,
        "cases": list(Case.objects.order_by("pk").values_list("pk", "state", "agent_id", "return_shipped_at")),
        "orders": list(Order.objects.order_by("pk").values_list("pk", "item_title", "status", "tracking_number")),
        "users": list(get_user_model().objects.order_by("pk").values_list("pk", "password", "is_active", "is_staff")),
        "unread": Notification.objects.filter(read_at__isnull=True).count(),
        "zones": list(apps.get_model("disputes", "profile").objects.values_list("user_id", "time_zone")),
        "available": list(apps.get_model("disputes", "agentstatus").objects.values_list("agent_id", "is_available")),
    }


def ask_all(routes: list[Route], world) -> tuple[list[str], int]:
    """Send every cell of every route's rows; each cell is rolled back, so cells never see each other.
    Returns the mismatches (route, method, object, role, expected, got) and the number of cells."""
    rows = table()
    asker = Asker(world)
    mismatches, asked = [], 0
    for route in routes:
        for (method, scope), row in rows_for(route.key, rows).items():
            for role in ROLES:
                expected = row.cells[role]
                check_writes = method in WRITE_METHODS and is_refusal(expected)
                with transaction.atomic(), zeal_context():  # a context per request, as a server has
                    url = url_of(route, scope, world)
                    body = body_of(route, method, world, scope) if method in WRITE_METHODS else {}
                    before = footprint() if check_writes else None
                    response = asker.send(role, method, url, body, multipart_api=route.key in MULTIPART_API)
                    got = outcome(response, url)
                    if expected == "form" and got == "200":
                        got = "form"
                    changed = check_writes and footprint() != before
                    transaction.set_rollback(True)
                asked += 1
                where = f"{route.key} {method} {scope} {role} ({url})"
                if got != expected:
                    mismatches.append(f"{where}: expected {expected}, got {got}")
                elif changed:
                    mismatches.append(f"{where}: refused with {got} but a record changed")
    return mismatches, asked


AREAS = {
    "pages": lambda key: not key.startswith(("admin", "api")),
    "api": lambda key: key.startswith("api"),
    "admin": lambda key: key.startswith("admin"),
}


@pytest.mark.parametrize("area", AREAS)
def test_every_route_answers_every_role_as_the_matrix_says(db, area):
    world = build_world()
    routes = [route for route in http_routes() if AREAS[area](route.key)]

    mismatches, asked = ask_all(routes, world)

    assert asked > len(routes) * len(ROLES) // 2
    assert not mismatches, f"{len(mismatches)} of {asked} cells differ:\n" + "\n".join(mismatches)


# Sockets

ORIGIN = (b"origin", b"http://localhost")


async def _open(path: str, cookie: str | None) -> str:
    headers = [ORIGIN] + ([(b"cookie", f"sessionid={cookie}".encode())] if cookie else [])
    socket = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await socket.connect(timeout=3)
    if not connected:
        return "refuse"
    try:
        # The first thing after the handshake is either the refusal or the answer to this ping.
        await socket.send_json_to({"type": "ping"})
        first = await socket.receive_output(timeout=3)
        if first["type"] == "websocket.close":
            return str(first.get("code", 1000))
        return "accept"
    finally:
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
def test_every_socket_opens_for_whom_the_matrix_says():
    world = build_world()
    asker = Asker(world)
    rows = table()
    mismatches = []
    for route in ws_routes():
        for (method, scope), row in rows_for(route.key, rows).items():
            assert method == "WS", f"{route.key} has a {method} row"
            path = url_of(route, scope, world)
            for role in ROLES:
                with zeal_context():
                    got = async_to_sync(_open)(path, asker.sessions.get(role))
                if got != row.cells[role]:
                    mismatches.append(f"{route.key} {scope} {role} ({path}): expected {row.cells[role]}, got {got}")
    assert not mismatches, "\n".join(mismatches)
