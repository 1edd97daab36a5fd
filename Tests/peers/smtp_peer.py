"""A real SMTP server for NetScript's mail tests, benchmark and tour: aiosmtpd with a handler
that offers PIPELINING, STARTTLS or implicit TLS (certificate files given), AUTH PLAIN / LOGIN /
CRAM-MD5 for one known user, refuses every sender and recipient whose address starts with
"bad@" and every message with the header "X-Reject: yes", and
saves each message's raw bytes (NNNN.eml) and envelope (NNNN.json) into --dir.
Runs in the foreground until SIGTERM/SIGINT; prints "ready PORT" once listening."""
import argparse, asyncio, base64, hashlib, hmac, json, os, signal, ssl, sys, threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP, AuthResult, LoginPassword, auth_mechanism

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, required=True)
ap.add_argument("--host", default="127.0.0.1")
ap.add_argument("--dir", help="save messages here (default: accept and discard, a sink)")
ap.add_argument("--cert"); ap.add_argument("--key")
ap.add_argument("--implicit", action="store_true", help="TLS from the first byte (port 465 style)")
ap.add_argument("--user"); ap.add_argument("--password")
ap.add_argument("--auth-plaintext", action="store_true", help="offer AUTH without TLS")
ap.add_argument("--exclude-auth", default="", help="mechanisms not to offer, comma separated")
ap.add_argument("--size", type=int, default=33554432)
ap.add_argument("--no-pipelining", action="store_true")
ap.add_argument("--no-smtputf8", action="store_true")
opts = ap.parse_args()


class Handler:
    def __init__(self):
        self.count = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not opts.no_pipelining:
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if address.lower().startswith("bad@"):
            return "553 5.7.1 <%s>: Sender address rejected: not allowed" % address
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("bad@"):
            return "550 5.1.1 <%s>: Recipient address rejected: no such user" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if b"\r\nX-Reject: yes\r\n" in b"\r\n" + envelope.original_content:
            return "554 5.7.1 Message rejected by content filter"
        self.count += 1
        if opts.dir:
            base = os.path.join(opts.dir, "%04d" % self.count)
            with open(base + ".eml", "wb") as f:
                f.write(envelope.original_content)
            with open(base + ".json", "w") as f:
                json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                           "mail_options": envelope.mail_options, "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
                           "auth": getattr(session, "auth_mech", None)}, f)
        return "250 OK queued as %d" % self.count

    @auth_mechanism("CRAM-MD5")
    async def auth_CRAM_MD5(self, server, args):
        challenge = ("<%s@peer.test>" % os.urandom(8).hex()).encode()
        answer = await server.challenge_auth(challenge)
        if answer is MISSING:
            return AuthResult(success=False, handled=True)
        user, _, digest = answer.decode(errors="replace").partition(" ")
        want = hmac.new((opts.password or "").encode(), challenge, hashlib.md5).hexdigest()
        if opts.user and user == opts.user and hmac.compare_digest(digest, want):
            server.session.auth_mech = "CRAM-MD5"
            return AuthResult(success=True, auth_data=LoginPassword(user.encode(), b""))
        return AuthResult(success=False, handled=False)


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and opts.user is not None
          and auth_data.login.decode() == opts.user and auth_data.password.decode() == (opts.password or ""))
    if ok:
        session.auth_mech = mechanism
    return AuthResult(success=ok, handled=False)


ctx = None
if opts.cert:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(opts.cert, opts.key)

kwargs = dict(enable_SMTPUTF8=not opts.no_smtputf8, data_size_limit=opts.size, decode_data=False,
              authenticator=authenticator, auth_require_tls=not opts.auth_plaintext,
              auth_exclude_mechanism=[m for m in opts.exclude_auth.split(",") if m])
if ctx is not None and not opts.implicit:
    kwargs["tls_context"] = ctx
controller = Controller(Handler(), hostname=opts.host, port=opts.port,
                        ssl_context=ctx if opts.implicit else None, server_hostname="localhost", **kwargs)
controller.start()
print("ready", opts.port, flush=True)
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: done.set())
signal.signal(signal.SIGINT, lambda *a: done.set())
done.wait()
controller.stop()
