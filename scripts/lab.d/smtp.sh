# aiosmtpd on 127.0.0.1:2525 (Tests/peers/smtp_peer.py): PIPELINING, SIZE, 8BITMIME, SMTPUTF8,
# AUTH PLAIN/LOGIN/CRAM-MD5 for user "lab" password "lab-password" (offered without TLS: a lab),
# every sender and recipient starting with "bad@" refused; each message saved to $LAB_DIR/smtp/NNNN.eml
# with its envelope in NNNN.json. Sourced by scripts/lab.
# shellcheck shell=bash
lab_port=${SMTP_PORT:-2525}

lab_start() {
    local root py
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    py=$(python3 -c 'import sys; print(sys.executable)')
    mkdir -p "$LAB_DIR/smtp"
    exec "$py" "$root/Tests/peers/smtp_peer.py" --port "$lab_port" --dir "$LAB_DIR/smtp" \
        --user lab --password lab-password --auth-plaintext
}
