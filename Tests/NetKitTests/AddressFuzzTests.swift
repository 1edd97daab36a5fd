import XCTest
@testable import NetKit

/// Seeded fuzzing of every address parser: random and garbled strings must produce a value or
/// an `AddressError`, never a crash or another error type.
final class AddressFuzzTests: XCTestCase {
    func testParsersNeverCrash() {
        var rng = SplitMix64(seed: 0xf022)
        let seeds = ["10.0.0.1", "192.168.7.0/22", "2001:db8::1", "::ffff:1.2.3.4", "fe80::1%eth0",
                     "10.0.0.1-10.0.0.50", "192.0.2.*", "192.168.0-1.1-254", "10.0.0.1,3,5-7", "1.2.3.4/30",
                     "00-1B-77-49-54-FD", "001b.7749.54fd", "001b77:4954fd", "10.0.0.0/255.255.0.0",
                     "1:2:3:4:5:6:7:8", "::", "255.255.255.255/32", "ffff::/128"]
        let alphabet = Array("0123456789abcdefABCDEFxX:.-/,*% \t\n\u{0}é🙂")
        var checked = 0
        for round in 0..<30_000 {
            var chars: [Character]
            if round % 5 == 0 {
                chars = (0..<Int(rng.next() % 50)).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            } else {
                chars = Array(seeds[Int(rng.next() % UInt64(seeds.count))])
                for _ in 0..<(1 + Int(rng.next() % 4)) {
                    let k = Int(rng.next() % UInt64(chars.count + 1))
                    let c = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                    switch rng.next() % 4 {
                    case 0 where k < chars.count: chars.remove(at: k)
                    case 1 where k < chars.count: chars[k] = c
                    case 2: chars.insert(contentsOf: String(Int(rng.next() % 100_000)), at: k)
                    default: chars.insert(c, at: k)
                    }
                }
            }
            let text = String(chars)
            expectValueOrAddressError(text) { _ = try IPAddress(text) }
            expectValueOrAddressError(text) { _ = try CIDR(text) }
            expectValueOrAddressError(text) { _ = try IPRange(text) }
            expectValueOrAddressError(text) { _ = try IPGlob(text) }
            expectValueOrAddressError(text) {
                let target = try NmapTarget(text)
                if target.count < 100_000 { _ = Array(target) }
            }
            expectValueOrAddressError(text) { _ = try EUI(text) }
            expectValueOrAddressError(text) { _ = try parseCIDRLines(text: text + "\n" + text) }
            expectValueOrAddressError(text) { _ = try IPSet(parsing: [text]) }
            if let a = try? IPAddress(text) {
                _ = a.description; _ = a.reverseDNS; _ = a.isGlobal; _ = a.ianaAllocation
                _ = try? a + Int(truncatingIfNeeded: rng.next())
                _ = try? a - Int(truncatingIfNeeded: rng.next())
            }
            if let c = try? CIDR(text) {
                _ = c.size.description; _ = c.broadcast; _ = c.firstHost
                _ = try? c.next(Int(truncatingIfNeeded: rng.next()))
                _ = try? c.subnets(prefixLength: Int(truncatingIfNeeded: rng.next() % 140) - 5).prefix(3).map { $0 }
                _ = try? c.supernet(prefixLength: Int(truncatingIfNeeded: rng.next() % 140) - 5)
            }
            checked += 1
        }
        XCTAssertEqual(checked, 30_000)
    }

    func testIntegerEdgesNeverTrap() {
        XCTAssertThrowsError(try IPAddress(UInt128.max, version: .v4))
        XCTAssertThrowsError(try EUI(UInt64.max, width: 48))
        XCTAssertThrowsError(try EUI(1, width: 32))
        let top = try! IPAddress("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        XCTAssertThrowsError(try top + Int.max)
        XCTAssertThrowsError(try CIDR("::/0").next())
        XCTAssertThrowsError(try CIDR("8000::/1").next(Int.max))
        XCTAssertThrowsError(try CIDR("::/1").previous(Int.min))
        XCTAssertEqual(try CIDR("::/0").subnets(prefixLength: 128).count.description, "340282366920938463463374607431768211456")
        XCTAssertEqual(try IPRange("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").size.description,
                       "340282366920938463463374607431768211456")
    }

    private func expectValueOrAddressError(_ text: String, _ body: () throws -> Void) {
        do { try body() } catch is AddressError {} catch {
            XCTFail("\(text.debugDescription): threw \(type(of: error)) \(error), not AddressError")
        }
    }
}
