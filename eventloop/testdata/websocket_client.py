"""Independent WebSocket client for asgo's tests: Python's websockets package (Debian
python3-websockets) against the real server.

usage: websocket_client.py BASE_URL none|deflate [CA_FILE]

A wss:// BASE_URL is verified against CA_FILE.

It checks the echo app at /ws (text, binary, large and pipelined messages, ping, the
closing handshake, the negotiated extension) and the chat room at /chat (a message
reaches every member). It prints "OK ..." and exits 0, or prints the failure and exits 1.
"""
import asyncio
import ssl
import sys

import websockets

negotiated = ""
tls = {}  # the ssl= argument of websockets.connect for wss://


async def echo(base, compression):
    async with websockets.connect(base + "/ws", compression=compression, max_size=2**24, **tls) as ws:
        global negotiated
        negotiated = ws.response_headers.get("Sec-WebSocket-Extensions", "")
        names = [type(e).__name__ for e in ws.extensions]
        want = ["PerMessageDeflate"] if compression else []
        assert names == want, f"extensions {names}, want {want}"
        await ws.send("hello ✓")
        assert await ws.recv() == "hello ✓"
        await ws.send(b"\x00\x01\xff")
        assert await ws.recv() == b"\x00\x01\xff"
        big = ("asgo websocket " * 70000)[:1000000]
        await ws.send(big)
        assert await ws.recv() == big, "large text message differs"
        blob = bytes(range(256)) * 4096
        await ws.send(blob)
        assert await ws.recv() == blob, "large binary message differs"
        for i in range(500):
            await ws.send(f"msg {i}")
        for i in range(500):
            got = await ws.recv()
            assert got == f"msg {i}", f"pipelined message {i}: {got!r}"
        pong = await ws.ping(b"keepalive")
        await asyncio.wait_for(pong, 5)
        await ws.close(code=1000, reason="done")
        assert ws.close_code == 1000, f"close code {ws.close_code}"
    return 505


async def chat(base, compression):
    async with websockets.connect(base + "/chat", compression=compression, **tls) as a, \
            websockets.connect(base + "/chat", compression=compression, **tls) as b:
        await a.send("from a")
        assert await asyncio.wait_for(a.recv(), 5) == "from a"
        assert await asyncio.wait_for(b.recv(), 5) == "from a"
        await b.send(b"from b")
        assert await asyncio.wait_for(a.recv(), 5) == b"from b"
        assert await asyncio.wait_for(b.recv(), 5) == b"from b"
    return 2


async def main():
    base, mode = sys.argv[1], sys.argv[2]
    compression = "deflate" if mode == "deflate" else None
    if base.startswith("wss://"):
        tls["ssl"] = ssl.create_default_context(cafile=sys.argv[3])
    n = await echo(base, compression)
    m = await chat(base, compression)
    print(f"OK websockets {websockets.__version__} compression={mode}: {n} echoes, {m} broadcasts; "
          f"extensions: {negotiated!r}")


if __name__ == "__main__":
    try:
        asyncio.run(asyncio.wait_for(main(), 60))
    except Exception as e:  # report any failure as one line for the Go test
        print(f"FAIL {type(e).__name__}: {e}")
        sys.exit(1)
