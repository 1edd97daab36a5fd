import Foundation
import XCTest
@testable import NetKit

/// Seeded fuzzing of the decoder: real responses (from NSD when it is installed, and
/// encoded samples of every type) mutated and truncated. Each must decode or fail with
/// `malformed`; what decodes must print and encode again without trouble.
final class DNSFuzzTests: XCTestCase {
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    func corpus() throws -> [[UInt8]] {
        var out: [[UInt8]] = []
        for line in DNSCodecTests.presentationSamples {
            var m = DNSMessage.query(DNSQuestion(try DNSName("example.test"), .ANY), id: 99)
            m.flags.qr = true
            m.answers = [try DNSRecord(line)]
            m.authority = [try DNSRecord("example.test. 60 IN NS ns1.example.test.")]
            out.append(try m.encode())
        }
        // Real responses from NSD, raw off the wire.
        if let nsd = try? NSDServer() {
            defer { nsd.stop() }
            for (type, name) in DNSPeerTests.questions {
                let q = DNSMessage.query(DNSQuestion(try DNSName(name), DNSType(type)!), id: 1234, rd: false)
                let sock = try DNSSocket.tcp(nsd.server, deadline: Date().addingTimeInterval(3), shouldCancel: { false })
                let wire = try q.encode()
                try sock.sendAll([0, UInt8(wire.count)] + wire, deadline: Date().addingTimeInterval(3), shouldCancel: { false })
                if let bytes = try sock.readMessage(deadline: Date().addingTimeInterval(3), shouldCancel: { false }) { out.append(bytes) }
            }
        }
        return out
    }

    func testMutatedAndTruncatedResponsesDecodeOrAreMalformed() throws {
        let seeds = try corpus()
        XCTAssertGreaterThan(seeds.count, 20)
        // A fixed seed; DNS_FUZZ_SEED runs another one (for exploring, not for CI).
        let seed = ProcessInfo.processInfo.environment["DNS_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x5EED_D115
        var rng = SplitMix64(state: seed)
        var decoded = 0, malformed = 0
        let start = Date()
        for i in 0..<20_000 {
            var b = seeds[Int(rng.next() % UInt64(seeds.count))]
            switch i % 5 {
            case 0: b = Array(b.prefix(Int(rng.next() % UInt64(b.count + 1))))
            case 1:
                for _ in 0..<(1 + Int(rng.next() % 4)) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 2:
                // A compression pointer somewhere, to anywhere.
                let at = Int(rng.next() % UInt64(b.count - 1))
                b[at] = 0xC0 | UInt8(rng.next() % 4); b[at + 1] = UInt8(truncatingIfNeeded: rng.next())
            case 3:
                // Counts and lengths: the header's section counts, or a random u16 made large.
                let at = 4 + 2 * Int(rng.next() % 4)
                b[at + 1] = UInt8(truncatingIfNeeded: rng.next())
            default:
                let at = Int(rng.next() % UInt64(b.count))
                b.insert(contentsOf: b[at..<min(b.count, at + Int(rng.next() % 16))], at: Int(rng.next() % UInt64(b.count)))
            }
            do {
                let m = try DNSMessage(decoding: b)
                decoded += 1
                _ = m.text()
                for r in m.answers + m.authority + m.additional {
                    // Whatever decodes prints, and its text parses back to the same data.
                    let text = r.description
                    if let back = try? DNSRecord(text) {
                        XCTAssertEqual(back.data.wire(back.type), r.data.wire(r.type), text)
                    } else if r.name.labels.allSatisfy({ !$0.isEmpty }) {
                        XCTFail("cannot parse back: \(text)")
                    }
                }
                _ = try? m.encode()
            } catch let e as DNSError {
                XCTAssertEqual(e.kind, .malformed, "\(e)")
                malformed += 1
            }
        }
        XCTAssertGreaterThan(decoded, 1000)
        XCTAssertGreaterThan(malformed, 1000)
        XCTAssertLessThan(Date().timeIntervalSince(start), 60)
    }
}
