# A TCP echo server on 127.0.0.1:7007 for the TCP lesson (lessons/tcp-echo.net): each
# connection gets back every byte it sends. Sourced by scripts/lab.
# shellcheck shell=bash
lab_port=${ECHO_PORT:-7007}

lab_start() {
    exec python3 - "$lab_port" <<'PY'
import socketserver, sys
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)
class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
Server(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
PY
}
