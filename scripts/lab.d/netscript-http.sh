# NetScript's own HTTP server (`serve http`, scripts/lab.d/http-server.net): the files of
# scripts/lab.d/site, plus routes /echo (POST JSON, echoed), /hello/:name and /time.
# Needs the release build scripts/tour makes (or `netscript` on PATH). Sourced by scripts/lab.
# shellcheck shell=bash
lab_port=${NETSCRIPT_HTTP_PORT:-8000}

lab_start() {
    local here bin
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    bin="$here/../../.build/release/netscript"
    [ -x "$bin" ] || bin=$(command -v netscript)
    exec "$bin" "$here/http-server.net" "$lab_port" "$here/site"
}
