"""SMTP faults a real server will not produce, for NetScript's mail tests: one tiny socket
server per mode, on 127.0.0.1:PORT, serving clients until killed.
  drop-mid-data  accepts the envelope, answers DATA with 354, reads a little, then hangs up
  garbage        greets, then answers EHLO with a line that is not SMTP
  silent         accepts the connection and never says anything
  refuse-auth    offers AUTH PLAIN LOGIN and refuses every attempt with 535
  long-line      answers EHLO with a 10,000-byte line
  silent-after-data  takes the whole message, then never answers its end
  starttls-inject answers STARTTLS with 220 and, in the same packet, a reply meant to be read
                 as if it came over TLS (the CVE-2011-0411 injection)"""
import socket, sys, threading, time

mode, port = sys.argv[1], int(sys.argv[2])
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", port))
srv.listen(16)
print("ready", port, flush=True)


def lines(c):
    buf = b""
    while True:
        while b"\n" not in buf:
            d = c.recv(4096)
            if not d:
                return
            buf += d
        line, buf = buf.split(b"\n", 1)
        yield line.rstrip(b"\r")


def serve(c):
    try:
        if mode == "silent":
            time.sleep(120)
            return
        c.sendall(b"220 faults.test ESMTP\r\n")
        for line in lines(c):
            verb = line.split(b" ")[0].upper()
            if verb == b"EHLO":
                if mode == "garbage":
                    c.sendall(b"hello there, I am not an SMTP server\r\n")
                elif mode == "long-line":
                    c.sendall(b"250-" + b"x" * 10000 + b"\r\n250 OK\r\n")
                else:
                    c.sendall(b"250-faults.test\r\n250-STARTTLS\r\n250-AUTH PLAIN LOGIN\r\n250 8BITMIME\r\n")
            elif verb == b"STARTTLS":
                c.sendall(b"220 go ahead\r\n250 injected in the clear\r\n")
                time.sleep(5)
                return
            elif verb == b"AUTH":
                c.sendall(b"535 5.7.8 Authentication credentials invalid\r\n")
            elif verb in (b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                c.sendall(b"250 OK\r\n")
            elif verb == b"DATA":
                c.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                if mode == "drop-mid-data":
                    c.recv(10)
                    c.shutdown(socket.SHUT_RDWR)
                    c.close()
                    return
            elif verb == b"QUIT":
                c.sendall(b"221 Bye\r\n")
                return
            elif line == b".":
                if mode == "silent-after-data":
                    time.sleep(120)
                    return
                c.sendall(b"250 OK\r\n")
    except OSError:
        pass
    finally:
        c.close()


while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
