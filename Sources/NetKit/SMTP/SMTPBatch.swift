import Foundation

extension SMTPClient {
    /// One message to send in a batch: envelope sender, recipients, RFC 5322 text.
    public typealias Outgoing = (from: String, to: [String], message: [UInt8])

    /// Sends many messages over the session. With PIPELINING, each message's content goes in
    /// the same write as the next message's envelope and DATA (RFC 2920 §3.1 allows message
    /// content first in a group), so a message costs one round trip instead of two.
    ///
    /// A message the server will not take (sender or every recipient refused, DATA or the
    /// message refused, over SIZE, an extension missing) is a failure in its slot, and the
    /// batch goes on. A transport failure (the server goes away, stops answering, or talks
    /// garbage) throws, saying how many messages had been accepted by then.
    public func sendMany(_ items: [Outgoing]) throws -> [Result<Refused, SMTPError>] {
        try ehloOrHelo()
        var results = [Result<Refused, SMTPError>?](repeating: nil, count: items.count)
        func messageLevel(_ e: SMTPError) -> Bool { [.senderRefused, .recipientsRefused, .data, .notSupported, .value].contains(e.kind) }
        var accepted = 0
        func transportFailure(_ error: Error) -> Error {
            let note = " (\(accepted) of \(items.count) messages had been accepted)"
            if var e = error as? SMTPError { e.message += note; return e }
            if var e = error as? SocketError { e.message += note; return e }
            return error
        }
        guard usePipelining && feature("pipelining") != nil else {
            for (i, item) in items.enumerated() {
                do {
                    results[i] = .success(try sendmail(from: item.from, to: item.to, message: item.message))
                    accepted += 1
                } catch let e as SMTPError where messageLevel(e) {
                    results[i] = .failure(e)
                } catch { throw transportFailure(error) }
            }
            return results.map { $0! }
        }
        var queue: [(index: Int, env: Envelope)] = []
        for (i, item) in items.enumerated() {
            do { queue.append((i, try prepare(from: item.from, to: item.to, message: item.message))) }
            catch let e as SMTPError { results[i] = .failure(e) }
        }
        func envelopeBytes(_ env: Envelope) -> [UInt8] {
            var out: [UInt8] = []
            for l in [env.mailLine] + env.rcptLines + ["DATA"] {
                transcript?.record("smtp", .client, l)
                out += Array((l + "\r\n").utf8)
            }
            return out
        }
        do {
            var pending = queue.isEmpty ? [] : envelopeBytes(queue[0].env)
            for (k, item) in queue.enumerated() {
                if !pending.isEmpty { try write(pending, "MAIL") }
                pending = []
                let mailReply = try readReply("MAIL")
                var rcptReplies: [SMTPReply] = []
                for _ in item.env.recipients { rcptReplies.append(try readReply("RCPT")) }
                let dataReply = try readReply("DATA")
                var verdict = judge(item.env, mailReply, rcptReplies)
                if case .success = verdict, dataReply.code != 354 {
                    verdict = .failure(SMTPError(.data, "DATA \(address): the server refused DATA: \(dataReply.code) \(dataReply.text) (message not sent)", reply: dataReply))
                }
                // What this group's replies will be, in order, after the write below.
                var sendsContent = false, sendsAbortDot = false, sendsReset = false
                if case .success = verdict {
                    recordBody(item.env.wire)
                    pending = item.env.wire + Array(".\r\n".utf8)
                    sendsContent = true
                } else if dataReply.code == 354 {
                    transcript?.record("smtp", .client, ".")
                    pending = Array(".\r\n".utf8)
                    sendsAbortDot = true
                } else {
                    transcript?.record("smtp", .client, "RSET")
                    pending = Array("RSET\r\n".utf8)
                    sendsReset = true
                }
                if k + 1 < queue.count { pending += envelopeBytes(queue[k + 1].env) }
                let isLast = k + 1 == queue.count
                if isLast || sendsContent {
                    do { try write(pending, "DATA") } catch let e as SMTPError where e.kind == .disconnected && sendsContent {
                        throw SMTPError(.disconnected, "DATA \(address): the connection was lost while sending message \(item.index + 1); it was not sent")
                    }
                    pending = []
                }
                if sendsContent {
                    let end: SMTPReply
                    do { end = try readReply("DATA") } catch let e as SMTPError where e.kind == .disconnected {
                        throw SMTPError(.disconnected, "DATA \(address): the server closed the connection before accepting message \(item.index + 1); it was not sent")
                    }
                    if end.code == 250 {
                        results[item.index] = verdict
                        accepted += 1
                    } else {
                        results[item.index] = .failure(SMTPError(.data, "DATA \(address): the server refused the message: \(end.code) \(end.text) (not sent)", reply: end))
                    }
                } else {
                    results[item.index] = verdict
                    if !pending.isEmpty { try write(pending, "MAIL"); pending = [] }
                    if sendsAbortDot || sendsReset { _ = try readReply(sendsReset ? "RSET" : "DATA") }
                }
            }
        } catch {
            throw transportFailure(error)
        }
        return results.map { $0! }
    }
}
