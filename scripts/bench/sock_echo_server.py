# The Python peer: a socketserver echo server (one thread per client). Arg: PORT.
import socket, socketserver, sys

class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            data = self.request.recv(65536)
            if not data:
                break
            self.request.sendall(data)

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 1024

Server(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
