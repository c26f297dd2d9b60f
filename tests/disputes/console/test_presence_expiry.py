"""Who else has a case open, when sockets end without saying so: a socket server killed (a deploy, a
crash) never runs its sockets' `disconnect`, and a socket closed with 1013 after the channel layer or
the database failed skips it. Their agents must not be shown "also viewing" for ever.

A live socket's server renews its agent's viewer row every `CaseViewer.RENEW_EVERY`; a row not
renewed for `CaseViewer.EXPIRES_AFTER` is not shown, on the case page or in a `presence` frame.
The clock is frozen (time-machine, `tick=False`) and moved by the tests; asyncio's own clock
(monotonic) is not, so the renewal timer runs in real time, shortened by the tests.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import OperationalError
from redis.exceptions import RedisError

from disputes import consumers, realtime
from disputes.models import CaseViewer
from tests.disputes.console.sockets import TIMEOUT, room, signed_in_client
from tests.disputes.portal.helpers import Page, text_of

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA, BEN = "Ana Lopez", "Ben Okafor"


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


def presence_on_page(user, case) -> str:
    """What the console's case page tells `user` about the other agents who have it open."""
    page = Page(signed_in_client(user).get(f"/console/cases/{case.reference}/"))
    return text_of(page.one("p", cls="presence"))


def rows_of(agent) -> list[CaseViewer]:
    return list(CaseViewer.objects.filter(agent=agent))


async def seen_at_becomes(agent, moment: datetime) -> None:
    """Wait until the agent's viewer row has been renewed at `moment` (the frozen clock's now)."""
    async with asyncio.timeout(TIMEOUT):
        while [row.seen_at for row in await database_sync_to_async(rows_of)(agent)] != [moment]:
            await asyncio.sleep(0.01)


async def test_agent_left_by_a_server_that_died_is_not_listed_once_the_row_expires(sockets, desk, clock):
    case, ana, ben = desk["case"], desk["agent"], desk["colleague"]
    # Ana's tab was on a server that was killed: its row stays, and nothing renews it.
    await database_sync_to_async(CaseViewer.objects.create)(
        case=case, agent=ana, channel_name="killed-server!ana", connected_at=NOW, seen_at=NOW
    )
    clock.move_to(NOW + CaseViewer.EXPIRES_AFTER, tick=False)  # just within the expiry
    assert await database_sync_to_async(presence_on_page)(ben, case) == f"Also open by: {ANA}."

    clock.move_to(NOW + CaseViewer.EXPIRES_AFTER + timedelta(seconds=1), tick=False)

    assert await database_sync_to_async(presence_on_page)(ben, case) == "No other agent has this case open."
    tab = await sockets(room(case), ben)
    assert await tab.receive() == {"type": "presence", "viewers": [BEN]}


async def test_agent_with_the_case_open_stays_listed_past_the_expiry_as_the_server_renews_the_row(
    sockets, desk, clock, monkeypatch
):
    monkeypatch.setattr(CaseViewer, "RENEW_EVERY", timedelta(seconds=0.05))
    case, ana, ben = desk["case"], desk["agent"], desk["colleague"]
    ana_tab = await sockets(room(case), ana)
    assert await ana_tab.receive() == {"type": "presence", "viewers": [ANA]}

    later = NOW + 10 * CaseViewer.EXPIRES_AFTER
    clock.move_to(later, tick=False)
    await seen_at_becomes(ana, later)

    assert await database_sync_to_async(presence_on_page)(ben, case) == f"Also open by: {ANA}."
    ben_tab = await sockets(room(case), ben)
    both = {"type": "presence", "viewers": [ANA, BEN]}
    assert await ben_tab.receive() == both and await ana_tab.receive() == both

    await ana_tab.disconnect()  # a closed tab is no longer renewed, nor shown
    assert await ben_tab.receive() == {"type": "presence", "viewers": [BEN]}
    assert await database_sync_to_async(rows_of)(ana) == []


class ChannelLayerFails:
    """The channel layer fails while one socket reads from it (as channels-redis raises when Redis
    goes away): a probe sent to that person's sockets is what their read gets instead of a message."""

    PROBE = "test.layer_fails"

    def __init__(self, monkeypatch):
        layer = get_channel_layer()
        self.layer = layer
        read = layer.receive

        async def receive(channel):
            message = await read(channel)
            if message["type"] == self.PROBE:
                raise RedisError("Connection reset by peer")
            return message

        monkeypatch.setattr(layer, "receive", receive)  # before the sockets open: each binds it then

    async def under(self, user) -> None:
        await self.layer.group_send(realtime.user_group(user.pk), {"type": self.PROBE})


async def test_socket_closed_with_1013_after_a_failure_leaves_the_viewers(sockets, desk, monkeypatch, caplog):
    case, ana, ben = desk["case"], desk["agent"], desk["colleague"]
    failure = ChannelLayerFails(monkeypatch)
    ben_tab = await sockets(room(case), ben)
    assert await ben_tab.receive() == {"type": "presence", "viewers": [BEN]}
    ana_tab = await sockets(room(case), ana)
    both = {"type": "presence", "viewers": [BEN, ANA]}
    assert await ana_tab.receive() == both and await ben_tab.receive() == both

    with caplog.at_level("WARNING", logger="disputes.consumers"):
        await failure.under(ana)
        assert await ana_tab.close_code() == consumers.TRY_AGAIN_LATER == 1013

        # The database is up: Ana's row goes at once and Ben is told, not left to the expiry.
        assert await ben_tab.receive() == {"type": "presence", "viewers": [BEN]}
    assert await database_sync_to_async(rows_of)(ana) == []
    assert await database_sync_to_async(presence_on_page)(ben, case) == "No other agent has this case open."
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].startswith("Closing a socket: the channel layer or the database failed")


async def test_socket_closed_with_1013_while_the_database_is_down_too_is_logged_and_its_row_expires(
    sockets, desk, clock, monkeypatch, caplog
):
    monkeypatch.setattr(CaseViewer, "RENEW_EVERY", timedelta(seconds=0.05))
    case, ana, ben = desk["case"], desk["agent"], desk["colleague"]
    failure = ChannelLayerFails(monkeypatch)
    ben_tab = await sockets(room(case), ben)  # open throughout: this server goes on renewing rows
    assert await ben_tab.receive() == {"type": "presence", "viewers": [BEN]}
    ana_tab = await sockets(room(case), ana)
    assert await ana_tab.receive() == {"type": "presence", "viewers": [BEN, ANA]}

    def database_down(**kwargs):
        raise OperationalError("connection refused")

    with monkeypatch.context() as outage, caplog.at_level("WARNING", logger="disputes.consumers"):
        outage.setattr(consumers, "viewer_leave", database_down)
        await failure.under(ana)
        assert await ana_tab.close_code() == 1013
        await ana_tab.ws.wait(TIMEOUT)  # the socket ends, raising nothing

    assert "A socket could not leave cleanly" in caplog.text and "connection refused" in caplog.text
    [left_behind] = await database_sync_to_async(rows_of)(ana)
    assert await database_sync_to_async(presence_on_page)(ben, case) == f"Also open by: {ANA}."

    later = NOW + CaseViewer.EXPIRES_AFTER + timedelta(seconds=1)
    clock.move_to(later, tick=False)
    await seen_at_becomes(ben, later)  # a renewal round has run since: Ana's row was not in it

    assert [row.seen_at for row in await database_sync_to_async(rows_of)(ana)] == [NOW]
    assert await database_sync_to_async(presence_on_page)(ben, case) == "No other agent has this case open."
