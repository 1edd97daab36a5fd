# aiosmtpd on 127.0.0.1:2587 (Tests/peers/smtp_peer.py) offering STARTTLS with a certificate for
# 127.0.0.1/localhost made at start (openssl, in $LAB_DIR/smtp-tls), and AUTH PLAIN/LOGIN/CRAM-MD5
# for user "lab" password "lab-password" once TLS is on: the SMTP lesson (lessons/smtp-starttls-auth.net).
# Sourced by scripts/lab.
# shellcheck shell=bash
lab_port=${SMTP_TLS_PORT:-2587}

lab_start() {
    local root py dir="$LAB_DIR/smtp-tls"
    root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
    py=$(python3 -c 'import sys; print(sys.executable)')
    mkdir -p "$dir/mail"
    if [ ! -f "$dir/cert.pem" ]; then
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 30 \
            -subj "/CN=NetScript lab SMTP" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null
    fi
    exec "$py" "$root/Tests/peers/smtp_peer.py" --port "$lab_port" --dir "$dir/mail" \
        --cert "$dir/cert.pem" --key "$dir/key.pem" --user lab --password lab-password
}
