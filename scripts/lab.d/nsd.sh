# NSD, authoritative for example.test (every record type, 10,000 A records under hosts., 40 long TXT at big.)
# and 2.0.192.in-addr.arpa, with AXFR allowed from loopback, unsigned or signed with
# TSIG key hmac-sha256:xfr-key:eGZyLWtleS1zZWNyZXQtZm9yLXRoZS10ZXN0cw==. Sourced by scripts/lab;
# the DNS tests source it too (NSD_PORT and LAB_DIR chosen by the test).
# shellcheck shell=bash
lab_port=${NSD_PORT:-5300}

lab_start() {
    local dir="$LAB_DIR/nsd" zones
    zones="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/zones"
    mkdir -p "$dir"
    cp "$zones/2.0.192.in-addr.arpa.zone" "$dir/"
    {
        cat "$zones/example.test.zone"
        # 40 long TXT records at big.example.test: an answer too large for UDP (truncation → TCP).
        awk 'BEGIN { for (i = 0; i < 40; i++) printf "big IN TXT \"%03d %s\"\n", i, "padding-padding-padding-padding-padding-padding-padding-padding-padding-padding" }'
        awk 'BEGIN { for (i = 0; i < 10000; i++) printf "h%d.hosts IN A 10.%d.%d.%d\n", i, int(i / 65536) % 256, int(i / 256) % 256, i % 256 }'
    } >"$dir/example.test.zone"
    cat >"$dir/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1
    ip-address: ::1
    port: $lab_port
    username: ""
    chroot: ""
    database: ""
    zonesdir: "$dir"
    pidfile: "$dir/nsd.pid"
    xfrdfile: "$dir/xfrd.state"
    zonelistfile: "$dir/zone.list"
    xfrdir: "$dir/xfr"
    server-count: 1
    verbosity: 1
    hide-version: yes
    minimal-responses: no
remote-control:
    control-enable: no
key:
    name: xfr-key
    algorithm: hmac-sha256
    secret: "eGZyLWtleS1zZWNyZXQtZm9yLXRoZS10ZXN0cw=="
zone:
    name: example.test
    zonefile: example.test.zone
    provide-xfr: 127.0.0.0/8 NOKEY
    provide-xfr: ::1 NOKEY
    provide-xfr: 127.0.0.0/8 xfr-key
zone:
    name: 2.0.192.in-addr.arpa
    zonefile: 2.0.192.in-addr.arpa.zone
    provide-xfr: 127.0.0.0/8 NOKEY
CONF
    exec nsd -d -c "$dir/nsd.conf"
}
