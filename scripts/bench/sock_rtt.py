# Round trips of 64 bytes on one connection: args PORT COUNT. Prints round trips per second.
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
msg = b"x" * 63 + b"\n"
c = socket.create_connection(("127.0.0.1", port))
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
t = time.perf_counter()
for i in range(n):
    c.sendall(msg)
    got = len(c.recv(64))
    while got < 64:
        got += len(c.recv(64 - got))
elapsed = time.perf_counter() - t
c.close()
print(round(n / elapsed))
