# The HTTP client tests' Python server (Tests/peers/http_echo.py): /echo returns a JSON body as
# sent, /inspect describes the request, /setcookie and /cookies, /redirect/N, /status/N, /gzip,
# /chunked, /stall-body (misbehaviour on demand). Sourced by scripts/lab.
# shellcheck shell=bash
lab_port=${HTTP_ECHO_PORT:-8081}

lab_start() {
    local here py
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    py=$(python3 -c 'import sys; print(sys.executable)')
    exec "$py" "$here/Tests/peers/http_echo.py" "$lab_port"
}
