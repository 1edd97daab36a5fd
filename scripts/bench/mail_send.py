"""bench-mail's smtplib side: N messages over one session (smtplib does not pipeline)."""
import smtplib, sys
from email.message import EmailMessage
from email import policy

port, n = int(sys.argv[1]), int(sys.argv[2])
m = EmailMessage(policy=policy.SMTP)
m["From"] = "bench@example.test"; m["To"] = "sink@example.test"; m["Subject"] = "bench"
m.set_content("hello from netscript\n" * 10)
data = m.as_bytes()
s = smtplib.SMTP("127.0.0.1", port)
s.ehlo()
for _ in range(n):
    s.sendmail("bench@example.test", ["sink@example.test"], data)
s.quit()
