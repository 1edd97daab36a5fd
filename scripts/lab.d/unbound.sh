# Unbound as a recursive (stub) resolver on loopback in front of NSD: example.test and
# 2.0.192.in-addr.arpa are stub zones pointing at NSD (NSD_PORT, 5300 in the lab), so
# recursive queries (rd) are answered through it. It also serves DNS over TLS (RFC 7858) on
# UNBOUND_TLS_PORT with a certificate from a CA made here ($LAB_DIR/unbound/ca.pem) for
# localhost / 127.0.0.1 / ::1. Sourced by scripts/lab; the DNS tests source it too.
# shellcheck shell=bash
lab_port=${UNBOUND_PORT:-5310}

lab_start() {
    local dir="$LAB_DIR/unbound" nsd_port=${NSD_PORT:-5300} tls_port=${UNBOUND_TLS_PORT:-5853}
    mkdir -p "$dir"
    (
        cd "$dir"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 30 -subj "/CN=NetScript Lab CA" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
        printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n' >ext.cnf
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 30 -extfile ext.cnf 2>/dev/null
    )
    cat >"$dir/unbound.conf" <<CONF
server:
    interface: 127.0.0.1@$lab_port
    interface: ::1@$lab_port
    interface: 127.0.0.1@$tls_port
    interface: ::1@$tls_port
    tls-port: $tls_port
    tls-service-key: "$dir/server.key"
    tls-service-pem: "$dir/server.pem"
    access-control: 127.0.0.0/8 allow
    access-control: ::1/128 allow
    username: ""
    chroot: ""
    directory: "$dir"
    pidfile: "$dir/unbound.pid"
    use-syslog: no
    logfile: ""
    verbosity: 1
    num-threads: 1
    do-daemonize: no
    module-config: "iterator"
    do-not-query-localhost: no
    local-zone: "test." nodefault
    local-zone: "2.0.192.in-addr.arpa." nodefault
    domain-insecure: "test."
    domain-insecure: "2.0.192.in-addr.arpa."
    harden-referral-path: no
stub-zone:
    name: "example.test."
    stub-addr: 127.0.0.1@$nsd_port
stub-zone:
    name: "2.0.192.in-addr.arpa."
    stub-addr: 127.0.0.1@$nsd_port
remote-control:
    control-enable: no
CONF
    exec unbound -d -c "$dir/unbound.conf"
}
