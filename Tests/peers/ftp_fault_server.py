"""A tiny scripted FTP server for the faults real servers will not produce on demand.

    python3 ftp_fault_server.py PORT MODE
MODE: normal   greeting split across packets with a multi-line continuation; RETR cut.bin
               sends half of the file, closes the data connection and answers 426 (with REST
               it sends the rest); LIST big sends 70 MiB of lines; STOR cut.bin keeps the first MiB, resets the data connection
               and answers 426 (SIZE cut.bin then says what it kept); any other STOR answers 553;
               QUOTE BADREPLY / LONGLINE break the protocol
      noconn   EPSV/PASV name a port where nothing listens (the data connection never opens)
      silent   RETR answers 150 and then sends nothing (the data connection stays silent)
Only 127.0.0.1. The file served is 1 MiB of bytes i % 251.
"""
import socket, struct, sys, threading, time

PORT, MODE = int(sys.argv[1]), sys.argv[2]
DATA = bytes(i % 251 for i in range(1 << 20))


def handle(c):
    f = c.makefile("rb")
    send = lambda s: c.sendall(s.encode())
    # The greeting in pieces, a multi-line reply whose middle lines carry no code.
    for part in ["22", "0-Welcome to the", " fault server\r\n  a line without a code\r\n220-", "still going\r\n", "220 ready\r\n"]:
        send(part)
        time.sleep(0.05)
    rest = 0
    listener = None
    stored = {}
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.decode().strip()
        verb, _, arg = cmd.partition(" ")
        verb = verb.upper()
        if verb == "USER":
            send("331 password please\r\n")
        elif verb == "PASS":
            send("230 in\r\n")
        elif verb == "FEAT":
            send("211-Features:\r\n SIZE\r\n REST STREAM\r\n211 End\r\n")
        elif verb == "PWD":
            send('257 "/" is here\r\n')
        elif verb == "TYPE":
            send("200 ok\r\n")
        elif verb == "SIZE":
            send("213 %d\r\n" % stored.get(arg, len(DATA)))
        elif verb == "REST":
            rest = int(arg)
            send("350 restarting at %d\r\n" % rest)
        elif verb in ("EPSV", "PASV"):
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            port = listener.getsockname()[1]
            if MODE == "noconn":
                listener.close()  # nothing will listen there
            else:
                listener.listen(1)
            if verb == "EPSV":
                send("229 Entering Extended Passive Mode (|||%d|)\r\n" % port)
            else:
                send("227 Entering Passive Mode (127,0,0,1,%d,%d)\r\n" % (port >> 8, port & 255))
        elif verb == "RETR":
            if MODE == "noconn":
                send("425 Can't open data connection.\r\n")
                continue
            send("150 here it comes\r\n")
            d, _ = listener.accept()
            listener.close()
            if MODE == "silent":
                time.sleep(30)
                d.close()
                continue
            if arg == "cut.bin" and rest == 0:
                d.sendall(DATA[: len(DATA) // 2])
                d.close()
                send("426 Connection closed; transfer aborted.\r\n")
            else:
                d.sendall(DATA[rest:])
                d.close()
                send("226 done\r\n")
            rest = 0
        elif verb == "LIST" and arg == "big" and MODE == "normal":
            send("150 here is a long listing\r\n")
            d, _ = listener.accept()
            listener.close()
            block = b"".join(b"-rw-r--r-- 1 u g 0 Jan  1 00:00 file-%08d\r\n" % i for i in range(10000))
            try:
                for _ in range((70 << 20) // len(block) + 1):
                    d.sendall(block)
                d.close()
                send("226 done\r\n")
            except OSError:
                d.close()
                send("426 Connection closed; transfer aborted.\r\n")
        elif verb == "STOR" and arg == "cut.bin" and MODE == "normal":
            send("150 go ahead\r\n")
            d, _ = listener.accept()
            listener.close()
            got = 0
            while got < len(DATA):
                b = d.recv(min(65536, len(DATA) - got))
                if not b:
                    break
                got += len(b)
            stored[arg] = got
            # A reset, not a close: the client's later writes fail at once.
            d.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            d.close()
            send("426 Connection closed; transfer aborted.\r\n")
        elif verb == "STOR":
            if listener:
                listener.close()
            send("553 Could not create file.\r\n")
        elif verb == "BADREPLY":
            send("hello, this is not FTP\r\n")
        elif verb == "LONGLINE":
            send("200 " + "x" * 20000 + "\r\n")
        elif verb == "QUIT":
            send("221 bye\r\n")
            return
        else:
            send("502 not here\r\n")


s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen(16)
while True:
    conn, _ = s.accept()
    threading.Thread(target=lambda c=conn: (handle(c), c.close()), daemon=True).start()
