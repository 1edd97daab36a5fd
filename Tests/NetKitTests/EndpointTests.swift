import XCTest
@testable import NetKit

/// The one `HOST:PORT` parser (Endpoint.swift): what it accepts, and the error for each
/// kind of wrong text.
final class EndpointTests: XCTestCase {
    func ep(_ s: String, _ d: Int? = nil) throws -> Endpoint { try Endpoint(parsing: s, defaultPort: d) }

    func error(_ s: String, _ d: Int? = nil) -> String {
        do { let e = try ep(s, d); return "parsed as \(e)" } catch let e as SocketError {
            XCTAssertEqual(e.kind, .value)
            return e.message
        } catch { return "\(error)" }
    }

    func testHostsAndPorts() throws {
        XCTAssertEqual(try ep("127.0.0.1:80"), Endpoint(host: "127.0.0.1", port: 80))
        XCTAssertEqual(try ep(" example.test:25 "), Endpoint(host: "example.test", port: 25))
        XCTAssertEqual(try ep("example.test", 21), Endpoint(host: "example.test", port: 21))
        XCTAssertEqual(try ep("example.test:2121", 21).port, 2121, "a written port wins over the default")
        XCTAssertEqual(try ep(":7007"), Endpoint(host: "0.0.0.0", port: 7007))
        XCTAssertEqual(try ep("127.0.0.1:0").port, 0)
        XCTAssertEqual(try ep("127.0.0.1:65535").port, 65535)
        if HostLookup.serviceByName("http") != nil { XCTAssertEqual(try ep("example.test:http").port, 80) }
    }

    func testIPv6BracketsAndZones() throws {
        XCTAssertEqual(try ep("[::1]:8080"), Endpoint(host: "::1", port: 8080))
        XCTAssertEqual(try ep("[::1]", 53), Endpoint(host: "::1", port: 53))
        XCTAssertEqual(try ep("::1", 53), Endpoint(host: "::1", port: 53), "a bare IPv6 address takes the default port")
        XCTAssertEqual(try ep("[fe80::1%eth0]:443"), Endpoint(host: "fe80::1%eth0", port: 443))
        XCTAssertEqual(try ep("fe80::1%lo", 22), Endpoint(host: "fe80::1%lo", port: 22))
        XCTAssertEqual(Endpoint(host: "::1", port: 80).description, "[::1]:80")
        XCTAssertEqual(Endpoint(host: "fe80::1%eth0", port: 80).description, "[fe80::1%eth0]:80")
        XCTAssertEqual(Endpoint(host: "192.0.2.1", port: 80).description, "192.0.2.1:80")
        XCTAssertTrue(try ep("[::1]:1").isLiteral)
        XCTAssertFalse(try ep("example.test:1").isLiteral)
    }

    func testClearErrors() {
        XCTAssertEqual(error("example.test"), "'example.test': needs a port (HOST:PORT, or [IPv6]:PORT)")
        XCTAssertEqual(error("::1"), "'::1': needs a port (HOST:PORT, or [IPv6]:PORT)")
        XCTAssertEqual(error("example.test:"), "'example.test:': missing port after ':'")
        XCTAssertEqual(error("[::1]:", 80), "'[::1]:': missing port after ':'")
        XCTAssertEqual(error("example.test:nosuchservice"), "'example.test:nosuchservice': 'nosuchservice' is not a port number or service name")
        XCTAssertEqual(error("example.test:+80"), "'example.test:+80': '+80' is not a port number or service name")
        XCTAssertEqual(error("example.test:65536"), "'example.test:65536': port 65536 is out of range (0–65535)")
        XCTAssertEqual(error("example.test:-1"), "'example.test:-1': port -1 is out of range (0–65535)")
        XCTAssertEqual(error("example.test:99999999999999999999"), "'example.test:99999999999999999999': port 99999999999999999999 is out of range (0–65535)")
        XCTAssertEqual(error("example.test", 70000), "'example.test': default port 70000 is out of range (0–65535)")
        XCTAssertEqual(error("[::1:80"), "'[::1:80': missing ']' after the IPv6 address")
        XCTAssertEqual(error("[::1]80"), "'[::1]80': expected ':PORT' after ']'")
        XCTAssertEqual(error("[]:80"), "'[]:80': nothing between '[' and ']'")
        XCTAssertEqual(error("fe80::1:", 80), "'fe80::1:': an IPv6 address with a port is written [ADDRESS]:PORT")
        XCTAssertEqual(error("::1]:80"), "'::1]:80': ']' without '['")
        XCTAssertEqual(error("  "), "an empty address (expected HOST:PORT)")
    }

    func testUnixPaths() throws {
        XCTAssertEqual(try Endpoint.target("unix:/tmp/s.sock"), .unix("/tmp/s.sock"))
        XCTAssertEqual(try Endpoint.target("/run/x.sock"), .unix("/run/x.sock"))
        XCTAssertEqual(try Endpoint.target("./rel.sock"), .unix("./rel.sock"))
        XCTAssertEqual(try Endpoint.target("../up.sock"), .unix("../up.sock"))
        XCTAssertEqual(try Endpoint.target("localhost:7"), .inet(Endpoint(host: "localhost", port: 7)))
        XCTAssertEqual(try Endpoint.target("localhost", defaultPort: 7), .inet(Endpoint(host: "localhost", port: 7)))
        XCTAssertThrowsError(try Endpoint.target("unix:")) { XCTAssertEqual("\($0)", "'unix:': an empty socket path") }
        let long = "/" + String(repeating: "a", count: 120)
        XCTAssertThrowsError(try Endpoint.target(long)) { XCTAssertTrue("\($0)".contains("at most 107 bytes (this one has 121)"), "\($0)") }
    }

    /// DNS server addresses split with the same parser; their errors stay DNS syntax errors.
    func testDNSServersUseTheSameSplit() throws {
        XCTAssertEqual(try DNSServer("[::1]:5300").description, "[::1]:5300")
        XCTAssertEqual(try DNSServer("127.0.0.1").port, 53)
        XCTAssertEqual(try DNSServer("localhost:5300").description, "127.0.0.1:5300")
        XCTAssertEqual(try DNSServer("::1", defaultPort: 853).description, "[::1]:853")
        XCTAssertThrowsError(try DNSServer("127.0.0.1:99999")) { XCTAssertEqual(($0 as? DNSError)?.kind, .syntax) }
        XCTAssertThrowsError(try DNSServer("127.0.0.1:")) { XCTAssertTrue("\($0)".contains("missing port after ':'"), "\($0)") }
        XCTAssertThrowsError(try DNSServer("[::1")) { XCTAssertTrue("\($0)".contains("missing ']'"), "\($0)") }
        XCTAssertThrowsError(try DNSServer("dns.example.test:53")) { XCTAssertTrue("\($0)".contains("must be an IP address"), "\($0)") }
    }
}
