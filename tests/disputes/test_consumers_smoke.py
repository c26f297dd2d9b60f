import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from disputes.services.conversation import message_post
from marketplace_support.asgi import application


def session_cookie(user) -> bytes:
    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}".encode()


async def communicator(path, user=None):
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        headers.append((b"cookie", await database_sync_to_async(session_cookie)(user)))
    return WebsocketCommunicator(application, path, headers=headers)


@pytest.mark.django_db(transaction=True)
async def test_case_socket_smoke(open_case_tx):
    case, buyer, seller = open_case_tx
    buyer_ws = await communicator(f"/ws/cases/{case.reference}/", buyer)
    connected, _ = await buyer_ws.connect()
    assert connected
    seller_ws = await communicator(f"/ws/cases/{case.reference}/", seller)
    assert (await seller_ws.connect())[0]
    await seller_ws.send_json_to({"type": "message.send", "body": "Hello there"})
    ack = await seller_ws.receive_json_from(timeout=3)
    frames = [ack, await seller_ws.receive_json_from(timeout=3)]
    got = await buyer_ws.receive_json_from(timeout=3)
    assert got["type"] == "message" and got["body"] == "Hello there"
    await buyer_ws.send_to(text_data="{not json")
    assert (await buyer_ws.receive_json_from())["code"] == "bad_json"
    await buyer_ws.disconnect(); await seller_ws.disconnect()


@pytest.fixture
def open_case_tx(transactional_db):
    from tests import factories
    factories.dispute_policy()
    case = factories.case()
    return case, case.buyer, case.seller
