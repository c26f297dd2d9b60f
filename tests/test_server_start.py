"""How the servers start: the page and socket servers set what they loaded aside from the garbage
collector, so a full collection walks only what came after (it paused a busy chat worker ~90 ms),
and the socket server sends small frames without waiting."""

import pytest

from tests.processes import run_python


@pytest.mark.parametrize("module", ["marketplace_support.wsgi", "marketplace_support.asgi"])
def test_a_server_module_freezes_what_it_loaded(module):
    done = run_python(["-c", f"import gc, {module}; print(gc.get_freeze_count())"])
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 10_000  # Django and the desk's modules, not a handful


ACCEPT_AS_UVICORNS_WORKERS_DO = """
import asyncio, socket
{imports}

async def accepted_without_nagle():
    listener = socket.socket(socket.AF_INET)  # as uvicorn's supervisor binds it: no protocol named
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    loop = asyncio.get_running_loop()
    accepted = loop.create_future()

    class Protocol(asyncio.Protocol):
        def connection_made(self, transport):
            sock = transport.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    server = await loop.create_server(Protocol, sock=listener)
    _, writer = await asyncio.open_connection(*listener.getsockname())
    print(bool(await accepted))
    writer.close()
    server.close()

asyncio.run(accepted_without_nagle())
"""


@pytest.mark.parametrize(("imports", "nagle_off"), [("", False), ("import marketplace_support.asgi", True)])
def test_the_socket_server_sends_small_frames_at_once(imports, nagle_off):
    """Nagle's algorithm held a frame written right after another until the client's delayed ACK
    (~40 ms). Without the socket server's module, asyncio leaves it on for uvicorn's workers."""
    done = run_python(["-c", ACCEPT_AS_UVICORNS_WORKERS_DO.format(imports=imports)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[-1] == str(nagle_off)
