"""A bare HTTP/2 client over TLS (Python's ssl, frames written and read by hand) for the tests of
`serve http`'s HTTP/2 frame path: it sends requests one stream at a time on ONE connection, can
rewrite a file between two of them, and reports for each stream the response's status (from the
HPACK static-table index of its first header: the server sends `:status` first, indexed), how the
answer was framed (its DATA frames, and whether END_STREAM came on the HEADERS or on a DATA frame
with a body: the frame path's shape, or on an empty DATA frame: the per-stream pipeline's) and the
body. No HPACK decoding beyond that first byte, so no third-party package.

usage: h2_raw_client.py PORT CAFILE STEP...   where STEP is
  GET:/path | HEAD:/path | WRITE:FILE:TEXT (rewrite FILE with TEXT, keeping it the same size or not)
prints one JSON line per request: {"path", "method", "status", "frames": ["H", "H!", "D1024", "D0!", ...], "body"}
"""
import json, os, socket, ssl, struct, sys, time

STATIC_STATUS = {8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500}


def literal(name, value):
    # Literal header field without indexing, new name (0x00), no Huffman.
    def s(b):
        assert len(b) < 127
        return bytes([len(b)]) + b
    return b"\x00" + s(name.encode()) + s(value.encode())


def frame(kind, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(">I", stream) + payload


def main():
    port, cafile, steps = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock = ctx.wrap_socket(raw, server_hostname="localhost")
    assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
    sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b""))
    buf = b""

    def read_frame():
        nonlocal buf
        while True:
            if len(buf) >= 9:
                n = int.from_bytes(buf[:3], "big")
                if len(buf) >= 9 + n:
                    kind, flags, stream = buf[3], buf[4], int.from_bytes(buf[5:9], "big") & 0x7FFFFFFF
                    payload, buf = buf[9:9 + n], buf[9 + n:]
                    return kind, flags, stream, payload
            chunk = sock.recv(65536)
            if not chunk:
                raise SystemExit("h2_raw_client: the server closed the connection")
            buf += chunk

    stream = 1
    deadline = time.time() + 20
    for step in steps:
        kind, _, rest = step.partition(":")
        if kind == "WRITE":
            path, _, text = rest.partition(":")
            with open(path, "w") as f:
                f.write(text)
            continue
        method, target = kind, rest
        block = (literal(":method", method) + literal(":scheme", "https") + literal(":path", target)
                 + literal(":authority", f"localhost:{port}") + literal("user-agent", "h2_raw_client"))
        sock.sendall(frame(1, 0x05, stream, block))   # HEADERS, END_STREAM | END_HEADERS
        out = {"path": target, "method": method, "status": None, "frames": [], "body": ""}
        body = b""
        while time.time() < deadline:
            k, flags, sid, payload = read_frame()
            if k == 4 and not flags & 1:
                sock.sendall(frame(4, 1, 0, b""))   # SETTINGS ack
                continue
            if k == 6 and not flags & 1:
                sock.sendall(frame(6, 1, 0, payload))   # PING ack
                continue
            if sid != stream:
                continue
            end = bool(flags & 1)
            if k == 1:
                p = payload
                if flags & 0x08:
                    p = p[1:len(p) - p[0]]
                if flags & 0x20:
                    p = p[5:]
                first = p[0]
                out["status"] = STATIC_STATUS.get(first & 0x7F) if first & 0x80 else None
                out["frames"].append("H" + ("!" if end else ""))
            elif k == 0:
                body += payload
                out["frames"].append(f"D{len(payload)}" + ("!" if end else ""))
                if payload:
                    # Give the window back, as a client does.
                    inc = struct.pack(">I", len(payload))
                    sock.sendall(frame(8, 0, 0, inc) + (b"" if end else frame(8, 0, stream, inc)))
            elif k == 3:
                out["frames"].append("RST")
                end = True
            if end:
                break
        out["body"] = body.decode("latin-1")
        print(json.dumps(out), flush=True)
        stream += 2
    sock.sendall(frame(7, 0, 0, struct.pack(">II", stream - 2, 0)))   # GOAWAY
    sock.close()


main()
