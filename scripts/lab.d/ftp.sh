# pyftpdlib on 127.0.0.1:2121 for the tour: user alice / secret (read and write, root
# $LAB_DIR/ftp/root) and anonymous read-only. Sourced by scripts/lab.
# shellcheck shell=bash
lab_port=${FTP_PORT:-2121}

lab_start() {
    local dir="$LAB_DIR/ftp/root"
    mkdir -p "$dir"
    [ -f "$dir/README" ] || printf 'NetScript lab FTP server\nuser alice, password secret\n' >"$dir/README"
    python3 -c 'import pyftpdlib' 2>/dev/null || python3 -m pip install -q pyftpdlib
    exec python3 - "$lab_port" "$dir" <<'PY'
import sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
port, root = int(sys.argv[1]), sys.argv[2]
auth = DummyAuthorizer()
auth.add_user("alice", "secret", root, perm="elradfmwMT")
auth.add_anonymous(root)
FTPHandler.authorizer = auth
FTPHandler.passive_ports = range(60000, 60100)
FTPServer(("127.0.0.1", port), FTPHandler).serve_forever()
PY
}
