# Knot DNS, authoritative for update.test, accepting TSIG-signed dynamic updates (RFC 2136)
# and transfers. Sourced by scripts/lab; the DNS tests source it too (KNOT_PORT, LAB_DIR).
# Keys (dig -y form): hmac-sha256:update-key:c2VjcmV0LXNoYTI1Ni1rZXktZm9yLXRlc3Rz
#                    hmac-md5:md5-key:c2VjcmV0LW1kNS1rZXk=
# shellcheck shell=bash
lab_port=${KNOT_PORT:-5301}

lab_start() {
    local dir="$LAB_DIR/knot"
    mkdir -p "$dir/db"
    cat >"$dir/update.test.zone" <<'ZONE'
$ORIGIN update.test.
$TTL 300
@    SOA ns1.update.test. hostmaster.update.test. 1 7200 900 1209600 300
@    NS  ns1.update.test.
ns1  A   127.0.0.1
old  A   192.0.2.1
ZONE
    cat >"$dir/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$lab_port
    rundir: "$dir"
log:
  - target: stderr
    any: info
database:
    storage: "$dir/db"
control:
    listen: "$dir/knot.sock"
key:
  - id: update-key
    algorithm: hmac-sha256
    secret: c2VjcmV0LXNoYTI1Ni1rZXktZm9yLXRlc3Rz
  - id: md5-key
    algorithm: hmac-md5
    secret: c2VjcmV0LW1kNS1rZXk=
acl:
  - id: signed
    key: [update-key, md5-key]
    action: [update, transfer]
zone:
  - domain: update.test
    storage: "$dir"
    file: update.test.zone
    zonefile-sync: -1
    acl: signed
CONF
    exec knotd -c "$dir/knot.conf"
}
