# A small delegation tree for `dns.trace`: three NSD servers on one port, each authoritative
# for one level — the root "." on 127.0.0.1, "test." on 127.0.0.2, "example.test." on
# 127.0.0.3 — delegating with glue, like the real root → TLD → zone chain.
# Sourced by scripts/lab; the DNS tests source it too (TREE_PORT and LAB_DIR).
# shellcheck shell=bash
lab_port=${TREE_PORT:-5302}

lab_start() {
    local dir="$LAB_DIR/nsd-tree" pids=()
    mkdir -p "$dir"
    cat >"$dir/root.zone" <<'ZONE'
$TTL 3600
.                 SOA a.root-servers.test. hostmaster.root-servers.test. 1 7200 900 1209600 300
.                 NS  a.root-servers.test.
a.root-servers.test. A 127.0.0.1
test.             NS  ns.nic.test.
ns.nic.test.      A   127.0.0.2
ZONE
    cat >"$dir/test.zone" <<'ZONE'
$TTL 3600
test.             SOA ns.nic.test. hostmaster.nic.test. 1 7200 900 1209600 300
test.             NS  ns.nic.test.
ns.nic.test.      A   127.0.0.2
example.test.     NS  ns1.example.test.
ns1.example.test. A   127.0.0.3
ZONE
    cat >"$dir/example.test.zone" <<'ZONE'
$TTL 3600
example.test.     SOA ns1.example.test. hostmaster.example.test. 1 7200 900 1209600 300
example.test.     NS  ns1.example.test.
ns1.example.test. A   127.0.0.3
www.example.test. A   192.0.2.80
example.test.     MX  10 mail.example.test.
ZONE
    local n=0
    for spec in "127.0.0.1 . root.zone" "127.0.0.2 test. test.zone" "127.0.0.3 example.test. example.test.zone"; do
        read -r ip zone file <<<"$spec"
        n=$((n + 1))
        cat >"$dir/nsd$n.conf" <<CONF
server:
    ip-address: $ip
    port: $lab_port
    username: ""
    chroot: ""
    database: ""
    zonesdir: "$dir"
    pidfile: "$dir/nsd$n.pid"
    xfrdfile: "$dir/xfrd$n.state"
    zonelistfile: "$dir/zone$n.list"
    xfrdir: "$dir/xfr$n"
    server-count: 1
    verbosity: 1
remote-control:
    control-enable: no
zone:
    name: "$zone"
    zonefile: $file
CONF
        nsd -d -c "$dir/nsd$n.conf" &
        pids+=($!)
    done
    trap 'kill "${pids[@]}" 2>/dev/null; wait; exit 0' TERM INT
    wait
}
