"""Fill a PostgreSQL bench database with N cases and everything around them, fast.

    .venv/bin/python bench/seed.py --cases 100000 [--reset] [--database-url postgres://...]

The database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/desk_bench) is created
when missing and migrated. Rows go in with COPY (psycopg 3 `cursor.copy`), bypassing the
services on purpose: each case is walked along a real path of its state machine (filed, offer,
escalation, decision, appeal, close ...) and written with the fields, offers, decisions, refunds,
messages, notifications and history rows that path leaves behind, so pages and the API read
consistent data. Known logins (password `bench-pass-2026`) and API tokens are printed and
written to bench/results/seed.json. Not a test: it writes fake data into the database it is given.
"""

import argparse
import hashlib
import json
import operator
import os
import random
import sys
import time
from datetime import datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/desk_bench"
PASSWORD = "bench-pass-2026"
CHUNK = 20_000  # cases per transaction

# Where cases end up (weights sum to 100): mostly finished, enough in flight for a real queue.
FINAL_STATES = [
    ("closed", 70),
    ("resolved", 8),
    ("withdrawn", 5),
    ("open", 5),
    ("awaiting_buyer", 4),
    ("escalated", 3),
    ("in_mediation", 3),
    ("awaiting_return", 1),
    ("appealed", 1),
]
# The known buyer's cases walk through every state, in this order, over and over.
BUYER_STATES = ["closed", "open", "awaiting_buyer", "escalated", "in_mediation", "resolved", "closed",
                "withdrawn", "awaiting_return", "appealed", "closed", "closed"]


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--reset", action="store_true", help="drop and recreate the bench database first")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--seed", type=int, default=7, help="random seed (same data every run)")
    parser.add_argument("--no-json", action="store_true", help="do not write bench/results/seed.json")
    return parser.parse_args(argv)


def prepare_database(url: str, reset: bool) -> None:
    """Create (or drop and recreate) the bench database, talking to the server's `postgres` db."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        sys.exit("bench/seed.py needs a PostgreSQL DATABASE_URL (it uses COPY).")
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if reset:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup_django(url: str) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketplace_support.settings")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-" + "x" * 50)
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    import django

    django.setup()


class Table:
    """Rows for one model's table, in COPY order. Columns not supplied get the field's constant
    default (auto_now fields: the seed time), computed once."""

    def __init__(self, model, supplied: list[str], now: datetime):
        from django.db.models import JSONField
        from psycopg.types.json import Jsonb

        fields = {f.attname: f for f in model._meta.concrete_fields}
        rest = [f for name, f in fields.items() if name not in supplied]
        self.model = model
        self.name = model._meta.db_table
        self.columns = [fields[name].column for name in supplied] + [f.column for f in rest]
        constants = []
        for f in rest:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif f.has_default():
                value = f.get_default()
            elif f.null:
                value = None
            elif f.blank and f.get_internal_type() in ("CharField", "TextField"):
                value = ""
            else:
                raise ValueError(f"{self.name}.{f.column} needs a value")
            constants.append(Jsonb(value) if isinstance(f, JSONField) and value is not None else value)
        self.constants = tuple(constants)
        self.rows: list[tuple] = []
        self.total = 0
        self.oids = None

    def add(self, *values) -> None:
        self.rows.append(values + self.constants)

    def flush(self, cursor) -> None:
        if not self.rows:
            return
        from psycopg import sql

        if self.oids is None:
            cursor.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
                [self.name],
            )
            types = dict(cursor.fetchall())
            self.oids = [types[column] for column in self.columns]
        # Binary: the server parses no text (timestamps above all), which is most of its work.
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            sql.Identifier(self.name), sql.SQL(", ").join(map(sql.Identifier, self.columns))
        )
        with cursor.copy(statement) as copy:
            copy.set_types(self.oids)
            for row in self.rows:
                copy.write_row(row)
        self.total += len(self.rows)
        self.rows = []


class Ids:
    """Next primary key per table, read once: COPY needs the ids to link rows."""

    def __init__(self, cursor):
        self.cursor = cursor
        self.next: dict[str, int] = {}

    def take(self, table: str, column: str = "id") -> int:
        if table not in self.next:
            self.cursor.execute(f'SELECT coalesce(max("{column}"), 0) FROM "{table}"')
            self.next[table] = self.cursor.fetchone()[0] + 1
        value = self.next[table]
        self.next[table] += 1
        return value


def detach_indexes(cursor, tables: list[str]) -> list[str]:
    """Drop the secondary indexes, unique and foreign-key constraints of `tables` and return
    the statements that put them back. Building an index once and checking a foreign key with
    one join after the load is many times faster than maintaining them row by row; putting them
    back checks every row loaded, so the models' constraints still hold."""
    cursor.execute(
        """
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), contype
        FROM pg_constraint
        WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('f', 'u')
        ORDER BY contype = 'f'
        """,
        [tables],
    )
    constraints = cursor.fetchall()
    cursor.execute(
        """
        SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.contype <> 'f')
        """,
        [tables],
    )
    indexes = cursor.fetchall()
    for table, name, _, _ in reversed(constraints):  # foreign keys first
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition, _ in constraints
    ]


def main(argv=None) -> dict:
    args = parse_args(argv)
    prepare_database(args.database_url, args.reset)
    setup_django(args.database_url)

    from django.core.management import call_command

    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - began
    seeder = Seeder(cases=args.cases, rng=random.Random(args.seed))
    result = seeder.run()
    result["migrate_seconds"] = round(migrated, 1)
    print_table(result)
    if not args.no_json:
        RESULTS.mkdir(parents=True, exist_ok=True)
        (RESULTS / "seed.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"\nwritten to {RESULTS / 'seed.json'}")
    return result


def print_table(result: dict) -> None:
    print(f"\n{result['cases']:,} cases on {result['database']} in {result['seconds']} s "
          f"({result['rows_per_second']:,} rows/s); database size {result['database_size']}\n")
    print(f"{'table':40} {'rows':>12}")
    for table, rows in result["rows"].items():
        print(f"{table:40} {rows:12,}")
    print(f"{'total':40} {result['total_rows']:12,}")
    print("\nlogins (password: %s)" % result["password"])
    for role, name in result["logins"].items():
        print(f"  {role:8} {name}")
    print("API tokens (Authorization: Token <key>)")
    for name, key in result["tokens"].items():
        print(f"  {name:20} {key}")
    print(f"sample case of bench-buyer: {result['sample']['buyer_case']}")


def hours(rng, low, high) -> timedelta:
    return timedelta(hours=rng.uniform(low, high))


class Seeder:
    def __init__(self, *, cases: int, rng: random.Random):
        from django.utils import timezone

        self.n = cases
        self.rng = rng
        self.now = timezone.now().astimezone(dt_timezone.utc)

    # People, groups, tokens, policies: few rows, through the ORM.

    def people(self):
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.contrib.auth.hashers import make_password
        from rest_framework.authtoken.models import Token

        from disputes.models import AgentStatus
        from disputes.roles import MARKETPLACE_INTEGRATIONS, SENIOR_AGENTS, SUPPORT_AGENTS
        from disputes.services._common import system_user

        User = get_user_model()
        if User.objects.filter(username="bench-buyer").exists():
            sys.exit("This database already holds bench data: run with --reset to seed it again.")
        self.system = system_user()
        hashed = make_password(PASSWORD)

        def person(username, first, last, groups=(), staff=False, superuser=False):
            user = User.objects.create(
                username=username, first_name=first, last_name=last, email=f"{username}@bench.example",
                password=hashed, is_staff=staff or bool(groups), is_superuser=superuser,
            )
            user.groups.set(Group.objects.filter(name__in=groups))
            return user

        self.buyer = person("bench-buyer", "Bea", "Buyer")
        self.seller = person("bench-seller", "Sam", "Seller")
        self.agent = person("bench-agent", "Ada", "Agent", [SUPPORT_AGENTS])
        self.senior = person("bench-senior", "Sid", "Senior", [SENIOR_AGENTS])
        self.admin = person("bench-admin", "Abe", "Admin", staff=True, superuser=True)
        service = User.objects.create(username="bench-marketplace", first_name="Marketplace", last_name="(API)",
                                      password=make_password(None))
        service.groups.set(Group.objects.filter(name=MARKETPLACE_INTEGRATIONS))
        # Fixed keys: a reseed keeps the benchmark scripts' tokens valid.
        self.tokens = {}
        for user in (self.buyer, service):
            key = hashlib.sha1(f"desk-bench-token:{user.username}".encode()).hexdigest()
            Token.objects.create(user=user, key=key)
            self.tokens[user.username] = key

        # The crowd: unusable passwords, one COPY.
        n_buyers, n_sellers, n_agents = max(self.n // 5, 10), max(self.n // 50, 3), 20
        users = Table(User, ["id", "username", "first_name", "last_name", "email", "password", "is_staff",
                             "is_active", "is_superuser", "date_joined"], self.now)
        ids = Ids(self.cursor)
        made = {"b": [], "s": [], "a": []}
        first = ["Alex", "Sam", "Kim", "Noa", "Ines", "Jon", "Mia", "Lea", "Tom", "Ana"]
        for prefix, count in (("b", n_buyers - 1), ("s", n_sellers - 1), ("a", n_agents - 2)):
            for i in range(count):
                pk = ids.take(User._meta.db_table)
                name = f"bench-{prefix}{i}"
                users.add(pk, name, first[i % 10], f"{prefix.upper()}{i}", f"{name}@bench.example", "!bench",
                          prefix == "a", True, False, self.now - timedelta(days=800))
                made[prefix].append(pk)
        users.flush(self.cursor)
        self.cursor.execute(f"SELECT setval(pg_get_serial_sequence('{User._meta.db_table}', 'id'), "
                            f"(SELECT max(id) FROM {User._meta.db_table}))")
        agents_group = Group.objects.get(name=SUPPORT_AGENTS)
        agents_group.user_set.add(*made["a"])
        self.buyers = [self.buyer.pk] + made["b"]
        self.sellers = [self.seller.pk] + made["s"]
        self.agents = [self.agent.pk, self.senior.pk] + made["a"]
        AgentStatus.objects.bulk_create(
            [AgentStatus(agent_id=pk, is_available=pk != self.senior.pk) for pk in self.agents]
        )
        return users.total + 6

    def policies(self):
        from policies.models import Policy
        from policies.selectors import policy_current_version
        from policies.services import policy_save

        started = self.now - timedelta(days=800)
        disputes = policy_save(
            policy=Policy(slug="disputes", title="Buyer protection and disputes", kind=Policy.Kind.DISPUTES,
                          body="How disputes are handled.\n\nSellers answer within 72 hours.",
                          is_published=True, effective_from=started),
            actor=self.admin, reason="Bench policy",
        )
        for slug, title, kind in (("returns", "Returns", Policy.Kind.RETURNS),
                                  ("refunds", "Refunds", Policy.Kind.REFUNDS),
                                  ("conduct", "Conduct", Policy.Kind.CONDUCT)):
            policy_save(policy=Policy(slug=slug, title=title, kind=kind, body="Bench text.", is_published=True,
                                      effective_from=started), actor=self.admin, reason="Bench policy")
        self.rules = policy_current_version(policy=disputes)

    # Cases: walked along their state machine, written with COPY.

    def run(self) -> dict:
        from django.db import connection, transaction

        began = time.perf_counter()
        with connection.cursor() as django_cursor:
            self.cursor = django_cursor.cursor  # the psycopg cursor underneath
            people = self.people()
            self.policies()
            self.tables = self.make_tables()
            self.ids = Ids(self.cursor)
            plan = self.plan_parties()
            # One transaction: a failed load leaves the schema and the data as they were.
            with transaction.atomic():
                rebuild = detach_indexes(self.cursor, [t.name for t in self.tables.values()])
                for start in range(0, self.n, CHUNK):
                    for i in range(start, min(start + CHUNK, self.n)):
                        self.one_case(i, *plan[i])
                    for table in self.tables.values():
                        table.flush(self.cursor)
                    print(f"  {min(start + CHUNK, self.n):>10,} cases  {time.perf_counter() - began:7.1f} s",
                          flush=True)
                loaded = time.perf_counter()
                for statement in rebuild:
                    self.cursor.execute(statement)
                print(f"  indexes and constraints rebuilt and checked in {time.perf_counter() - loaded:.1f} s")
            for table in self.tables.values():
                if table.model._meta.pk.get_internal_type() in ("AutoField", "BigAutoField"):
                    pk = table.model._meta.pk.column
                    self.cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{pk}'), "
                        f"coalesce((SELECT max({pk}) FROM {table.name}), 1))"
                    )
            seeded = time.perf_counter() - began
            self.cursor.execute("ANALYZE")
            self.cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            size = self.cursor.fetchone()[0]
            self.cursor.execute(
                "SELECT id FROM disputes_case WHERE buyer_id = %s ORDER BY id LIMIT 1", [self.buyer.pk]
            )
            sample = self.cursor.fetchone()[0]
        rows = {"auth_user (and people)": people}
        rows.update({t.name: t.total for t in self.tables.values()})
        total = sum(rows.values())
        return {
            "cases": self.n,
            "database": connection.settings_dict["NAME"],
            "seconds": round(seeded, 1),
            "rows_per_second": int(total / seeded) if seeded else 0,
            "database_size": size,
            "rows": rows,
            "total_rows": total,
            "password": PASSWORD,
            "logins": {"buyer": "bench-buyer", "seller": "bench-seller", "agent": "bench-agent",
                       "senior": "bench-senior", "admin": "bench-admin"},
            "tokens": self.tokens,
            "sample": {"buyer_case": f"MS-{sample:06d}"},
        }

    def make_tables(self) -> dict:
        from disputes.models import (Case, Decision, Evidence, Message, Notification, Offer, Order,
                                     RefundInstruction)
        from feedback.models import SurveyResponse

        now = self.now
        HistoricalCase = Case.history.model
        HistoricalOrder = Order.history.model
        case_fields = [f.attname for f in Case._meta.concrete_fields]
        self.case_fields = case_fields
        self.case_values = operator.itemgetter(*case_fields)
        history_extra = ["history_id", "history_date", "history_change_reason", "history_type", "history_user_id"]
        return {
            "order": Table(Order, ["id", "external_id", "buyer_id", "seller_id", "item_title", "amount", "status",
                                   "carrier", "tracking_number", "placed_at", "shipped_at", "delivered_at",
                                   "created_at", "updated_at"], now),
            "order_history": Table(HistoricalOrder, ["id", "external_id", "buyer_id", "seller_id", "item_title",
                                                     "amount", "status", "carrier", "tracking_number", "placed_at",
                                                     "shipped_at", "delivered_at", "created_at", "updated_at",
                                                     "history_id", "history_date", "history_type"], now),
            "case": Table(Case, case_fields, now),
            "case_history": Table(HistoricalCase, case_fields + history_extra, now),
            "offer": Table(Offer, ["id", "case_id", "made_by_id", "made_by_role", "kind", "amount", "status",
                                   "seller_answer", "buyer_answer", "created_at", "answered_at"], now),
            "decision": Table(Decision, ["id", "case_id", "stage", "outcome", "amount", "rationale", "decided_by_id",
                                         "decided_at"], now),
            "refund": Table(RefundInstruction, ["id", "case_id", "amount", "currency", "idempotency_key", "status",
                                                "created_at", "attempts", "sent_at"], now),
            "message": Table(Message, ["id", "case_id", "author_id", "body", "is_internal", "created_at"], now),
            "evidence": Table(Evidence, ["id", "case_id", "uploaded_by_id", "file", "original_name", "content_type",
                                         "size", "sha256", "created_at"], now),
            "notification": Table(Notification, ["id", "recipient_id", "case_id", "event", "text", "created_at",
                                                 "read_at"], now),
            "survey": Table(SurveyResponse, ["id", "case_id", "respondent_id", "score", "created_at"], now),
        }

    def plan_parties(self) -> list[tuple]:
        """(final state, buyer, seller) per case: the known buyer gets ~20 cases in every state,
        the known seller ~50, the rest is spread at random."""
        rng = self.rng
        states = [s for s, _ in FINAL_STATES]
        weights = [w for _, w in FINAL_STATES]
        buyer_every = max(self.n // 20, 1)
        seller_every = max(self.n // 50, 1)
        buyers, sellers = self.buyers[1:], self.sellers[1:]  # the crowd, without the known pair
        plan = []
        for i, state in enumerate(rng.choices(states, weights, k=self.n)):
            buyer = rng.choice(buyers)
            seller = rng.choice(sellers)
            if i % buyer_every == buyer_every // 2:
                buyer, state = self.buyer.pk, BUYER_STATES[(i // buyer_every) % len(BUYER_STATES)]
            if i % seller_every == 1:
                seller = self.seller.pk
            plan.append((state, buyer, seller))
        return plan

    def path(self, final: str) -> list[str]:
        rng = self.rng
        resolutions = [["make_offer", "accept_offer"], ["accept_claim"], ["escalate", "claim", "decide"],
                       ["accept_claim_return", "confirm_return"]]
        if final == "open":
            return []
        if final == "awaiting_buyer":
            return [rng.choice(["make_offer", "decline_claim"])]
        if final == "escalated":
            return rng.choice([["escalate"], ["decline_claim", "escalate"]])
        if final == "in_mediation":
            return ["escalate", "claim"]
        if final == "awaiting_return":
            return ["accept_claim_return"]
        if final == "resolved":
            return rng.choices(resolutions, [35, 25, 30, 10])[0]
        if final == "appealed":
            return ["escalate", "claim", "decide", "appeal"]
        if final == "withdrawn":
            return rng.choice([["withdraw"], ["escalate", "withdraw"]])
        # closed
        roll = rng.random()
        if roll < 0.06:
            return ["escalate", "claim", "decide", "appeal", "appeal_claim", "decide_appeal"]
        if roll < 0.16:
            return ["decline_claim", "close_inactive"]
        return rng.choices(resolutions, [35, 25, 30, 10])[0] + ["close"]

    def one_case(self, i: int, final: str, buyer: int, seller: int):
        rng, t, rules = self.rng, self.tables, self.rules
        steps = self.path(final)
        case_id = self.ids.take("disputes_case")
        order_id = self.ids.take("disputes_order")
        amount = Decimal(rng.choice([12, 25, 40, 60, 90, 150, 320])) + Decimal(rng.choice(["0.00", "0.50", "0.99"]))
        requested = "return_and_refund" if "accept_claim_return" in steps else rng.choice(
            ["full_refund", "full_refund", "partial_refund", "replacement"] if "accept_claim" not in steps
            else ["full_refund"])
        claimed = amount if requested != "partial_refund" else (amount / 2).quantize(Decimal("0.01"))

        # Times: walk forward from filing, then shift so the last step lands where the final
        # state belongs (long ago for finished cases, the last hours for cases in flight).
        deltas, at = [], timedelta(0)
        for step in steps:
            if step == "escalate":
                at += timedelta(hours=rules.buyer_wait_hours) + hours(rng, 0, 24)
            elif step == "close":
                at += timedelta(days=rules.appeal_window_days, minutes=5)
            elif step == "close_inactive":
                at += timedelta(hours=rules.offer_response_hours, minutes=5)
            elif step == "confirm_return":
                at += hours(rng, 72, 240)
            else:
                at += hours(rng, 1, 48)
            deltas.append(at)
        if final in ("closed", "withdrawn"):
            end = self.now - timedelta(days=rng.uniform(1, 720))
        elif final in ("resolved", "appealed"):
            end = self.now - hours(rng, 1, rules.appeal_window_days * 24 - 24)
        else:
            end = self.now - hours(rng, 0.1, 20)
        filed = end - at
        placed = filed - timedelta(days=rng.uniform(5, 25))
        shipped, delivered = placed + timedelta(days=1), placed + timedelta(days=3)

        t["order"].add(order_id, f"BENCH-{order_id:08d}", buyer, seller, f"Bench item {i % 977}", amount,
                       "delivered", "DHL", f"JD{order_id:014d}", placed, shipped, delivered, placed, delivered)
        t["order_history"].add(order_id, f"BENCH-{order_id:08d}", buyer, seller, f"Bench item {i % 977}", amount,
                               "delivered", "DHL", f"JD{order_id:014d}", placed, shipped, delivered, placed,
                               delivered, self.ids.take("disputes_historicalorder", "history_id"), placed, "+")

        c = {name: None for name in self.case_fields}
        c.update(
            id=case_id, order_id=order_id, buyer_id=buyer, seller_id=seller, state="open",
            reason=rng.choice(["not_received", "not_as_described", "damaged", "wrong_item", "other"]),
            requested_outcome=requested, amount_claimed=claimed, currency="EUR",
            description="The parcel arrived with a crushed corner and the item inside is scratched.",
            outcome="", policy_version_id=rules.history_id, return_carrier="", return_tracking_number="",
            filed_at=filed, updated_at=filed, buyer_last_active_at=filed,
            seller_answer_due_at=filed + timedelta(hours=rules.seller_answer_hours),
            buyer_may_escalate_at=filed + timedelta(hours=rules.buyer_wait_hours),
        )
        history = self.tables["case_history"]
        case_values = self.case_values
        history_ids = self.ids

        def snapshot(at, kind, user, reason):
            c["updated_at"] = at
            history.add(*case_values(c), history_ids.take("disputes_historicalcase", "history_id"), at, reason, kind,
                        user)

        snapshot(filed, "+", buyer, "Case filed")
        notices = [(seller, "filed", filed)]
        offer = None
        agent = None
        events_at = [filed]
        last_actor, last_event = buyer, "filed"

        def settle(outcome, refund, at):
            c["outcome"] = outcome
            c["refund_amount"] = refund if outcome in ("full_refund", "partial_refund", "return_and_refund") else None
            c["resolved_at"] = at
            c["appeal_until"] = at + timedelta(days=rules.appeal_window_days)
            c["state"] = "resolved"

        for step, delta in zip(steps, deltas):
            at = filed + delta
            actor = buyer
            if step == "make_offer":
                actor = seller
                c["state"] = "awaiting_buyer"
                c["seller_answered_at"] = c["seller_answered_at"] or at
                c["buyer_answer_due_at"] = at + timedelta(hours=rules.offer_response_hours)
                offer = [self.ids.take("disputes_offer"), case_id, seller, "seller", "partial_refund",
                         (claimed / 2).quantize(Decimal("0.01")), "pending", "", "", at, None]
            elif step == "decline_claim":
                actor = seller
                c["state"] = "awaiting_buyer"
                c["seller_answered_at"] = c["seller_answered_at"] or at
                c["seller_declined_at"] = at
                c["buyer_answer_due_at"] = at + timedelta(hours=rules.offer_response_hours)
            elif step == "accept_offer":
                offer[6], offer[8], offer[10] = "accepted", "accepted", at
                c["buyer_answer_due_at"] = None
                settle("partial_refund", offer[5], at)
            elif step == "accept_claim":
                actor = seller
                c["seller_answered_at"] = c["seller_answered_at"] or at
                kept = {"replacement", "partial_refund"}
                settle(requested if requested in kept else "full_refund", claimed, at)
            elif step == "accept_claim_return":
                actor = seller
                c["seller_answered_at"] = c["seller_answered_at"] or at
                c["outcome"], c["refund_amount"] = "return_and_refund", claimed
                c["return_due_at"] = at + timedelta(days=rules.return_shipping_days)
                c["state"] = "awaiting_return"
            elif step == "confirm_return":
                actor = seller
                c["return_carrier"], c["return_tracking_number"] = "DHL", f"RT{case_id:012d}"
                c["return_shipped_at"] = at - timedelta(days=2)
                settle("return_and_refund", claimed, at)
            elif step == "escalate":
                c["state"] = "escalated"
                c["escalated_at"] = at
                c["buyer_answer_due_at"] = None
                c["agent_decision_due_at"] = at + timedelta(hours=rules.agent_decision_hours)
            elif step == "claim":
                agent = rng.choice(self.agents[:1] * 2 + self.agents[2:])  # the known agent gets a fair share
                actor = c["agent_id"] = agent
                c["state"] = "in_mediation"
            elif step == "decide":
                actor = agent
                outcome = rng.choice(["full_refund", "partial_refund", "no_action", "no_action"])
                refund = claimed if outcome == "full_refund" else (claimed / 2).quantize(Decimal("0.01"))
                refund = None if outcome == "no_action" else refund
                settle(outcome, refund, at)
                t["decision"].add(self.ids.take("disputes_decision"), case_id, "mediation", outcome, refund,
                                  "The photos show the damage described in the listing.", agent, at)
            elif step == "appeal":
                c["state"] = "appealed"
                c["appealed_by_id"] = buyer
                c["agent_id"] = None
                c["agent_decision_due_at"] = at + timedelta(hours=rules.agent_decision_hours)
            elif step == "appeal_claim":
                actor = c["agent_id"] = self.senior.pk
            elif step == "decide_appeal":
                actor = self.senior.pk
                c["state"] = "closed"
                c["closed_at"] = at
                c["outcome"], c["refund_amount"] = "partial_refund", (claimed / 2).quantize(Decimal("0.01"))
                t["decision"].add(self.ids.take("disputes_decision"), case_id, "appeal", "partial_refund",
                                  c["refund_amount"], "Partly overturned on appeal.", actor, at)
            elif step in ("close", "close_inactive"):
                actor = self.system.pk
                c["state"] = "closed"
                c["closed_at"] = at
                c["buyer_answer_due_at"] = None
                if offer and offer[6] == "pending":
                    offer[6] = "lapsed"
            elif step == "withdraw":
                c["state"] = "withdrawn"
                c["closed_at"] = at
                if offer and offer[6] == "pending":
                    offer[6] = "lapsed"
            if actor == buyer:
                c["buyer_last_active_at"] = at
            snapshot(at, "~", actor, step.replace("_", " ").capitalize())
            events_at.append(at)
            last_actor, last_event = actor, step
        if offer:
            t["offer"].add(*offer)

        if c["refund_amount"] and c["state"] in ("resolved", "closed", "appealed"):
            t["refund"].add(self.ids.take("disputes_refundinstruction"), case_id, c["refund_amount"], "EUR",
                            f"bench-refund-{case_id}", "sent", c["resolved_at"], 1, c["resolved_at"])
        t["case"].add(*case_values(c))

        # A few messages, a photo on a quarter of the cases, the notices the parties got.
        end_at = events_at[-1]
        span = max((end_at - filed).total_seconds(), 3600)
        authors = [buyer, seller] + ([agent] if agent else [])
        for k in range(rng.choice([0, 1, 2, 2, 3, 3, 4, 6])):
            author = authors[k % len(authors)]
            t["message"].add(self.ids.take("disputes_message"), case_id, author,
                             f"Message {k + 1} about the order: could you check the photos again?",
                             author == agent and k % 2 == 1, filed + timedelta(seconds=span * (k + 1) / 8))
        if rng.random() < 0.25:
            t["evidence"].add(self.ids.take("disputes_evidence"), case_id, buyer, f"evidence/bench-{case_id}.jpg",
                              "damage.jpg", "image/jpeg", 184_320, hashlib.sha256(b"bench").hexdigest(), filed)
        if last_event != "filed":
            for recipient in (buyer, seller):
                if recipient != last_actor:
                    notices.append((recipient, last_event, end_at))
        read_before = self.now - timedelta(days=3)
        for recipient, event, at in notices:
            text = f"Case MS-{case_id:06d}: {event.replace('_', ' ')}."
            t["notification"].add(self.ids.take("disputes_notification"), recipient, case_id, event, text, at,
                                  at + timedelta(hours=2) if at < read_before else None)
        if c["state"] == "closed" and c["outcome"] and rng.random() < 0.3:
            t["survey"].add(self.ids.take("feedback_surveyresponse"), case_id, buyer, rng.randint(1, 5), end_at)


if __name__ == "__main__":
    main()
