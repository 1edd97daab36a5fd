import XCTest
@testable import NetKit

final class AddressSetTests: XCTestCase {
    func ip(_ s: String) -> IPAddress { try! IPAddress(s) }
    func net(_ s: String) -> CIDR { try! CIDR(s) }
    func set(_ s: [String]) -> IPSet { try! IPSet(parsing: s) }
    func texts(_ s: IPSet) -> [String] { s.cidrs.map { $0.description } }

    func testIPSetAlgebra() {
        let a = set(["10.0.0.0/24", "10.0.1.0/24", "2001:db8::/64"])
        let b = set(["10.0.1.128/25", "10.0.2.0/24"])
        XCTAssertEqual(texts(a), ["10.0.0.0/23", "2001:db8::/64"])
        XCTAssertEqual(texts(a | b), ["10.0.0.0/23", "10.0.2.0/24", "2001:db8::/64"])
        XCTAssertEqual(texts(a & b), ["10.0.1.128/25"])
        XCTAssertEqual(texts(a - b), ["10.0.0.0/24", "10.0.1.0/25", "2001:db8::/64"])
        XCTAssertEqual(texts(a ^ b), ["10.0.0.0/24", "10.0.1.0/25", "10.0.2.0/24", "2001:db8::/64"])
        XCTAssertTrue(a.contains(ip("10.0.1.5")))
        XCTAssertFalse(a.contains(ip("10.0.2.5")))
        XCTAssertTrue(a.contains(net("10.0.0.128/25")))
        XCTAssertFalse(a.contains(net("10.0.0.0/22")))
        XCTAssertTrue(set(["10.0.1.128/26"]).isSubset(of: a))
        XCTAssertTrue(a.isSuperset(of: set(["10.0.1.128/26"])))
        XCTAssertFalse(a.isDisjoint(with: b))
        XCTAssertTrue(a.isDisjoint(with: set(["192.168.0.0/16"])))
        XCTAssertEqual(a.size.description, String(512 + (UInt128(1) << 64)))
        XCTAssertEqual(set(["::/0", "0.0.0.0/0"]).size.description, "340282366920938463463374607436063178752")
    }

    func testIPSetMutationAndIteration() throws {
        var s = IPSet()
        XCTAssertTrue(s.isEmpty)
        s.add(net("10.0.0.0/30"))
        s.add(ip("10.0.0.4"))
        s.add(try IPRange("10.0.0.5-10.0.0.7"))
        XCTAssertEqual(texts(s), ["10.0.0.0/29"])
        s.remove(ip("10.0.0.3"))
        XCTAssertEqual(texts(s), ["10.0.0.0/31", "10.0.0.2/32", "10.0.0.4/30"])
        XCTAssertEqual(s.map { $0.description }, ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.5", "10.0.0.6", "10.0.0.7"])
        XCTAssertEqual(s.ranges.map { $0.description }, ["10.0.0.0-10.0.0.2", "10.0.0.4-10.0.0.7"])
        XCTAssertFalse(s.isContiguous)
        s.remove(net("0.0.0.0/0"))
        XCTAssertTrue(s.isEmpty)
        var big = IPSet([net("0.0.0.0/0")])
        big.remove(net("10.0.0.0/8"))
        XCTAssertEqual(big.cidrs.count, 8)
        var bigIt = big.makeIterator()
        XCTAssertNotNil(bigIt.next())
    }

    func testIPSetFromLargeList() {
        var rng = SplitMix64(seed: 42)
        let nets = (0..<200_000).map { _ in CIDR(unchecked: UInt128(rng.next() & 0xffff_ff00), .v4, 24) }
        let s = IPSet(nets)
        XCTAssertEqual(s.cidrs, cidrMerge(nets))
        for n in nets.prefix(1000) { XCTAssertTrue(s.contains(n)) }
    }

    func testGlobs() throws {
        XCTAssertTrue(validGlob("192.0.2.*"))
        XCTAssertTrue(validGlob("192.0.2.1-10"))
        XCTAssertTrue(validGlob("192.0-1.*.*"))
        XCTAssertFalse(validGlob("192.0.*.1"))
        XCTAssertFalse(validGlob("192.*.1-2.*"))
        XCTAssertFalse(validGlob("192.0.1-2.1-2"))
        XCTAssertFalse(validGlob("192.0.2.10-1"))
        XCTAssertFalse(validGlob("192.0.2"))
        XCTAssertFalse(validGlob("192.0.2.256"))
        XCTAssertEqual(try globToCIDRs("192.0.2.1-10").map { $0.description },
                       ["192.0.2.1/32", "192.0.2.2/31", "192.0.2.4/30", "192.0.2.8/31", "192.0.2.10/32"])
        XCTAssertEqual(try globToIPRange("192.0.*.*").description, "192.0.0.0-192.0.255.255")
        XCTAssertEqual(try cidrToGlob(net("10.0.0.0/23")), "10.0.0-1.*")
        XCTAssertEqual(try cidrToGlob(net("10.0.0.0/8")), "10.*.*.*")
        XCTAssertEqual(try iprangeToGlobs(ip("10.0.0.1"), ip("10.0.1.5")),
                       ["10.0.0.1", "10.0.0.2-3", "10.0.0.4-7", "10.0.0.8-15", "10.0.0.16-31", "10.0.0.32-63",
                        "10.0.0.64-127", "10.0.0.128-255", "10.0.1.0-3", "10.0.1.4-5"])
        let g = try IPGlob("192.0.2.*")
        XCTAssertEqual(g.size.intValue, 256)
        XCTAssertEqual(g.description, "192.0.2.*")
        XCTAssertTrue(g.contains(ip("192.0.2.77")))
    }

    func testNmap() throws {
        XCTAssertEqual(try iterNmapRange(["192.168.0-1.1-3"]).map { $0.description },
                       ["192.168.0.1", "192.168.0.2", "192.168.0.3", "192.168.1.1", "192.168.1.2", "192.168.1.3"])
        XCTAssertEqual(try iterNmapRange(["10.0.0.1,3,5-7"]).map { $0.description },
                       ["10.0.0.1", "10.0.0.3", "10.0.0.5", "10.0.0.6", "10.0.0.7"])
        XCTAssertEqual(try iterNmapRange(["10.0.0.1/30", "::1"]).map { $0.description },
                       ["10.0.0.0", "10.0.0.1", "10.0.0.2", "10.0.0.3", "::1"])
        XCTAssertEqual(try iterNmapRange(["10.0.0.-2"]).map { $0.description }, ["10.0.0.0", "10.0.0.1", "10.0.0.2"])
        XCTAssertEqual(try NmapTarget("10.0.*.254-").count, 512)
        XCTAssertTrue(validNmapRange("1.2.3.4/30"))
        XCTAssertFalse(validNmapRange("1.2.3.4/0"))
        XCTAssertFalse(validNmapRange("1.2.3"))
        XCTAssertFalse(validNmapRange("1.2.3.5-4"))
        XCTAssertFalse(validNmapRange("1.2.3.256"))
        XCTAssertFalse(validNmapRange(""))
        var it = try NmapTarget("10.0.0.0/8").makeIterator()
        XCTAssertEqual(it.next()?.description, "10.0.0.0")
    }

    func testEUI() throws {
        let e = try EUI("00-1B-77-49-54-FD")
        XCTAssertEqual(e.description, "00-1B-77-49-54-FD")
        for form in ["00:1b:77:49:54:fd", "0:1b:77:49:54:fd", "001b.7749.54fd", "001b77:4954fd", "001b774954fd", "001B-7749-54FD"] {
            XCTAssertEqual(try EUI(form), e, form)
        }
        XCTAssertEqual(e.format(.unix), "0:1b:77:49:54:fd")
        XCTAssertEqual(e.format(.unixExpanded), "00:1b:77:49:54:fd")
        XCTAssertEqual(e.format(.cisco), "001b.7749.54fd")
        XCTAssertEqual(e.format(.bare), "001B774954FD")
        XCTAssertEqual(e.format(.pgsql), "001b77:4954fd")
        XCTAssertEqual(e.ipv6LinkLocal.description, "fe80::21b:77ff:fe49:54fd")
        XCTAssertEqual(e.eui64.description, "00-1B-77-FF-FE-49-54-FD")
        XCTAssertEqual(e.modifiedEUI64.description, "02-1B-77-FF-FE-49-54-FD")
        XCTAssertEqual(try e.ipv6(prefix: ip("2001:db8::")).description, "2001:db8::21b:77ff:fe49:54fd")
        XCTAssertEqual(try e.ipv6(network: net("2001:db8:1:2::/64")).description, "2001:db8:1:2:21b:77ff:fe49:54fd")
        XCTAssertThrowsError(try e.ipv6(network: net("2001:db8::/96")))
        XCTAssertEqual(e.ouiText, "00-1B-77")
        XCTAssertEqual(e.ei, "49-54-FD")
        XCTAssertTrue(e.isUniversallyAdministered); XCTAssertTrue(e.isUnicast)
        let local = try EUI("02:00:00:00:00:01")
        XCTAssertTrue(local.isLocallyAdministered)
        XCTAssertTrue(try EUI("01:00:5e:00:00:01").isMulticast)
        let e64 = try EUI("00-1B-77-FF-FE-49-54-FD")
        XCTAssertEqual(e64.width, 64)
        XCTAssertEqual(try EUI("001b.77ff.fe49.54fd"), e64)
        XCTAssertEqual(e64.format(.cisco), "001b.77ff.fe49.54fd")
        for bad in ["", "00-1B-77-49-54", "00:1b-77:49:54:fd", "0g:1b:77:49:54:fd", "001:b77:49:54:fd:00", "001b77494", "00-1B-77-49-54-FD-00"] {
            XCTAssertThrowsError(try EUI(bad), bad)
        }
        XCTAssertTrue(try EUI("00-50-C2-00-01-23").isIAB)
    }

    func testIEEERegistry() throws {
        guard FileManager.default.fileExists(atPath: "/usr/share/ieee-data/oui.csv") else {
            XCTFail("install Debian's ieee-data package (apt-get install ieee-data) for the IEEE registry test")
            return
        }
        XCTAssertEqual(try EUI("00-1B-77-49-54-FD").registration()?.organization, "Intel Corporate")
        XCTAssertEqual(try EUI("00-1B-77-49-54-FD").registration()?.registry, "MA-L")
        // 70-B3-D5 is carved into MA-S (36-bit) blocks: the longest match wins.
        let mas = try EUI("70-B3-D5-F2-F0-01").registration()
        XCTAssertEqual(mas?.registry, "MA-S")
        XCTAssertEqual(mas?.organization, "TELEPLATFORMS")
        XCTAssertEqual(try EUI("00-50-C2-7D-50-01").registration()?.organization, "DEUTA-WERKE GmbH")
        XCTAssertThrowsError(try IEEERegistry(directory: "/nonexistent")) { e in
            XCTAssertTrue("\(e)".contains("ieee-data"))
        }
    }
}

/// A small seeded PRNG (SplitMix64) so address tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
