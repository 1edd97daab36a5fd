# nginx with one worker on 127.0.0.1:8080 serving hello.txt, gzip, redirects (/moved, /loop),
# and passing every path that is not a file to the http-echo server (8081), so the issue's
# contract lines (/hello.txt and POST /echo) both work on port 8080. Sourced by scripts/lab.
# shellcheck shell=bash
lab_port=${NGINX_HTTP_PORT:-8080}

lab_start() {
    local here
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    ECHO_PORT=${HTTP_ECHO_PORT:-8081} exec sh "$here/Tests/peers/nginx_http.sh" "$LAB_DIR/nginx-http" "$lab_port"
}
