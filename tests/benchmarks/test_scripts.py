"""The benchmark scripts still run, the way the README runs them, at a size CI can afford.

Each runs as a person runs it, in a process of its own, on databases of its own (never the ones a
full run keeps), and writes its JSON to a temporary folder. What is checked is what the figures
rest on: every row seeded, every message stored and delivered, every due case escalated, every
page answered and beside its baseline. The speeds themselves are not: they belong to the machine.
"""

import json
import os

import psycopg
import pytest
from django.db import connection

from bench.harness import DEFAULT_REDIS_URL as PAGES_REDIS_URL  # its own database number, not the suite's
from tests.processes import run_python

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not os.environ.get("REDIS_URL"),
        reason="the scripts run on the PostgreSQL and Redis of 127.0.0.1: set DATABASE_URL (PostgreSQL) and REDIS_URL",
    ),
]

SERVER = "postgres://postgres@127.0.0.1:5432"  # where the scripts keep their databases
DATABASES = ["desk_ci_seed", "desk_ci_chat", "desk_ci_automation", "desk_pages_250"]  # pages.py names its own


@pytest.fixture(scope="module", autouse=True)
def databases_dropped_after():
    yield
    with psycopg.connect(f"{SERVER}/postgres", autocommit=True) as server:
        for name in DATABASES:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(script: str, *args: str, timeout: float = 300) -> str:
    # The scripts choose their own settings: the environment goes as it is, without the suite's.
    finished = run_python([f"bench/{script}", *args], env=dict(os.environ), timeout=timeout)
    assert finished.returncode == 0, f"bench/{script} failed:\n{finished.stdout[-3000:]}\n{finished.stderr[-3000:]}"
    return finished.stdout


def test_seed_fills_every_table_the_pages_read(tmp_path):
    url = f"{SERVER}/{DATABASES[0]}"

    output = run("seed.py", "--cases", "300", "--reset", "--no-json", "--database-url", url)

    with psycopg.connect(url) as seeded:
        cases, orders, history = seeded.execute(
            "SELECT (SELECT count(*) FROM disputes_case), (SELECT count(*) FROM disputes_order),"
            " (SELECT count(*) FROM disputes_historicalcase)"
        ).fetchone()
        states = dict(seeded.execute("SELECT state, count(*) FROM disputes_case GROUP BY state").fetchall())
    assert "300 cases" in output
    assert cases == orders == 300
    assert history >= cases  # every case has at least the step that opened it
    assert {"open", "closed", "in_mediation"} <= states.keys()


def test_chat_delivers_every_stored_message_beside_the_baseline(tmp_path):
    out = tmp_path / "chat.json"

    run(
        "chat.py", "--clients", "20", "--room-rate", "5", "--seconds", "2", "--echo-clients", "10",
        "--echo-seconds", "1", "--idle", "50", "--database-url", f"{SERVER}/{DATABASES[1]}", "--json", str(out),
    )  # fmt: skip

    figures = json.loads(out.read_text())
    (run_figures,) = figures["runs"]
    ours, baseline = run_figures["product"], run_figures["baseline"]
    assert ours["sent"] > 0 and ours["stored"] == ours["sent"] == ours["acked"]
    assert ours["lost"] == 0 and ours["deliveries"] == ours["expected_deliveries"]
    assert baseline["lost"] == 0 and baseline["deliveries"] == baseline["expected_deliveries"] > 0
    assert {echo["kind"] for echo in figures["echo"]} == {"baseline echo", "case room ping"}
    assert all(echo["round_trips"] > 0 for echo in figures["echo"])
    assert figures["idle"]["answering"] == figures["idle"]["sockets"] == 50


def test_automation_escalates_every_due_case_and_the_limit_too(tmp_path):
    out = tmp_path / "automation.json"

    run("automation.py", "--cases", "200", "--database-url", f"{SERVER}/{DATABASES[2]}", "--json", str(out))

    figures = json.loads(out.read_text())
    assert figures["process_deadlines"]["states_after"] == {"escalated": 200}
    assert figures["single_update"]["states_after"] == {"escalated": 200}
    assert 0 < figures["ratio"] < 1


def test_pages_answer_every_page_beside_its_baseline_on_both_servers(tmp_path):
    out = tmp_path / "pages.json"

    run(
        "pages.py", "--cases", "250", "--reseed", "--seconds", "1", "--rounds", "1", "--concurrency", "2",
        "--redis-url", PAGES_REDIS_URL, "--json", str(out), timeout=600,
    )  # fmt: skip

    (size,) = json.loads(out.read_text())["runs"]
    measured = {(result["server"], result["page"]) for result in size["results"]}
    pages = ("queue", "my-cases", "case-page", "api-list")
    assert measured == {(server, page) for server in ("asgi", "wsgi") for page in pages}
    for result in size["results"]:
        assert result["rows"] > 0, result  # the page showed the seeded cases, not an empty list
        assert result["ours"]["errors"] == result["baseline"]["errors"] == 0, result
        assert result["ours"]["requests"] > 0 and result["baseline"]["requests"] > 0, result
