import Foundation

/// What a learner should expect back after a step NetScript is about to send: the reply
/// step mode announces before it waits for Enter.
extension ProtocolGlossary {
    static let smtpExpected: [String: String] = [
        "EHLO": "250, its first line greeting you and one line per extension (SIZE, STARTTLS, AUTH …)",
        "HELO": "250 and the server's name",
        "MAIL": "250 if the sender is accepted; 550/553 if refused, 530 if you must authenticate first",
        "RCPT": "250 (or 251) if the recipient is accepted; 550 for no such user, 554/553 when refused",
        "DATA": "354: then send the message and end it with a line holding only \".\"",
        ".": "250 with the queue id: the server has taken responsibility for the message",
        "RSET": "250: the transaction is forgotten", "NOOP": "250", "QUIT": "221, then the server closes",
        "VRFY": "250/251 if the user exists, 252 if the server will not say, 550 if not",
        "STARTTLS": "220: then both ends start the TLS handshake, and the client says EHLO again",
        "AUTH": "334 with a base64 challenge (or 235 at once for PLAIN with its payload; 535 if wrong)",
        "HELP": "214", "EXPN": "250 with the members, or 550/252",
    ]
    static let ftpExpected: [String: String] = [
        "USER": "331: the password is needed (or 230 if none is)", "PASS": "230 logged in, or 530 if refused",
        "CWD": "250, or 550 if there is no such directory", "CDUP": "250 (or 200)", "PWD": "257 \"/the/directory\"",
        "PASV": "227 with h1,h2,h3,h4,p1,p2: the address to open the data connection to",
        "EPSV": "229 (|||port|): the port on the same host to open the data connection to",
        "PORT": "200: the server will connect to you", "EPRT": "200: the server will connect to you",
        "TYPE": "200", "MODE": "200", "STRU": "200",
        "RETR": "150 (opening the data connection), the file's bytes on it, then 226; 550 if there is no such file",
        "STOR": "150, then send the bytes on the data connection and close it; 226 when stored",
        "APPE": "150, then 226", "LIST": "150, the listing on the data connection, then 226",
        "NLST": "150, the names on the data connection, then 226", "MLSD": "150, the facts on the data connection, then 226",
        "MLST": "250 with the facts on one line", "SIZE": "213 and the size in bytes (550 if none)",
        "MDTM": "213 and YYYYMMDDHHMMSS", "FEAT": "211 and one extension a line", "SYST": "215 and the system type",
        "REST": "350: the next RETR starts at that offset", "RNFR": "350: now send RNTO", "RNTO": "250",
        "DELE": "250, or 550", "MKD": "257 with the new directory", "RMD": "250", "NOOP": "200",
        "QUIT": "221, then the server closes", "AUTH": "234: the TLS handshake starts", "PBSZ": "200", "PROT": "200",
        "OPTS": "200", "STAT": "211 (or 213)", "HELP": "214", "ABOR": "226 (or 426 then 226)",
    ]

    /// The reply to expect after `e`, a step about to be sent; nil when there is nothing to say.
    public static func expectedReply(_ e: TranscriptEvent) -> String? {
        let line = firstLine(e.text)
        switch e.proto {
        case "smtp", "ftp":
            let word = line == "." ? "." : line.split(separator: " ", maxSplits: 1).first.map { String($0).uppercased() } ?? ""
            if e.proto == "smtp" { return smtpExpected[word] ?? (word.isEmpty ? nil : "a reply line with a three-digit code") }
            return ftpExpected[word] ?? (word.isEmpty ? nil : "a reply line with a three-digit code")
        case "http":
            if line.split(separator: " ").first.map(String.init) == "HEAD" { return "a status line and headers, no body" }
            return "a status line (HTTP/1.1 200 OK …), headers, a blank line, then the body"
        case "dns":
            if e.text.contains("update to") { return "a response with the same id: rcode NOERROR if the update was applied" }
            if e.text.contains("(UDP)") || e.text.contains("(TCP)") || e.text.contains("(TLS)") {
                return "a response with the same id and the question repeated: an answer, a referral (NS records, no answer), NODATA or NXDOMAIN"
            }
            return "a response with the same id"
        case "tcp", "tls", "unix":
            return "whatever the peer's protocol answers (recv shows it), or nothing"
        case "udp":
            return "a datagram back, if the peer answers at all (UDP promises nothing)"
        default:
            return nil
        }
    }
}
