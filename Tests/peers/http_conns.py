#!/usr/bin/env python3
"""An HTTP/1.1 peer for the client's connection handling, on raw sockets so that it can misbehave
at the byte level: it numbers its connections and says which one each request came on, and on
demand closes a kept-alive connection, cuts a body short, sends trailers, interim responses or an
HTTP/1.0 reply. Loopback only: http_conns.py PORT

  GET /conn         {"conn": N, "n": K}: the request came as the K-th on connection N
  GET /stats        {"accepts": N, "requests": {"GET /conn": K, ...}}
  GET /close-after  answers (keep-alive by its head), then closes the connection
  GET /drop-next    answers; the NEXT request on this connection is read, never answered, and
                    the connection closed (a server that closed an idle connection as it came in)
  GET /short        Content-Length: 1000, 10 bytes, close
  GET /chunked-short  a chunked body cut off in its second chunk
  GET /trailers     a chunked body with chunk extensions and trailer fields
  GET /continue     100 Continue and 102 Processing before the final response
  GET /http10       an HTTP/1.0 response without Content-Length, delimited by the close
  GET /close-token  "Connection: Keep-Alive ,  CLOSE " (tokens in other case and spacing), yet the
                    connection is left open: a client must not send on it again
  GET /http10-keep  an HTTP/1.0 response with Content-Length and "Connection:  Keep-Alive"
  GET /chunked-list "Transfer-Encoding:  Chunked , " (a list with an empty element) and a chunked body
"""
import json, socket, sys, threading

lock = threading.Lock()
stats = {"accepts": 0, "requests": {}}


def read_request(f):
    line = f.readline(65536)
    while line in (b"\r\n", b"\n"):
        line = f.readline(65536)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers = {}
    while True:
        h = f.readline(65536)
        if h in (b"\r\n", b"\n", b""):
            break
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length") or 0)
    body = f.read(n) if n else b""
    return method, target, headers, body


def respond(conn, status, body, headers=()):
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    conn.sendall(head.encode() + body)


def serve(conn, cid):
    f = conn.makefile("rb")
    n = 0
    drop_next = False
    try:
        while True:
            req = read_request(f)
            if req is None:
                break
            method, target, headers, body = req
            n += 1
            path = target.split("?", 1)[0]
            with lock:
                key = f"{method} {path}"
                stats["requests"][key] = stats["requests"].get(key, 0) + 1
            if drop_next:
                break
            if path == "/conn":
                respond(conn, "200 OK", json.dumps({"conn": cid, "n": n}).encode(), [("Content-Type", "application/json")])
            elif path == "/stats":
                with lock:
                    out = json.dumps(stats).encode()
                respond(conn, "200 OK", out, [("Content-Type", "application/json")])
            elif path == "/close-after":
                respond(conn, "200 OK", b"bye")
                break
            elif path == "/drop-next":
                respond(conn, "200 OK", b"armed")
                drop_next = True
            elif path == "/short":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 10)
                break
            elif path == "/chunked-short":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc")
                break
            elif path == "/trailers":
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
                             b"5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Sum: 12\r\nX-More: yes\r\n\r\n")
            elif path == "/continue":
                conn.sendall(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n")
                respond(conn, "200 OK", b"final")
            elif path == "/close-token":
                respond(conn, "200 OK", b"closing", [("Connection", "Keep-Alive ,  CLOSE ")])
            elif path == "/http10-keep":
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: 4\r\nConnection:  Keep-Alive\r\n\r\nkept")
            elif path == "/chunked-list":
                conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding:  Chunked , \r\n\r\n5\r\nhello\r\n0\r\n\r\n")
            elif path == "/http10":
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the close")
                break
            else:
                respond(conn, "404 Not Found", b"no such path")
    except OSError:
        pass
    finally:
        f.close()
        conn.close()


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", int(sys.argv[1])))
    s.listen(64)
    while True:
        conn, _ = s.accept()
        with lock:
            stats["accepts"] += 1
            cid = stats["accepts"]
        threading.Thread(target=serve, args=(conn, cid), daemon=True).start()


if __name__ == "__main__":
    main()
