"""The Python peers' application: the same routes as asgo's demo app, written once as an
ASGI app (for uvicorn, hypercorn and daphne) and once as a WSGI app (for gunicorn and uWSGI).

Routes: GET / -> "Hello, World!" (text/plain); POST /echo -> the request body;
WebSocket /ws -> every message echoed back (ASGI only).
"""

HELLO = b"Hello, World!"
HELLO_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"13")]


async def asgi(scope, receive, send):
    kind = scope["type"]
    if kind == "http":
        await _http(scope, receive, send)
    elif kind == "websocket":
        await _websocket(receive, send)
    elif kind == "lifespan":
        await _lifespan(receive, send)


async def _http(scope, receive, send):
    if scope["path"] == "/echo":
        body = await _read_body(receive)
        headers = [(b"content-type", b"application/octet-stream"),
                   (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    if scope["path"] != "/":
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})
        return
    # The (empty) request body is drained first: hypercorn 0.13 closes a keep-alive
    # connection whose request the app did not read to its end.
    await _read_body(receive)
    await send({"type": "http.response.start", "status": 200, "headers": HELLO_HEADERS})
    await send({"type": "http.response.body", "body": HELLO})


async def _read_body(receive):
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b""
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _websocket(receive, send):
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif kind == "websocket.receive":
            if message.get("bytes") is not None:
                await send({"type": "websocket.send", "bytes": message["bytes"]})
            else:
                await send({"type": "websocket.send", "text": message["text"]})
        else:
            return


async def _lifespan(receive, send):
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def wsgi(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/echo":
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        start_response("200 OK", [("Content-Type", "application/octet-stream"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if path != "/":
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [HELLO]


application = wsgi
