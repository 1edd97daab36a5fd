import XCTest
@testable import NetKit

final class AddressIPTests: XCTestCase {
    func ip(_ s: String) -> IPAddress { try! IPAddress(s) }
    func net(_ s: String) -> CIDR { try! CIDR(s) }

    func testParseAndFormatIPv4() throws {
        XCTAssertEqual(ip("10.0.0.1").description, "10.0.0.1")
        XCTAssertEqual(ip("255.255.255.255").value, 0xffff_ffff)
        XCTAssertEqual(ip("0.0.0.0").value, 0)
        for bad in ["010.0.0.1", "10.1", "1.2.3.256", "0x1.2.3.4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4.5", "", "1..2.3", "1.2.3."] {
            XCTAssertThrowsError(try IPAddress(bad), bad)
        }
        XCTAssertThrowsError(try IPAddress("10.0.0.256")) { e in
            XCTAssertEqual("\(e)", "10.0.0.256: octet 256 is out of range")
        }
        XCTAssertThrowsError(try IPAddress("10.0.0.01")) { e in
            XCTAssertEqual("\(e)", "10.0.0.01: octet 01 has a leading zero (ambiguous octal)")
        }
    }

    func testParseAndFormatIPv6() throws {
        let cases: [(String, String)] = [
            ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
            ("::", "::"), ("::1", "::1"), ("1::", "1::"),
            ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
            ("1:0:0:1:0:0:0:1", "1:0:0:1::1"),
            ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4"), ("::ffff:0:0", "::ffff:0.0.0.0"),
            ("::1:0", "::1:0"), ("FE80::ABCD", "fe80::abcd"), ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"),
            ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"), ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"),
        ]
        for (input, want) in cases { XCTAssertEqual(ip(input).description, want, input) }
        XCTAssertEqual(ip("::ffff:1.2.3.4").embeddedIPv4, ip("1.2.3.4"))
        for bad in [":", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "1:2:3:4:5:6:7:8::", ":1::", "1:", "g::", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4"] {
            XCTAssertThrowsError(try IPAddress(bad), bad)
        }
        let z = ip("fe80::1%eth0")
        XCTAssertEqual(z.zone, "eth0")
        XCTAssertEqual(z.description, "fe80::1%eth0")
        XCTAssertNotEqual(z, ip("fe80::1"))
        XCTAssertEqual(z.withoutZone, ip("fe80::1"))
        XCTAssertThrowsError(try IPAddress("fe80::1%"))
        XCTAssertThrowsError(try IPAddress("10.0.0.1%eth0"))
        XCTAssertEqual(ip("2001:db8::1").exploded, "2001:0db8:0000:0000:0000:0000:0000:0001")
    }

    func testIntegersArithmeticAndOrder() throws {
        XCTAssertEqual(try IPAddress(0x0a000001, version: .v4), ip("10.0.0.1"))
        XCTAssertThrowsError(try IPAddress(UInt128(1) << 32, version: .v4))
        XCTAssertEqual(IPAddress(integer: 1 << 32).version, .v6)
        XCTAssertEqual(try ip("10.0.0.255") + 1, ip("10.0.1.0"))
        XCTAssertEqual(try ip("10.0.1.0") - 1, ip("10.0.0.255"))
        XCTAssertThrowsError(try ip("255.255.255.255") + 1)
        XCTAssertThrowsError(try ip("0.0.0.0") - 1)
        XCTAssertThrowsError(try ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") + 1)
        XCTAssertThrowsError(try ip("::") - Int.max)
        XCTAssertThrowsError(try ip("::") - Int.min)
        XCTAssertEqual(try ip("10.0.1.0") - ip("10.0.0.0"), 256)
        XCTAssertLessThan(ip("255.255.255.255"), ip("::"))
        XCTAssertEqual([ip("::1"), ip("10.0.0.2"), ip("10.0.0.1")].sorted(), [ip("10.0.0.1"), ip("10.0.0.2"), ip("::1")])
        XCTAssertEqual(ip("1.2.3.4").packed, [1, 2, 3, 4])
    }

    func testReverseDNS() {
        XCTAssertEqual(ip("1.2.3.4").reverseDNS, "4.3.2.1.in-addr.arpa.")
        XCTAssertEqual(ip("2001:db8::1").reverseDNS,
                       "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.")
    }

    func testClassification() {
        XCTAssertTrue(ip("127.0.0.1").isLoopback); XCTAssertTrue(ip("::1").isLoopback)
        XCTAssertTrue(ip("10.1.2.3").isPrivate); XCTAssertTrue(ip("fd00::1").isPrivate)
        XCTAssertFalse(ip("8.8.8.8").isPrivate)
        XCTAssertTrue(ip("169.254.1.1").isLinkLocal); XCTAssertTrue(ip("fe80::1").isLinkLocal)
        XCTAssertTrue(ip("224.0.0.1").isMulticast); XCTAssertTrue(ip("ff02::1").isMulticast)
        XCTAssertTrue(ip("192.0.2.1").isDocumentation); XCTAssertTrue(ip("2001:db8::").isDocumentation)
        XCTAssertTrue(ip("0.0.0.0").isUnspecified); XCTAssertTrue(ip("::").isUnspecified)
        XCTAssertTrue(ip("::ffff:1.2.3.4").isIPv4Mapped); XCTAssertTrue(ip("::1.2.3.4").isIPv4Compatible)
        XCTAssertTrue(ip("1.1.1.1").isGlobal); XCTAssertFalse(ip("::1").isGlobal)
        XCTAssertTrue(ip("192.0.0.9").isGlobal); XCTAssertFalse(ip("192.0.0.8").isGlobal)
        XCTAssertTrue(ip("2001:4:112::1").isGlobal); XCTAssertFalse(ip("2001:db8::1").isGlobal)
        XCTAssertTrue(ip("100.64.0.1").isSharedAddressSpace)
        XCTAssertTrue(ip("240.0.0.1").isReserved); XCTAssertTrue(ip("230.0.0.1").isReserved)
        XCTAssertFalse(ip("8.8.8.8").isReserved)
        XCTAssertTrue(ip("255.255.252.0").isNetmask); XCTAssertTrue(ip("0.0.3.255").isHostmask)
        XCTAssertFalse(ip("255.0.255.0").isNetmask)
        XCTAssertEqual(ip("192.0.2.5").specialPurposeBlocks.last?.rfc, "RFC 5737")
    }

    func testIANAAllocation() {
        XCTAssertEqual(ip("1.2.3.4").ianaAllocation?.designation, "APNIC")
        XCTAssertEqual(ip("3.0.0.1").ianaAllocation?.designation, "Administered by ARIN")
        XCTAssertEqual(ip("3.0.0.1").ianaAllocation?.prefix, "3/8")
        XCTAssertEqual(ip("2001:c00::1").ianaAllocation?.designation, "APNIC")
        XCTAssertEqual(ip("2001:db8::1").ianaAddressSpace, "Global Unicast")
        XCTAssertEqual(ip("::ffff:1.2.3.4").ianaAllocation?.designation, "APNIC")
    }

    func testCIDRBasics() throws {
        let n = net("192.168.7.0/22")
        XCTAssertEqual(n.network.description, "192.168.4.0")
        XCTAssertEqual(n.broadcast?.description, "192.168.7.255")
        XCTAssertEqual(n.netmask.description, "255.255.252.0")
        XCTAssertEqual(n.hostmask.description, "0.0.3.255")
        XCTAssertEqual(n.size.intValue, 1024)
        XCTAssertEqual(n.description, "192.168.7.0/22")
        XCTAssertEqual(n.cidr.description, "192.168.4.0/22")
        XCTAssertEqual(n, net("192.168.4.0/22"))
        XCTAssertEqual(net("192.168.0.0/255.255.0.0").description, "192.168.0.0/16")
        XCTAssertEqual(net("10.0.0.0/0.0.255.255").prefixLength, 16)
        XCTAssertEqual(net("10.1.2.3").prefixLength, 32)
        XCTAssertEqual(net("2001:db8::/32").prefixLength, 32)
        XCTAssertNil(net("10.0.0.0/31").broadcast)
        XCTAssertNil(net("10.0.0.0/32").broadcast)
        XCTAssertEqual(net("2001:db8::/64").broadcast?.description, "2001:db8::ffff:ffff:ffff:ffff")
        XCTAssertNil(net("2001:db8::/127").broadcast)
        XCTAssertEqual(net("::/0").size.description, "340282366920938463463374607431768211456")
        XCTAssertThrowsError(try CIDR("10.0.0.0/33")) { e in
            XCTAssertEqual("\(e)", "10.0.0.0/33: prefix length 33 is out of range (0-32)")
        }
        for bad in ["10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/255.0.255.0", "::/129", "::/a", "10.0.0.0/8/8"] {
            XCTAssertThrowsError(try CIDR(bad), bad)
        }
        XCTAssertTrue(n.contains(ip("192.168.5.9")))
        XCTAssertFalse(n.contains(ip("192.168.8.0")))
        XCTAssertTrue(n.contains(net("192.168.6.0/24")))
        XCTAssertFalse(net("192.168.6.0/24").contains(n))
        XCTAssertEqual(n.firstHost.description, "192.168.4.1")
        XCTAssertEqual(n.lastHost.description, "192.168.7.254")
    }

    func testHostsAndSubnets() throws {
        XCTAssertEqual(net("10.0.0.0/30").hosts.map { $0.description }, ["10.0.0.1", "10.0.0.2"])
        XCTAssertEqual(net("10.0.0.0/31").hosts.map { $0.description }, ["10.0.0.0", "10.0.0.1"])
        XCTAssertEqual(net("10.0.0.0/32").hosts.map { $0.description }, ["10.0.0.0"])
        XCTAssertEqual(net("2001:db8::/126").hosts.map { $0.description }, ["2001:db8::1", "2001:db8::2", "2001:db8::3"])
        let subs = try net("10.0.0.0/8").subnets(prefixLength: 32)
        XCTAssertEqual(subs.count.intValue, 1 << 24)
        var it = subs.makeIterator()
        XCTAssertEqual(it.next()?.description, "10.0.0.0/32")
        XCTAssertEqual(it.next()?.description, "10.0.0.1/32")
        XCTAssertEqual(try net("10.0.0.0/23").subnets(prefixLength: 24).map { $0.description }, ["10.0.0.0/24", "10.0.1.0/24"])
        XCTAssertEqual(try net("::/0").subnets(prefixLength: 1).map { $0.description }, ["::/1", "8000::/1"])
        XCTAssertEqual(try net("::/0").subnets(prefixLength: 0).map { $0.description }, ["::/0"])
        XCTAssertThrowsError(try net("10.0.0.0/24").subnets(prefixLength: 23))
        XCTAssertEqual(try net("10.1.2.0/24").supernet(prefixLength: 16).description, "10.1.0.0/16")
        XCTAssertEqual(net("10.1.2.0/24").supernets(from: 22).map { $0.description }, ["10.1.0.0/22", "10.1.2.0/23"])
        XCTAssertEqual(try net("10.0.0.0/24").next().description, "10.0.1.0/24")
        XCTAssertThrowsError(try net("255.255.255.0/24").next())
        XCTAssertThrowsError(try net("0.0.0.0/24").previous())
        var found: [String] = []
        for a in net("0.0.0.0/0").addresses where a.value % 1000 == 7 {
            found.append(a.description)
            if found.count == 2 { break }
        }
        XCTAssertEqual(found, ["0.0.0.7", "0.0.3.239"])
    }

    func testAlgorithms() throws {
        let merged = cidrMerge(["10.0.0.0/24", "10.0.1.0/24", "10.0.3.0/24"].map(net))
        XCTAssertEqual(merged.map { $0.description }, ["10.0.0.0/23", "10.0.3.0/24"])
        XCTAssertEqual(cidrMerge(["::/1", "10.0.0.1", "8000::/1", "10.0.0.0/32", "0.0.0.0/0"].map(net)).map { $0.description },
                       ["0.0.0.0/0", "::/0"])
        XCTAssertEqual(cidrMerge([]), [])
        XCTAssertEqual(cidrExclude(net("10.0.0.0/8"), net("10.1.2.0/24")).count, 16)
        XCTAssertEqual(cidrExclude(net("10.0.0.0/8"), net("10.1.2.0/24")).first?.description, "10.0.0.0/16")
        XCTAssertEqual(cidrExclude(net("10.0.0.0/24"), net("10.0.0.0/8")), [])
        XCTAssertEqual(cidrExclude(net("10.0.0.0/24"), net("11.0.0.0/8")), [net("10.0.0.0/24")])
        XCTAssertEqual(try spanningCIDR([ip("10.0.0.1"), ip("10.0.2.5")]).description, "10.0.0.0/22")
        XCTAssertThrowsError(try spanningCIDR([ip("10.0.0.1"), ip("::1")]))
        XCTAssertEqual(try iprangeToCIDRs(ip("10.0.0.1"), ip("10.0.0.50")).map { $0.description },
                       ["10.0.0.1/32", "10.0.0.2/31", "10.0.0.4/30", "10.0.0.8/29", "10.0.0.16/28",
                        "10.0.0.32/28", "10.0.0.48/31", "10.0.0.50/32"])
        XCTAssertEqual(try iprangeToCIDRs(ip("::"), ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).map { $0.description }, ["::/0"])
        XCTAssertEqual(try iprangeToCIDRs(ip("0.0.0.0"), ip("255.255.255.255")).map { $0.description }, ["0.0.0.0/0"])
    }

    func testParseCIDRLines() throws {
        let text = "# header\n10.0.0.0/24\n\n  10.0.1.0/24  # trailing\r\n2001:db8::/32\n"
        XCTAssertEqual(try parseCIDRLines(text: text).map { $0.description }, ["10.0.0.0/24", "10.0.1.0/24", "2001:db8::/32"])
        XCTAssertThrowsError(try parseCIDRLines(text: "10.0.0.0/8\n\n10.0.0.0/33\n")) { e in
            XCTAssertEqual("\(e)", "line 3: 10.0.0.0/33: prefix length 33 is out of range (0-32)")
        }
    }

    func testIPRange() throws {
        let r = try IPRange("10.0.0.1-10.0.0.50")
        XCTAssertEqual(r.size.intValue, 50)
        XCTAssertEqual(r.cidrs.count, 8)
        XCTAssertTrue(r.contains(ip("10.0.0.50")))
        XCTAssertFalse(r.contains(ip("10.0.0.51")))
        XCTAssertTrue(r.contains(net("10.0.0.4/30")))
        XCTAssertEqual(Array(r.prefix(2)).map { $0.description }, ["10.0.0.1", "10.0.0.2"])
        XCTAssertEqual(r.description, "10.0.0.1-10.0.0.50")
        XCTAssertThrowsError(try IPRange("10.0.0.5-10.0.0.1"))
        XCTAssertThrowsError(try IPRange("10.0.0.5-::1"))
        XCTAssertThrowsError(try IPRange("10.0.0.5"))
    }
}
