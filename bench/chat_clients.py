"""The chat benchmark's WebSocket clients: each one socket that sends at a steady rate and records
when each message frame reaches it."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import defaultdict, deque

from websockets.exceptions import ConnectionClosed


class Client:
    """One socket: sends at a steady rate, records each message frame it receives."""

    def __init__(self, index: int, room: int, url: str, headers):
        self.index, self.room, self.url, self.headers = index, room, url, headers
        self.socket = None
        self.process: str | None = None  # the server's worker that took the socket
        self.received: dict[str, float] = {}  # token → latency ms
        self.sent: list[str] = []
        self.acked = 0
        self.errors: dict[str, int] = defaultdict(int)
        self.last_receive = 0.0
        self.closing = False
        self.pongs: list[float] = []
        self._ping_sent: deque[float] = deque()  # answers come back in order on one socket

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        self.socket = await connect(
            self.url, additional_headers=self.headers, compression=None, ping_interval=None,
            max_queue=None, open_timeout=60, close_timeout=5,
        )  # fmt: skip
        self.process = self.socket.response.headers.get("x-bench-process")
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for text in self.socket:
                now = time.monotonic()
                frame = json.loads(text)
                kind = frame.get("type")
                if kind == "message":
                    parts = frame.get("body", "").split(" ")
                    if len(parts) == 3 and parts[0] == "bench":
                        self.received[parts[1]] = (now - float(parts[2])) * 1000
                        self.last_receive = now
                elif kind == "sent":
                    self.acked += 1
                elif kind == "pong":
                    if self._ping_sent:
                        self.pongs.append((now - self._ping_sent.popleft()) * 1000)
                elif kind == "error":
                    self.errors[frame.get("code", "?")] += 1
        except ConnectionClosed as closed:
            if not self.closing:
                self.errors[f"closed {closed.rcvd.code if closed.rcvd else 'abruptly'}"] += 1

    async def send_steadily(self, tag: str, rate: float, start: float, stop: float, broadcast: bool) -> None:
        interval = 1 / rate
        moment = start + random.random() * interval
        seq = 0
        while moment < stop:
            delay = moment - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            token = f"{tag}-{self.index}-{seq}"
            body = f"bench {token} {time.monotonic():.6f}"
            frame = {"type": "message", "body": body} if broadcast else {"type": "message.send", "body": body}
            try:
                await self.socket.send(json.dumps(frame))
            except ConnectionClosed:
                return  # counted by the reader; the room's other members still send
            self.sent.append(token)
            seq += 1
            moment += interval  # open loop: a late send does not push the next ones back

    async def ping_steadily(self, rate: float, start: float, stop: float, echo: bool) -> None:
        interval = 1 / rate
        moment = start + random.random() * interval
        # The case consumer answers a ping with {"type": "pong"}; the echo consumer returns the
        # frame as it is, so it is sent a pong.
        frame = json.dumps({"type": "pong" if echo else "ping"})
        while moment < stop:
            delay = moment - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._ping_sent.append(time.monotonic())
            try:
                await self.socket.send(frame)
            except ConnectionClosed:
                return
            moment += interval

    async def close(self) -> None:
        if self.socket is not None:
            self.closing = True
            await self.socket.close()
            await asyncio.gather(self.reader, return_exceptions=True)


async def open_all(clients: list[Client], concurrency: int = 25) -> float:
    gate = asyncio.Semaphore(concurrency)
    began = time.monotonic()

    async def one(client):
        async with gate:
            await client.connect()

    await asyncio.gather(*(one(c) for c in clients))
    return time.monotonic() - began


# Where each kind of client connects: the product's case room, the bare broadcast baseline, the echo.
ENDPOINTS = {
    "case": lambda index, room: f"/ws/cases/{room['reference']}/",
    "broadcast": lambda index, room: f"/ws/bench/broadcast/{room['case_id']}/",
    "echo": lambda index, room: f"/ws/bench/echo/{index}/",
}


def make_clients(ws_urls: list[str], rooms: list[dict], headers, n: int, room_size: int, endpoint: str) -> list[Client]:
    """`n` clients in rooms of `room_size` on `endpoint`, taking the servers in `ws_urls` in turn: with
    more than one, each room has members on every server, and they meet on the channel layer."""
    clients = []
    for index in range(n):
        room_index = index // room_size
        room = rooms[room_index]
        member = room["members"][index % room_size]
        url = ws_urls[index % len(ws_urls)] + ENDPOINTS[endpoint](room_index, room)
        clients.append(Client(index, room_index, url, headers[member]))
    return clients
