"""Every route of the site, asked by every kind of person, about a record of theirs and one of others.

The routes are read from the URLconf (pages, API, admin, sign-in pages) and from the WebSocket
router; a route missing from MATRIX fails the test, and so does a row naming a route that is gone.
The table, and how its rows and cells read, is `url_matrix.py`; what each write sends is
`url_bodies.py`.

Pages are asked with the person's session, /api/ with their API token. `service` is the
marketplace's integration ("Marketplace integrations" group): it uses the API only, so a session
of it counts for nothing on the pages and sockets (they answer as to someone signed out).
"""

import re
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
from tests.security.conftest import ROLES, build_world
from tests.security.url_bodies import MULTIPART_API, body_of
from tests.security.url_matrix import OBJECT_PARAMS, WRITE_METHODS, matches, rows_for, table

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
    gone = sorted({row.route for row in rows if not any(matches(row.route, key) for key in keys)})
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
