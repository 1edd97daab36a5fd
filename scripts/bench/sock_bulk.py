# Pushes BYTES through an echo server and reads them all back: args PORT BYTES.
# Prints MiB/s (both directions at once; the figure counts the bytes sent).
import socket, sys, threading, time
port, total = int(sys.argv[1]), int(sys.argv[2])
c = socket.create_connection(("127.0.0.1", port))
chunk = memoryview(bytes(1 << 20))
def sender():
    left = total
    while left > 0:
        n = min(left, len(chunk))
        c.sendall(chunk[:n])
        left -= n
    c.shutdown(socket.SHUT_WR)
t = time.perf_counter()
th = threading.Thread(target=sender); th.start()
buf = bytearray(1 << 20); got = 0
while True:
    n = c.recv_into(buf)
    if n == 0:
        break
    got += n
th.join()
elapsed = time.perf_counter() - t
if got != total:
    sys.exit(f"sock_bulk: sent {total} bytes, got {got} back")
print(round(total / elapsed / (1 << 20)))
