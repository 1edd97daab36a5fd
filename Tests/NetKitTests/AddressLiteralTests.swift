import XCTest
@testable import NetKit

/// `AddressLiteral(parsing:)`: what a language's lexer hands over for `192.0.2.1`, `10.0.0.0/8`,
/// `2001:db8::1`, `fe80::1%eth0`.
final class AddressLiteralTests: XCTestCase {
    func testAddressesAndNetworks() throws {
        XCTAssertEqual(try AddressLiteral(parsing: "192.0.2.1"), .address(try IPAddress("192.0.2.1")))
        XCTAssertEqual(try AddressLiteral(parsing: "10.0.0.0/8"), .network(try CIDR("10.0.0.0/8")))
        XCTAssertEqual(try AddressLiteral(parsing: "2001:db8::/32"), .network(try CIDR("2001:db8::/32")))
        XCTAssertEqual(try AddressLiteral(parsing: "::ffff:192.0.2.1"), .address(try IPAddress("::ffff:192.0.2.1")))
        guard case .address(let z) = try AddressLiteral(parsing: "fe80::1%eth0") else { return XCTFail("not an address") }
        XCTAssertEqual(z.zone, "eth0")
    }

    func testErrorsAreTheParsersOwn() {
        for (text, message, mac) in [("10.0.0.256", "10.0.0.256: octet 256 is out of range", false),
                                     ("10.0.0.0/33", "10.0.0.0/33: prefix length 33 is out of range (0-32)", false),
                                     ("00:1b:77:49:54:fd", nil, true),
                                     ("2001:db8::12345", nil, false)] {
            XCTAssertThrowsError(try AddressLiteral(parsing: text), text) { e in
                guard let a = e as? AddressError else { return XCTFail("\(text): \(e)") }
                if let message { XCTAssertEqual(a.message, message) }
                XCTAssertEqual(a.looksLikeMAC, mac, text)
                // The same message as the address or network parser gives for the text.
                let direct: AddressError? = {
                    do { if text.contains("/") { _ = try CIDR(text) } else { _ = try IPAddress(text) }; return nil }
                    catch { return error as? AddressError }
                }()
                XCTAssertEqual(a.message, direct?.message, text)
            }
        }
    }
}
