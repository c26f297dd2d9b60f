"""The chat benchmark's rooms: its database, and the users and cases made through the services
(one open case a room: its buyer, its seller and agents up to the room size), with the session
cookies its clients sign in with."""

from __future__ import annotations

import sys
from urllib.parse import urlsplit, urlunsplit

AGENT_POOL = 40


def prepare_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench/chat.py needs a PostgreSQL database URL.")
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def ensure_rooms(count: int, room_size: int) -> list[dict]:
    """`count` open cases, each with the usernames of its room's members (buyer, seller, agents)."""
    from datetime import timedelta
    from decimal import Decimal

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.utils import timezone as dj_timezone

    from disputes import services
    from disputes.models import Case, Order
    from disputes.ratelimits import rate_limits_suspended
    from disputes.roles import SUPPORT_AGENTS
    from policies.models import Policy
    from policies.services import policy_save

    User = get_user_model()
    now = dj_timezone.now()
    if not Policy.objects.filter(slug="disputes").exists():
        policy_save(
            policy=Policy(
                slug="disputes", title="Buyer protection and disputes", kind=Policy.Kind.DISPUTES,
                body="How cases work.", is_published=True, effective_from=now - timedelta(days=30),
            ),
            actor=None, reason="Chat benchmark",
        )  # fmt: skip
    agents_group = Group.objects.get(name=SUPPORT_AGENTS)
    agents = []
    for k in range(AGENT_POOL):
        agent, created = User.objects.get_or_create(
            username=f"chat-agent-{k}", defaults={"first_name": f"Agent{k}", "is_staff": True}
        )
        if created:
            agent.groups.add(agents_group)
        agents.append(agent.username)
    rooms = []
    with rate_limits_suspended():
        for i in range(count):
            external_id = f"CHAT-{i:05d}"
            case = Case.objects.filter(order__external_id=external_id, state=Case.State.OPEN).first()
            if case is None:
                buyer, _ = User.objects.get_or_create(username=f"chat-buyer-{i}", defaults={"first_name": "Bea"})
                seller, _ = User.objects.get_or_create(username=f"chat-seller-{i}", defaults={"first_name": "Sam"})
                Case.objects.filter(order__external_id=external_id).delete()  # finished by hand: start again
                Order.objects.filter(external_id=external_id).delete()
                order = services.order_upsert(
                    external_id=external_id, buyer=buyer, seller=seller, item_title="Walnut desk lamp",
                    amount=Decimal("80.00"), currency="EUR", status=Order.Status.DELIVERED,
                    placed_at=now - timedelta(days=7), shipped_at=now - timedelta(days=5),
                    delivered_at=now - timedelta(days=2), carrier="DHL", tracking_number=f"JD{i:06d}",
                )  # fmt: skip
                case = services.case_file(
                    buyer=buyer, order=order, reason="not_as_described", requested_outcome="partial_refund",
                    amount_claimed=Decimal("30.00"), description="The lamp arrived with a cracked shade.",
                )  # fmt: skip
            members = [f"chat-buyer-{i}", f"chat-seller-{i}"]
            members += [agents[(i * (room_size - 2) + k) % AGENT_POOL] for k in range(room_size - 2)]
            rooms.append({"case_id": case.pk, "reference": case.reference, "members": members[:room_size]})
    return rooms


def cookie_headers(usernames, base_url: str) -> dict[str, list[tuple[str, str]]]:
    from django.conf import settings

    from bench.harness import session_cookies

    headers = {}
    for name in sorted(set(usernames)):
        cookie = session_cookies(name)[settings.SESSION_COOKIE_NAME]
        headers[name] = [("Cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}"), ("Origin", base_url)]
    return headers
