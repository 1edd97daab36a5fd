import Foundation

extension DNSClient {
    /// Asks one question over a stream already open to a server (DNS over TCP framing: a
    /// two-byte length before each message, RFC 1035 §4.2.2): `socket` is a `DNSSocket` made
    /// with `DNSSocket.tcp` or over any `ByteStream` (`DNSSocket(stream:server:)`, e.g. a
    /// `ScriptedStream` in tests). Messages that do not answer the question are dropped; the
    /// answer is checked as over TCP (TSIG when `options.tsig` is set).
    public func query(_ name: DNSName, _ type: DNSType, over socket: DNSSocket,
                      options: DNSQueryOptions = DNSQueryOptions()) throws -> DNSResponse {
        let q = DNSQuestion(name, type, options.klass)
        let edns = options.edns || options.dnssec ? DNSEDNS(udpSize: options.udpSize, dnssecOK: options.dnssec) : nil
        let msg = DNSMessage.query(q, id: DNSClient.randomID(), rd: options.recursionDesired, edns: edns, ad: options.dnssec)
        let (wire, requestMAC) = try signed(msg, options.tsig)
        let start = Date()
        let deadline = start.addingTimeInterval(options.timeout)
        let server = socket.server
        report(.client, "; query to \(server) (TCP)\n" + msg.text())
        try timeoutNamed(q, server) { try socket.sendMessage(wire, deadline: deadline, shouldCancel: shouldCancel) }
        return try awaitStreamAnswer(msg, q, server: server, transport: "TCP", tsig: options.tsig, requestMAC: requestMAC, start: start) {
            try socket.readMessage(deadline: deadline, shouldCancel: shouldCancel)
        }
    }
}
