"""pyftpdlib on loopback for the FTP tests: user `alice` / `secret` with full rights on ROOT,
anonymous read-only, MLSD; EPSV switched off and PASV replies naming 127.0.0.2 (masquerade),
so the client's FTP-bounce defence (use the control connection's peer) can be seen.

    python3 pyftpd_server.py PORT ROOT [::1]
With ::1 it listens there instead, with EPSV and no masquerade (the IPv6 test).
"""
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

port, root = int(sys.argv[1]), sys.argv[2]
host = sys.argv[3] if len(sys.argv) > 3 else "127.0.0.1"
auth = DummyAuthorizer()
auth.add_user("alice", "secret", root, perm="elradfmwMT")
auth.add_anonymous(root)


class Handler(FTPHandler):
    proto_cmds = {k: v for k, v in FTPHandler.proto_cmds.items() if k != "EPSV"}


if host == "::1":
    Handler = FTPHandler
else:
    Handler.masquerade_address = "127.0.0.2"
Handler.authorizer = auth
server = FTPServer((host, port), Handler)
server.serve_forever()
