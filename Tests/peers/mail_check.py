"""Parses a delivered message with Python's email package and prints what the tests compare,
as JSON: every header (decoded), each leaf part's type, transfer encoding, file name, SHA-256 of
its decoded bytes and (for text) its text, plus the raw message's longest line and defects."""
import email, email.policy, hashlib, json, sys

raw = open(sys.argv[1], "rb").read()
# A maildir file (Postfix) has LF line ends; an aiosmtpd capture has CRLF.
lines = raw.replace(b"\r\n", b"\n").split(b"\n")
m = email.message_from_bytes(raw, policy=email.policy.default)
out = {"headers": [[k, str(v)] for k, v in m.items()], "parts": [], "defects": [str(d) for d in m.defects],
       "max_line": max(len(l) for l in lines), "ascii": all(b < 0x80 for b in raw)}
for part in m.walk():
    out["defects"] += [str(d) for d in part.defects]
    if part.is_multipart():
        out["parts"].append({"type": part.get_content_type()})
        continue
    payload = part.get_payload(decode=True) or b""
    d = {"type": part.get_content_type(), "cte": part.get("Content-Transfer-Encoding"),
         "filename": part.get_filename(), "sha256": hashlib.sha256(payload).hexdigest()}
    if part.get_content_maintype() == "text" and part.get_filename() is None:
        d["text"] = payload.decode(part.get_content_charset() or "ascii").replace("\r\n", "\n")
    out["parts"].append(d)
print(json.dumps(out))
