import Foundation

/// `help`: the command list, one command's usage, topic pages (`help "errors"`, `help socket`,
/// `help python`), Python's names mapped to NetScript's, and a search by word.
enum HelpBuiltins {
    static func register(in r: Interpreter) {
        r.register("help", min: 0, max: 1, usage: "help [NAME|TOPIC|WORD]",
                   summary: "Lists the commands; help NAME shows one command's usage and an example (namespaces list their subcommands); topics: grammar, errors, socket, tls, python (Python's modules and names mapped to NetScript's); any other word lists the commands that mention it.",
                   example: "help split") { a in
            let out = a.interp.output
            if a.count == 0 {
                out.write(overview(a.interp))
                return .nil
            }
            let name: String
            switch a[0] {
            case .string(let s): name = s
            case .function(let c): name = c.name
            default: throw Diagnostic.type("help: needs a command name, e.g. help \"split\"")
            }
            out.write(try describe(name, a.interp))
            return .nil
        }
    }

    static func overview(_ interp: Interpreter) -> String {
        var lines = ["NetScript commands (help NAME for details; help \"grammar\" for the language, help \"errors\" for errors, help python for Python's names):", ""]
        var top: [String] = []
        var spaces: [String] = []
        for name in interp.registry.keys where !name.contains(".") {
            if case .function(let ns as Namespace)? = interp.registry[name], !ns.members.isEmpty { spaces.append(name) } else { top.append(name) }
        }
        var line = " "
        for n in top.sorted() {
            if line.count + n.count + 1 > 78 { lines.append(line); line = " " }
            line += " " + n
        }
        if line.count > 1 { lines.append(line) }
        lines.append("")
        lines.append("Namespaces (help NAME lists their commands):")
        let width = max(10, spaces.map(\.count).max() ?? 0)
        for n in spaces.sorted() {
            if case .function(let ns as Namespace)? = interp.registry[n] {
                lines.append("  " + n.padding(toLength: width, withPad: " ", startingAt: 0) + " " + ns.summary)
            }
        }
        if interp.isInteractive {
            lines += ["", "At the prompt: Tab completes names, a command's options and file names in a string;",
                      "history lists this session, history save FILE keeps it as a script; show VALUE prints",
                      "a long table whole; Up/Down recall entries (shared by every REPL); Ctrl-C interrupts."]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func describe(_ name: String, _ interp: Interpreter) throws -> String {
        let key = name.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: ".")
        if let topic = topics[key.lowercased()] { return topic }
        if let entry = interp.registry[key] { return describe(entry, name) }
        // Python's name for it: say so, then show NetScript's.
        if let target = pythonNames[key], let entry = interp.registry[target] {
            return "(`\(key)` is Python's name; NetScript's is `\(target)`)\n\n" + describe(entry, target)
        }
        if let word = pythonNames[key] {
            return "`\(key)` is Python's; NetScript writes `\(word)` (help \"grammar\" shows the language).\n"
        }
        let found = search(key, interp)
        if !found.isEmpty {
            var out = "No command is named '\(name)'; these mention it (help NAME for one):\n"
            let width = min(24, found.map(\.0.count).max() ?? 0)
            for (n, summary) in found.prefix(20) {
                out += "  " + n.padding(toLength: max(width, n.count), withPad: " ", startingAt: 0) + "  " + firstSentence(summary) + "\n"
            }
            if found.count > 20 { out += "  … \(found.count - 20) more\n" }
            return out
        }
        let sugg = interp.suggestion(key, Array(interp.registry.keys) + Array(topics.keys))
        throw Diagnostic.name("help: no command, topic or mention of '\(name)'\(sugg)")
    }

    static func describe(_ entry: Value, _ name: String) -> String {
        var out = ""
        switch entry {
        case .function(let ns as Namespace):
            out += "\(ns.name): \(ns.summary)\n"
            if let c = ns.callable { out += "\n  \(c.usage)\n      \(c.summary)\n      e.g. \(c.example)\n" }
            out += "\nCommands (`\(ns.name) CMD …` or `\(ns.name).CMD …`):\n"
            for (sub, v) in ns.members {
                if case .function(let b as BuiltinFunction) = v {
                    out += "  \(b.usage)\n      \(b.summary)\n      e.g. \(b.example)\n"
                } else if case .function(let inner as Namespace) = v {
                    out += "  \(ns.name).\(sub) …  \(inner.summary) (help \(ns.name).\(sub))\n"
                }
            }
        case .function(let b as BuiltinFunction):
            out += "usage: \(b.usage)\n\n  \(b.summary)\n\nexample:\n  \(b.example)\n"
            if let opts = b.optionNames, !opts.isEmpty { out += "\noptions: " + opts.map { "\($0):" }.joined(separator: " ") + "\n" }
        default:
            out += "\(name)\n"
        }
        return out
    }

    /// Commands whose name has the word as a part (`sendmail` finds `smtp.sendmail`), then
    /// those whose summary or usage mentions it.
    static func search(_ word: String, _ interp: Interpreter) -> [(String, String)] {
        let w = word.lowercased()
        guard w.count >= 2 else { return [] }
        var byName: [(String, String)] = [], byText: [(String, String)] = []
        for (name, v) in interp.registry {
            let summary: String, usage: String
            switch v {
            case .function(let b as BuiltinFunction): summary = b.summary; usage = b.usage
            case .function(let ns as Namespace):
                summary = ns.callable.map { $0.summary } ?? ns.summary; usage = ns.callable?.usage ?? ""
            default: continue
            }
            let parts = name.lowercased().split(separator: ".").map(String.init)
            if parts.contains(where: { $0.contains(w) }) { byName.append((name, summary)) }
            else if summary.lowercased().contains(w) || usage.lowercased().contains(w) { byText.append((name, summary)) }
        }
        return byName + byText
    }

    static func firstSentence(_ s: String) -> String {
        var cut = s
        if let r = s.range(of: ". ") { cut = String(s[..<r.lowerBound]) + "." }
        return cut.count > 90 ? String(cut.prefix(89)) + "…" : cut
    }

    /// What Python users type first, mapped to NetScript: module functions to commands, and
    /// words of Python's syntax to NetScript's. Used by `help`, and by "did you mean" on an
    /// undefined name or a namespace's missing command.
    static let pythonNames: [String: String] = [
        "None": "nil", "True": "true", "False": "false", "null": "nil", "NULL": "nil",
        "def": "fn", "lambda": "fn", "elif": "else if", "except": "catch", "raise": "fail", "pass": "{}",
        "socket.socket": "connect", "socket.create_connection": "connect", "create_connection": "connect",
        "socket.gethostbyname": "gethostbyname", "socket.gethostname": "hostname", "gethostname": "hostname",
        "socket.getservbyname": "getservbyname", "sendall": "send", "recvline": "recv.line", "readline": "recv.line",
        "bind": "listen", "socketserver": "serve.tcp", "ThreadingTCPServer": "serve.tcp",
        "smtplib.SMTP": "smtp.connect", "SMTP": "smtp.connect", "smtp.SMTP": "smtp.connect", "smtp.open": "smtp.connect",
        "smtp.close": "smtp.quit", "smtp.send": "smtp.sendmail",
        "ftplib.FTP": "ftp.open", "FTP": "ftp.open", "ftp.connect": "ftp.open", "ftp.FTP": "ftp.open", "ftp.FTP_TLS": "ftp.open",
        "ftp.close": "ftp.quit", "ftp.sendcmd": "ftp.quote", "ftp.voidcmd": "ftp.quote", "ftp.nlst": "ftp.ls",
        "ftp.retrbinary": "ftp.get", "ftp.storbinary": "ftp.put", "ftp.download": "ftp.get", "ftp.upload": "ftp.put",
        "ftp.mkdir": "ftp.mkd", "ftp.rmdir": "ftp.rmd", "ftp.cd": "ftp.cwd", "ftp.list": "ftp.dir", "ftp.rm": "ftp.delete",
        "dns.resolver": "dns", "dns.resolve": "dns", "dns.query": "dns", "resolve": "dns", "dns.zone": "dns.axfr",
        "dns.reversename": "dns.reverse", "dig": "dns",
        "requests.get": "http.get", "requests.post": "http.post", "requests.Session": "http.session", "requests": "http",
        "urlopen": "http.get", "curl": "http.get", "wget": "http.download",
        "http.server": "serve.http", "SimpleHTTPRequestHandler": "serve.http", "HTTPServer": "serve.http",
        "IPAddress": "ip", "IPNetwork": "cidr", "IPRange": "iprange", "IPSet": "ipset", "EUI": "mac", "IPGlob": "ip.glob",
        "ip_address": "ip", "ip_network": "cidr", "ipaddress.ip_address": "ip", "ipaddress.ip_network": "cidr",
        "cidr_merge": "cidr.summarize", "cidr_exclude": "cidr.exclude", "spanning_cidr": "cidr.span",
        "iprange_to_cidrs": "cidr.range", "collapse_addresses": "cidr.summarize", "summarize_address_range": "cidr.range",
    ]

    static let topics: [String: String] = {
        var t: [String: String] = [:]
        t["grammar"] = grammarSummary
        t["syntax"] = grammarSummary
        t["errors"] = errorsTopic
        t["error"] = errorsTopic
        for k in ["socket", "sockets"] { t[k] = socketTopic }
        for k in ["concurrency", "tasks", "threads", "shard", "shards"] { t[k] = concurrencyTopic }
        for k in ["tls", "ssl", "certificate", "certificates"] { t[k] = tlsTopic }
        for k in ["python", "smtplib", "ftplib", "dnspython", "netaddr", "ipaddress", "socketserver"] { t[k] = pythonTopic }
        return t
    }()

    static let socketTopic = """
    Sockets (Python's socket module, one command each; help NAME for details):
      c = connect "127.0.0.1:7"                TCP client (IPv6: "[::1]:7"; tls: true for TLS)
      send c "hi\\n"; print (recv.line c)       send bytes or text; recv, recv.line, recv.until, recv.all
      close c
      l = listen "127.0.0.1:7007"; c = accept l   a TCP server, one client at a time (accept waits without limit)
      serve tcp "127.0.0.1:7007" fn(c) { … }   a server running a handler per client, clients at once
      serve echo "127.0.0.1:7007"              the echo server
      serve echo "127.0.0.1:7443" tls: srv     the same over TLS (listen and serve tcp take tls: too; help tls)
      u = udp bind: "127.0.0.1:5005"; d = recvfrom u; sendto u "pong" d.from     UDP
      unix "/tmp/sock"                         Unix-domain sockets (dgram: true for datagrams)
      gethostbyname "localhost"  gethostbyaddr "127.0.0.1"  getservbyname "smtp"  hostname    look-ups
    Every wait takes timeout: SECONDS (timeout: nil waits without limit); Ctrl-C interrupts any wait.
    Errors: refused timeout reset unreachable closed resolve tls io, each with e.address. help tls: what a certificate must be.

    """

    static let tlsTopic = """
    TLS certificates (connect tls:, https://, mail/smtp STARTTLS and implicit TLS, ftp.open tls:, dns tls:):
      the chain is verified against the system's CAs, or ca: "ca.pem" (a private CA); verify: false skips every check
      the identity is checked by RFC 9525 against the name asked: the host you gave ("localhost" in
      "localhost:4443", the URL's host), not the address it resolved to; sni: NAME replaces it (sent and checked)
        a name matches only the certificate's DNS names: case and a trailing dot ignored, * only as the whole
        left-most label for one label (*.example.test is for a.example.test, not a.b.example.test or example.test)
        an address (127.0.0.1, [::1]) matches only its IP addresses; the subject's CN is never used
      c = connect "127.0.0.1:4443" tls: true ca: "ca.pem" sni: "a.example.test"   ask a loopback server for a name
    A failure (tls, http.tls, dns.tls) says what was asked and what the certificate is for, or why the chain
    was refused (not signed by a trusted CA, self-signed, expired on DATE).
      c.certificate                 the peer's certificate on a TLS connection: subject issuer sans not_before
                                    not_after days_left serial sha256 self_signed chain (issuers, to the root)
      tls.inspect "host:443"        the same in one command, also for a certificate that fails verification
                                    (verified false, verify_error why)

    Clients also take alpn: ["h2", "http/1.1"] (c.alpn is the protocol chosen) and cert: FILE key: FILE (mutual TLS).

    TLS servers and certificates:
      ca = tls.mkcert ["Lab CA"] ca: true days: 30      a CA: ./lab-ca.pem and ./lab-ca.key (EC P-256)
      srv = tls.mkcert ["localhost", "127.0.0.1"] ca: ca   a certificate it signs (names and addresses as subjectAltNames)
      l = listen "127.0.0.1:8443" tls: srv              also serve tcp, serve echo, serve http: tls: {cert: F, key: F}
        client_ca: "ca.pem"   ask each client for a certificate signed by these CAs (mutual TLS): c.certificate
        alpn: ["h2", "http/1.1"]   the protocols accepted: c.alpn     handshake_timeout: 10   drop a stalled client
      c = starttls c tls: srv    on an accepted connection: become the TLS server (a STARTTLS step)
    A client whose handshake fails never reaches accept or the handler; the server goes on (l.handshake_failures).

    """

    static let concurrencyTopic = """
    Many targets at once (grammar.md, Concurrency):
      t = spawn { … }  /  spawn f x      a task on its own thread; wait t gives its value or raises its error
      wait [t1, t2]                      the values in order (timeout: S raises timeout)
      parallel for h in hosts concurrency: 200 { … }     the block for each item, 200 at once
      pmap f xs concurrency: 200         map, results in input order
        errors: "collect"                go on past failures: a failed item's result is its error
        rate: 500                        at most 500 items started a second
    Language code runs one thread at a time; a task gives way while it waits on the network, DNS, HTTP,
    FTP, SMTP, sleep or wait, so `count += 1` between waits is safe. Ctrl-C stops every task (exit 130);
    trace on labels each step [task N] / [item N].
    Past one machine: shard xs keeps shard K of N (--shard K/N, NETSCRIPT_SHARD=K/N, or JOB_COMPLETION_INDEX
    with NETSCRIPT_SHARDS=N), stable by item; emit v writes one JSON line. README: GNU parallel, Kubernetes.

    """

    static let pythonTopic = """
    From Python to NetScript (help NAME for any command):
      socket.create_connection((h, p))  c = connect "h:p"         c.sendall(b)  send c b     c.recv(n)  recv c n
      socketserver.ThreadingTCPServer   serve tcp "h:p" fn(c) {…}  socket.gethostbyname  gethostbyname
      smtplib.SMTP(h, p)                s = smtp.connect "h:p"     s.ehlo()  smtp.ehlo s    s.quit()  smtp.quit s
      s.sendmail(a, [b], msg)           smtp.sendmail s a [b] msg  (or `mail from: a to: [b] subject: … body: …`)
      ftplib.FTP(h); ftp.login(u, p)    ftp.open "h:p" user: u password: p
      ftp.retrbinary / storbinary       ftp.get "remote" "local" / ftp.put "local" "remote"     ftp.nlst  ftp.ls
      dns.resolver.resolve(n, "MX")     dns "MX" n                 dns.query.xfr  dns.axfr     dns.reversename  dns.reverse
      requests.get(url, timeout=5)      r = http.get url timeout: 5   r.status_code r.headers["content-type"] r.json
      requests.Session()                s = http.session           python -m http.server   serve http dir: "."
      netaddr.IPNetwork("10.0.0.0/8")   cidr "10.0.0.0/8" (or the literal 10.0.0.0/8)   n[1]  n[-1]  n.size
      netaddr.cidr_merge(nets)          cidr summarize nets         netaddr.EUI(m)  mac m      IPSet  ipset
    The language: None/True/False are nil/true/false; def is fn; except is catch; raise is fail;
    x[i], x.field, len x, for k, v in m { … }; a command takes its arguments without parentheses.

    """

    static let errorsTopic: String = {
        var s = """
        Errors: every error is a value with the same fields (nil where one does not apply):

        """
        let width = ErrorObject.commonFields.map(\.name.count).max() ?? 0
        for f in ErrorObject.commonFields {
            s += "  e." + f.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + f.meaning + "\n"
        }
        s += """

        try { … } catch "timeout", "refused" e { print e.kind e.address } catch e { print e.kind e.code e.message }
        A kind also matches its sub-kinds: catch "dns" catches dns.nxdomain. fail "msg" kind: "config" raises one.
        Kinds: syntax name type value index key zero overflow recursion memory io assert fail interrupted,
        sockets: refused timeout reset unreachable closed resolve tls; http.status http.timeout http.redirects
        http.tls http.protocol; dns.nxdomain dns.servfail dns.refused dns.formerr dns.notimp dns.rcode
        dns.yxdomain dns.yxrrset dns.nxrrset dns.notauth dns.notzone (updates) dns.timeout dns.io dns.malformed
        dns.transfer dns.tsig dns.tls, and refused when nothing listens; smtp.auth smtp.helo
        smtp.recipients_refused smtp.sender_refused smtp.data smtp.disconnected smtp.not_supported smtp.response;
        ftp.perm ftp.temp ftp.reply ftp.proto. (grammar.md §7 has the full table.)

        """
        return s
    }()

    static let grammarSummary = """
    NetScript in brief (grammar.md has the full grammar):
      x = 40 + 2                     assignment; += -= *= /= too
      print "x is {x}"               a command: name, arguments, options (key: value)
      print (len xs)                 parentheses nest a call; f(a, b) also calls
      cidr summarize xs              a namespace takes its command with a space or a dot
      if c { … } else if d { … } else { … }
      while c { … }    for x in xs { … }    for k, v in m { … }    break  continue
      for a, b, c in rows { … }      unpacks each item (a list of 3)
      fn add(a, b = 1) { return a + b }     fn(x) { x * 2 }       (last expression is returned)
      fn f(first, ...rest) { … }     rest: the remaining positional arguments, as a list
      try { … } catch "timeout", 'dns' e { … } catch e { print e.kind e.message e.line } finally { … }
      fail "message"   assert cond "message"   import "lib.net"   global name
      192.0.2.1  10.0.0.0/8  2001:db8::1  ::/0     address literals (IPv6: with :: or starting with a digit)
      xs | sort | join _ ", "        a pipeline passes a value as the last argument (or where _ stands)
      operators, loosest first: |  or  and  not  == != < <= > >= in  + -  * / // %  unary -  **
      a statement that names a command runs it (`trace.clear`); one that names a command needing
      arguments without giving them is an error, never a silent no-op.
    """
}
