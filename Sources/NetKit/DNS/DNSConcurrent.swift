import Foundation

extension DNSClient {
    /// Resolves many names against one server with at most `concurrency` queries in flight
    /// over one UDP socket: each query has its own random id, is checked like a single
    /// query, and is retried on its own timeout. Truncated answers are asked again over TCP.
    /// Results come back in the order of `names`.
    public func queryMany(_ names: [DNSName], _ type: DNSType, server: DNSServer, options: DNSQueryOptions = DNSQueryOptions(),
                          concurrency: Int = 64) throws -> [Result<DNSResponse, DNSError>] {
        if let tls = options.tls { return try queryManyTLS(names, type, server: server, tls: tls, options: options) }
        let n = names.count
        var results = [Result<DNSResponse, DNSError>?](repeating: nil, count: n)
        if n == 0 { return [] }
        let limit = max(1, min(concurrency, 1024))
        let edns = options.edns || options.dnssec ? DNSEDNS(udpSize: options.udpSize, dnssecOK: options.dnssec) : nil
        let sock = try DNSSocket.udp(server)
        let start = Date()

        struct Flight { var index: Int; var id: UInt16; var sentAt: Date; var attempt: Int }
        var byID: [UInt16: Flight] = [:]
        // Sends in time order, so the oldest flight is always at the front (stale entries skipped).
        var order: [(id: UInt16, index: Int, attempt: Int)] = []
        var orderHead = 0
        var next = 0, done = 0
        var truncated: [Int] = []
        var rng = SystemRandomNumberGenerator()
        var buf = [UInt8](repeating: 0, count: 65535)
        var timeouts = 0
        var malformed = Set<Int>()

        func send(_ index: Int, attempt: Int) throws -> Bool {
            var id: UInt16
            repeat { id = UInt16.random(in: 0...UInt16.max, using: &rng) } while byID[id] != nil
            let q = DNSQuestion(names[index], type, options.klass)
            let wire = try DNSMessage.query(q, id: id, rd: options.recursionDesired, edns: edns, ad: options.dnssec).encode()
            guard try sock.trySendDatagram(wire) else { return false }
            byID[id] = Flight(index: index, id: id, sentAt: Date(), attempt: attempt)
            order.append((id, index, attempt))
            return true
        }

        while done < n {
            if shouldCancel() { throw DNSError(.interrupted, "interrupted") }
            while byID.count < limit && next < n {
                guard try send(next, attempt: 0) else { break }
                next += 1
            }
            // Wait for answers until the oldest flight's deadline (at most 100 ms a slice).
            while orderHead < order.count, byID[order[orderHead].id].map({ $0.index != order[orderHead].index || $0.attempt != order[orderHead].attempt }) ?? true {
                orderHead += 1
            }
            let oldest = orderHead < order.count ? byID[order[orderHead].id]!.sentAt.addingTimeInterval(options.timeout) : Date().addingTimeInterval(0.1)
            let wait = min(0.1, max(0.001, oldest.timeIntervalSinceNow))
            _ = try sock.wait(Int16(POLLIN), deadline: Date().addingTimeInterval(wait), shouldCancel: shouldCancel)
            while let (count, from) = try sock.tryReceiveDatagram(into: &buf) {
                guard from == server, count >= 12 else { continue }
                let id = UInt16(buf[0]) << 8 | UInt16(buf[1])
                guard let f = byID[id] else { continue }
                let bytes = Array(buf[0..<count])
                let q = DNSQuestion(names[f.index], type, options.klass)
                // A malformed answer is remembered, not trusted: a good one may still come.
                guard let reply = try? DNSMessage(decoding: bytes) else { malformed.insert(f.index); continue }
                guard matches(reply, q) else { continue }
                byID[id] = nil
                if reply.flags.tc { truncated.append(f.index); done += 1; continue }
                results[f.index] = .success(DNSResponse(message: reply, question: q, server: server, elapsed: Date().timeIntervalSince(f.sentAt),
                                                        overTCP: false, size: count))
                done += 1
            }
            // Expired flights: retry with a fresh id, or give up.
            let now = Date()
            while orderHead < order.count {
                let e = order[orderHead]
                guard let f = byID[e.id], f.index == e.index, f.attempt == e.attempt else { orderHead += 1; continue }
                guard now.timeIntervalSince(f.sentAt) >= options.timeout else { break }
                orderHead += 1
                byID[e.id] = nil
                if f.attempt < options.retries, try send(f.index, attempt: f.attempt + 1) { continue }
                let tries = f.attempt + 1
                if malformed.contains(f.index) {
                    results[f.index] = .failure(DNSError(.malformed, "malformed answer from \(server) to \(names[f.index]) \(type)"))
                    done += 1
                    continue
                }
                results[f.index] = .failure(DNSError(.timeout, "no answer from \(server) for \(names[f.index]) \(type) after \(tries) tr\(tries == 1 ? "y" : "ies") of \(DNSClient.seconds(options.timeout)) s"))
                timeouts += 1
                done += 1
            }
            if orderHead > 4096 { order.removeFirst(orderHead); orderHead = 0 }
        }
        for i in truncated {
            let q = DNSQuestion(names[i], type, options.klass)
            do { results[i] = .success(try queryTCP(q, server: server, edns: edns, options: options)) } catch let e as DNSError { results[i] = .failure(e) }
        }
        report(.note, "; \(n) \(type) queries to \(server), \(limit) in flight: \(n - timeouts) answered, \(timeouts) timed out, \(truncated.count) over TCP, \(Int(Date().timeIntervalSince(start) * 1000)) ms")
        return results.map { $0! }
    }
}
