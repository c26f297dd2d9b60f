"""The load run of `bench/load.py`, small enough for CI: ten people for ten seconds at once on two
ASGI workers (PostgreSQL + Redis), then nothing may be lost, doubled or left in an impossible state."""

import asyncio
import os

import pytest

from bench.harness import Server
from bench.load import SERVER_ENV, check, print_report, seed, simulate
from tests.reliability.conftest import NEEDS_POSTGRES, NEEDS_REDIS, database_url_for_servers

pytestmark = [pytest.mark.postgres, pytest.mark.redis, NEEDS_POSTGRES, NEEDS_REDIS, pytest.mark.django_db(transaction=True)]

USERS, SECONDS = 10, 10


def test_ten_people_for_ten_seconds_lose_nothing_and_break_nothing():
    population = seed(USERS, prefix="ci")
    with Server(
        "asgi", workers=2, database_url=database_url_for_servers(), redis_url=os.environ["REDIS_URL"], env=SERVER_ENV
    ) as server:
        traffic = asyncio.run(simulate(population, base_url=server.url, ws_url=server.ws_url, seconds=SECONDS))
        log = server.output()
    report = check(traffic)
    print_report(traffic, report)  # shown when the test fails
    print(log)

    assert traffic.server_errors() == 0
    assert report.transport_errors == 0
    writes = sum(n for (kind, status), n in traffic.statuses.items() if kind.startswith(("transition", "file")))
    assert writes > 0 and report.messages["accepted"] >= USERS, "the load did too little to prove anything"
    assert report.messages["lost"] == report.messages["doubled"] == report.messages["refused but stored"] == 0
    assert report.delivery["missing"] == 0 and report.delivery["live"] > 0, report.delivery
    assert report.violations == []
