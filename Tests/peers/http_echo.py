#!/usr/bin/env python3
"""A small HTTP/1.1 server for the HTTP client tests: echoes requests as JSON and misbehaves
on demand (stalls, early closes, huge header lines). Loopback only: http_echo.py PORT."""
import gzip, json, sys, threading, time, zlib
from email.parser import BytesParser
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit, parse_qs

flaky = {}
lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", ctype="text/plain; charset=utf-8", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def handle_any(self):
        u = urlsplit(self.path)
        path, q = u.path, parse_qs(u.query)
        data = self.body()
        if path == "/echo" and self.headers.get("Content-Type", "").startswith("application/json"):
            # The contract: a JSON body comes back as it was sent.
            self.send(200, data, "application/json")
        elif path in ("/echo", "/inspect") or path.startswith("/inspect/"):
            out = {"method": self.command, "target": self.path, "path": path, "query": u.query,
                   "args": {k: v[0] if len(v) == 1 else v for k, v in q.items()},
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": data.decode("utf-8", "replace"), "json": None, "form": {}, "files": {}}
            ct = self.headers.get("Content-Type", "")
            if ct.startswith("application/json"):
                out["json"] = json.loads(data)
            elif ct.startswith("application/x-www-form-urlencoded"):
                out["form"] = {k: v[0] for k, v in parse_qs(data.decode()).items()}
            elif ct.startswith("multipart/form-data"):
                msg = BytesParser(policy=policy.HTTP).parsebytes(b"Content-Type: " + ct.encode() + b"\r\n\r\n" + data)
                for part in msg.iter_parts():
                    name = part.get_param("name", header="content-disposition")
                    fn = part.get_filename()
                    content = part.get_payload(decode=True)
                    if fn is None:
                        out["form"][name] = content.decode()
                    else:
                        out["files"][name] = {"filename": fn, "type": part.get_content_type(), "content": content.decode("utf-8", "replace")}
            self.send(200, json.dumps(out).encode(), "application/json")
        elif path == "/setcookie":
            hs = [("Set-Cookie", f"{k}={v[0]}; Path=/") for k, v in q.items()]
            self.send(200, b"set", headers=hs)
        elif path == "/cookies":
            c = self.headers.get("Cookie", "")
            d = dict(p.strip().split("=", 1) for p in c.split(";") if "=" in p)
            self.send(200, json.dumps(d).encode(), "application/json")
        elif path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            self.send(code, f"status {code}".encode())
        elif path.startswith("/redirect/"):
            n = int(path.rsplit("/", 1)[1])
            if n <= 0:
                self.send(200, b"arrived")
            else:
                self.send(302, b"", headers=[("Location", f"/redirect/{n - 1}")])
        elif path == "/see-other":
            self.send(303, b"", headers=[("Location", "/inspect")])
        elif path == "/basic":
            a = self.headers.get("Authorization", "")
            if a == "Basic dXNlcjpwYXNz":  # user:pass
                self.send(200, b"welcome")
            else:
                self.send(401, b"who are you?", headers=[("WWW-Authenticate", 'Basic realm="t"')])
        elif path == "/bearer":
            ok = self.headers.get("Authorization", "") == "Bearer s3cret"
            self.send(200 if ok else 401, b"ok" if ok else b"no")
        elif path == "/flaky":
            key = q.get("id", ["x"])[0]
            with lock:
                flaky[key] = flaky.get(key, 0) + 1
                n = flaky[key]
            if n <= int(q.get("fail", ["1"])[0]):
                self.send(503, b"try again")
            else:
                self.send(200, f"ok after {n}".encode())
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(100):
                piece = f"line {i}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/gzip" or path == "/deflate":
            raw = ("compressed text " * 1000).encode()
            enc = gzip.compress(raw) if path == "/gzip" else zlib.compress(raw)
            self.send(200, enc, headers=[("Content-Encoding", path[1:])])
        elif path == "/raw-deflate":
            # Deflate without the zlib wrapper (RFC 1951), as some servers send it.
            c = zlib.compressobj(wbits=-15)
            enc = c.compress(("raw deflate text " * 1000).encode()) + c.flush()
            self.send(200, enc, headers=[("Content-Encoding", "deflate")])
        elif path == "/raw-deflate-zlib-like":
            # Raw deflate whose first two bytes pass the zlib header check: a stored block of
            # 29 bytes (0x08 0x1D), then an empty final stored block.
            data = b"twenty-nine bytes, stored!!!."
            enc = b"\x08\x1d\x00\xe2\xff" + data + b"\x01\x00\x00\xff\xff"
            assert zlib.decompress(enc, -15) == data
            self.send(200, enc, headers=[("Content-Encoding", "deflate")])
        elif path == "/corrupt-gzip":
            self.send(200, b"\x1f\x8b\x08\x00 this is not gzip data at all", headers=[("Content-Encoding", "gzip")])
        elif path == "/drip":
            # One byte every `every` seconds (default 0.5) of a body of n bytes (default 100).
            n, every = int(q.get("n", ["100"])[0]), float(q.get("every", ["0.5"])[0])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            self.wfile.flush()
            try:
                for _ in range(n):
                    time.sleep(every)
                    self.wfile.write(b"d")
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif path == "/endless":
            # A body with no length that never ends, until the client goes away.
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            block = b"e" * 65536
            try:
                while True:
                    self.wfile.write(block)
            except (BrokenPipeError, ConnectionResetError, OSError):
                pass
        elif path == "/latin1":
            self.send(200, "café".encode("latin-1"), "text/plain; charset=ISO-8859-1")
        elif path == "/notjson":
            self.send(200, b"<html>not json</html>", "text/html")
        elif path == "/stall-head":
            time.sleep(30)
        elif path == "/stall-body":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            time.sleep(30)
        elif path == "/close-early":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"x" * 10)
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
        elif path == "/big-header":
            self.send_response(200)
            self.send_header("X-Huge", "a" * (10 * 1024 * 1024))
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        elif path == "/huge-body":
            n = int(q.get("n", ["1048576"])[0])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            block = b"z" * 65536
            sent = 0
            try:
                while sent < n:
                    k = min(len(block), n - sent)
                    self.wfile.write(block[:k])
                    sent += k
            except (BrokenPipeError, ConnectionResetError):
                pass
        else:
            self.send(404, b"not found")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_PROPFIND = handle_any


if __name__ == "__main__":
    srv = ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler)
    srv.daemon_threads = True
    srv.serve_forever()
