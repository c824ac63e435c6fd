"""WebSocket over HTTP/2 (RFC 8441) with python-hyper's h2 (Debian python3-h2).

Usage: h2_websocket_client.py HOST PORT [SUFFIX]

SUFFIX is appended to the echo and chat paths ("-goroutine" selects the apps' goroutine
mode in the eventloop tests; without it they run in event mode).

One h2c connection (prior knowledge) carries, side by side: an extended CONNECT to
the echo app (text and binary frames, masked and built here, a ping, the closing
handshake ending the stream), a GET of /chat.html on another stream while the
WebSocket is open, two chat members broadcasting to each other, and malformed or
refused extended CONNECTs, each checked for its answer. Prints "OK" and a summary, or
fails with an assertion.
"""

import os
import socket
import struct
import sys

import h2.config
import h2.connection
import h2.events
import h2.settings

host, port = sys.argv[1], int(sys.argv[2])
suffix = sys.argv[3] if len(sys.argv) > 3 else ""
sock = socket.create_connection((host, port), timeout=10)
conn = h2.connection.H2Connection(config=h2.config.H2Configuration(
    client_side=True, header_encoding="utf-8", validate_outbound_headers=False,
    normalize_outbound_headers=False, validate_inbound_headers=True))
conn.initiate_connection()
sock.sendall(conn.data_to_send())

headers = {}    # stream id -> list of response header lists (informational first)
data = {}       # stream id -> bytes received
ended = set()   # streams the server ended
resets = {}     # stream id -> error code
settings = {}


def pump(until, what):
    """Reads and handles events until until() is true."""
    while not until():
        chunk = sock.recv(65536)
        assert chunk, "connection closed while waiting for " + what
        for ev in conn.receive_data(chunk):
            if isinstance(ev, h2.events.RemoteSettingsChanged):
                for code, change in ev.changed_settings.items():
                    settings[int(code)] = change.new_value
            elif isinstance(ev, (h2.events.ResponseReceived, h2.events.InformationalResponseReceived)):
                headers.setdefault(ev.stream_id, []).append(dict(ev.headers))
            elif isinstance(ev, h2.events.DataReceived):
                data[ev.stream_id] = data.get(ev.stream_id, b"") + ev.data
                conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                ended.add(ev.stream_id)
            elif isinstance(ev, h2.events.StreamReset):
                resets[ev.stream_id] = int(ev.error_code)
        out = conn.data_to_send()
        if out:
            sock.sendall(out)


def frame(opcode, payload, fin=True):
    """A masked client frame (RFC 6455 5.2)."""
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def parse_frames(sid):
    """Splits the server frames (unmasked) received on sid so far; leaves the rest."""
    buf, frames = data.get(sid, b""), []
    while len(buf) >= 2:
        op, n, off = buf[0] & 0x0F, buf[1] & 0x7F, 2
        assert buf[1] & 0x80 == 0, "server frame is masked"
        if n == 126:
            if len(buf) < 4:
                break
            n, off = struct.unpack("!H", buf[2:4])[0], 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, off = struct.unpack("!Q", buf[2:10])[0], 10
        if len(buf) < off + n:
            break
        frames.append((op, buf[off:off + n]))
        buf = buf[off + n:]
    data[sid] = buf
    return frames


def next_frame(sid):
    got = []

    def have():
        got.extend(parse_frames(sid))
        return bool(got)
    pump(have, "a frame on stream %d" % sid)
    return got[0]


def connect(path, extra=(), protocol="websocket", drop=()):
    sid = conn.get_next_available_stream_id()
    hdrs = [(":method", "CONNECT"), (":protocol", protocol), (":scheme", "http"),
            (":path", path), (":authority", "%s:%d" % (host, port)),
            ("sec-websocket-version", "13")] + list(extra)
    hdrs = [h for h in hdrs if h[0] not in drop]
    conn.send_headers(sid, hdrs, end_stream=False)
    sock.sendall(conn.data_to_send())
    return sid


def status(sid):
    pump(lambda: sid in headers or sid in resets, "the answer of stream %d" % sid)
    # A refusal may be followed by RST_STREAM NO_ERROR (RFC 9113 8.1): the client's
    # side is still open when the answer is complete.
    assert sid in headers and resets.get(sid, 0) == 0, "stream %d reset: %s" % (sid, resets.get(sid))
    return headers[sid][-1][":status"]


def send_ws(sid, b):
    """Sends b on sid in DATA frames, within the frame size and the server's windows."""
    while b:
        n = min(len(b), conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
        if n == 0:
            pump(lambda: conn.local_flow_control_window(sid) > 0, "a window on stream %d" % sid)
            continue
        conn.send_data(sid, b[:n])
        sock.sendall(conn.data_to_send())
        b = b[n:]


# The server advertises extended CONNECT before the client may use it (RFC 8441 3).
pump(lambda: 8 in settings, "SETTINGS_ENABLE_CONNECT_PROTOCOL")
assert settings[8] == 1, settings

# The echo app, with a subprotocol offer it ignores.
ws = connect("/ws" + suffix, [("sec-websocket-protocol", "chat")])
assert status(ws) == "200", headers[ws]

# Another stream on the same connection while the WebSocket is open.
get = conn.get_next_available_stream_id()
conn.send_headers(get, [(":method", "GET"), (":scheme", "http"), (":path", "/chat.html"),
                        (":authority", host)], end_stream=True)
sock.sendall(conn.data_to_send())
send_ws(ws, frame(0x1, "hello over h2 ✓".encode()))
assert next_frame(ws) == (0x1, "hello over h2 ✓".encode())
pump(lambda: get in ended, "the GET beside the WebSocket")
assert headers[get][-1][":status"] == "200" and b"<html" in data[get].lower(), headers[get]
assert ws not in ended

binary = bytes(range(256)) * 300  # 76.8 KB: more than the initial stream window
send_ws(ws, frame(0x2, binary))
assert next_frame(ws) == (0x2, binary)

# A fragmented text message.
send_ws(ws, frame(0x1, b"frag", fin=False) + frame(0x0, b"mented"))
assert next_frame(ws) == (0x1, b"fragmented")

send_ws(ws, frame(0x9, b"are you there"))
assert next_frame(ws) == (0xA, b"are you there"), "no pong"

# Chat: two members on two streams of the same connection.
a = connect("/chat" + suffix)
b = connect("/chat" + suffix)
assert status(a) == "200" and status(b) == "200"
send_ws(a, frame(0x1, b"hi from a"))
assert next_frame(a) == (0x1, b"hi from a")
assert next_frame(b) == (0x1, b"hi from a")
send_ws(b, frame(0x1, b"hi from b"))
assert next_frame(a) == (0x1, b"hi from b")
assert next_frame(b) == (0x1, b"hi from b")

# The closing handshake: the server echoes the code and ends the stream.
for sid in (ws, a, b):
    send_ws(sid, frame(0x8, struct.pack("!H", 1000) + b"bye"))
    op, payload = next_frame(sid)
    assert op == 0x8 and struct.unpack("!H", payload[:2])[0] == 1000, (op, payload)
    pump(lambda: sid in ended, "END_STREAM after the close")
    conn.end_stream(sid)
    sock.sendall(conn.data_to_send())

# Refused and malformed extended CONNECTs.
bad = connect("/ws", drop=(":path",))
pump(lambda: bad in resets, "RST_STREAM of a CONNECT without :path")
assert resets[bad] == 1, resets  # PROTOCOL_ERROR
bad = connect("/ws", drop=(":scheme",))
pump(lambda: bad in resets, "RST_STREAM of a CONNECT without :scheme")
assert resets[bad] == 1, resets
other = connect("/ws", protocol="connect-udp")
assert status(other) == "501", headers[other]
old = connect("/ws", drop=("sec-websocket-version",))
assert status(old) == "426", headers[old]
deny = connect("/deny")
assert status(deny) == "403", headers[deny]
pump(lambda: deny in ended or deny in resets, "the end of the 403")
denial = connect("/denial")
assert status(denial) == "401", headers[denial]
pump(lambda: denial in ended or denial in resets, "the end of the denial")
assert data[denial] == b"no entry", data[denial]

# The connection still serves after all that.
last = connect("/ws" + suffix)
assert status(last) == "200"
send_ws(last, frame(0x1, b"still here"))
assert next_frame(last) == (0x1, b"still here")
conn.close_connection()
sock.sendall(conn.data_to_send())
print("OK streams=%d" % last)
