"""The people and policies under bench/seed.py: few rows, mostly through the ORM.

The known logins (password `PASSWORD`) and the marketplace service account with fixed API tokens,
then the crowd of buyers, sellers and agents in one COPY; and the published policies whose current
disputes version every seeded case is pinned to.
"""

import hashlib
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta

from bench.seed_copy import Ids, Table

PASSWORD = "bench-pass-2026"
USER_COLUMNS = [
    "id", "username", "first_name", "last_name", "email", "password", "is_staff", "is_active", "is_superuser",
    "date_joined",
]  # fmt: skip


@dataclass
class Cast:
    """Who the cases are between: the known users, and the ids of everyone who may take a part."""

    system: object
    buyer: object
    seller: object
    agent: object
    senior: object
    admin: object
    tokens: dict[str, str]  # username → API token key
    buyers: list[int]  # the known buyer first
    sellers: list[int]  # the known seller first
    agents: list[int]  # the known agent, the senior agent, then the crowd's agents
    rows: int  # user rows written


def seed_people(cursor, *, cases: int, now: datetime) -> Cast:
    """The known users through the ORM, the crowd with COPY; exits if bench data is already there."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from disputes.models import AgentStatus
    from disputes.roles import MARKETPLACE_INTEGRATIONS, SENIOR_AGENTS, SUPPORT_AGENTS
    from disputes.services._common import system_user

    User = get_user_model()
    if User.objects.filter(username="bench-buyer").exists():
        sys.exit("This database already holds bench data: run with --reset to seed it again.")
    system = system_user()
    hashed = make_password(PASSWORD)

    def person(username, first, last, groups=(), staff=False, superuser=False):
        user = User.objects.create(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@bench.example",
            password=hashed,
            is_staff=staff or bool(groups),
            is_superuser=superuser,
        )
        user.groups.set(Group.objects.filter(name__in=groups))
        return user

    buyer = person("bench-buyer", "Bea", "Buyer")
    seller = person("bench-seller", "Sam", "Seller")
    agent = person("bench-agent", "Ada", "Agent", [SUPPORT_AGENTS])
    senior = person("bench-senior", "Sid", "Senior", [SENIOR_AGENTS])
    admin = person("bench-admin", "Abe", "Admin", staff=True, superuser=True)
    service = User.objects.create(
        username="bench-marketplace", first_name="Marketplace", last_name="(API)", password=make_password(None)
    )
    service.groups.set(Group.objects.filter(name=MARKETPLACE_INTEGRATIONS))
    # Fixed keys: a reseed keeps the benchmark scripts' tokens valid.
    tokens = {}
    for user in (buyer, service):
        key = hashlib.sha1(f"desk-bench-token:{user.username}".encode()).hexdigest()
        Token.objects.create(user=user, key=key)
        tokens[user.username] = key

    # The crowd: unusable passwords, one COPY.
    n_buyers, n_sellers, n_agents = max(cases // 5, 10), max(cases // 50, 3), 20
    users = Table(User, USER_COLUMNS, now)
    ids = Ids(cursor)
    made = {"b": [], "s": [], "a": []}
    first = ["Alex", "Sam", "Kim", "Noa", "Ines", "Jon", "Mia", "Lea", "Tom", "Ana"]
    joined = now - timedelta(days=800)
    for prefix, count in (("b", n_buyers - 1), ("s", n_sellers - 1), ("a", n_agents - 2)):
        for i in range(count):
            pk = ids.take(User._meta.db_table)
            name = f"bench-{prefix}{i}"
            users.add(
                pk, name, first[i % 10], f"{prefix.upper()}{i}", f"{name}@bench.example", "!bench", prefix == "a",
                True, False, joined,
            )  # fmt: skip
            made[prefix].append(pk)
    users.flush(cursor)
    cursor.execute(
        f"SELECT setval(pg_get_serial_sequence('{User._meta.db_table}', 'id'), "
        f"(SELECT max(id) FROM {User._meta.db_table}))"
    )
    agents_group = Group.objects.get(name=SUPPORT_AGENTS)
    agents_group.user_set.add(*made["a"])
    agents = [agent.pk, senior.pk] + made["a"]
    AgentStatus.objects.bulk_create([AgentStatus(agent_id=pk, is_available=pk != senior.pk) for pk in agents])
    return Cast(
        system=system,
        buyer=buyer,
        seller=seller,
        agent=agent,
        senior=senior,
        admin=admin,
        tokens=tokens,
        buyers=[buyer.pk] + made["b"],
        sellers=[seller.pk] + made["s"],
        agents=agents,
        rows=users.total + 6,
    )


def seed_policies(*, admin, now: datetime):
    """The published disputes, returns, refunds and conduct policies; returns the disputes rules
    (its current version) that the cases follow."""
    from policies.models import Policy
    from policies.selectors import policy_current_version
    from policies.services import policy_save

    started = now - timedelta(days=800)
    disputes = policy_save(
        policy=Policy(
            slug="disputes",
            title="Buyer protection and disputes",
            kind=Policy.Kind.DISPUTES,
            body="How disputes are handled.\n\nSellers answer within 72 hours.",
            is_published=True,
            effective_from=started,
        ),
        actor=admin,
        reason="Bench policy",
    )
    for slug, title, kind in (
        ("returns", "Returns", Policy.Kind.RETURNS),
        ("refunds", "Refunds", Policy.Kind.REFUNDS),
        ("conduct", "Conduct", Policy.Kind.CONDUCT),
    ):
        policy = Policy(
            slug=slug, title=title, kind=kind, body="Bench text.", is_published=True, effective_from=started
        )
        policy_save(policy=policy, actor=admin, reason="Bench policy")
    return policy_current_version(policy=disputes)
