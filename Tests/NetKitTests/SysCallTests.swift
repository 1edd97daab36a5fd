import Foundation
import XCTest
@testable import NetKit

/// The one place system calls meet signals: `SysCall`. Issue 15's rule that EINTR is handled
/// there alone is checked on the sources, so a new copy fails here with its file and line.
final class SysCallTests: XCTestCase {
    func testEINTRIsHandledOnlyInSysCall() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
        var found: [String] = []
        let files = FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil)!
        for case let url as URL in files where url.pathExtension == "swift" && url.lastPathComponent != "SysCall.swift" {
            let text = try String(contentsOf: url, encoding: .utf8)
            for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() where line.contains("EINTR") {
                found.append("\(url.path.replacingOccurrences(of: sources.path + "/", with: "")):\(i + 1): \(line.trimmingCharacters(in: .whitespaces))")
            }
        }
        XCTAssertEqual(found, [], "EINTR handled outside Sources/NetKit/Sockets/SysCall.swift (use SysCall.attempt / retryingSignals / wait):\n" + found.joined(separator: "\n"))
    }

    func testOutcomesAreToldApart() {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        defer { close(fds[0]); close(fds[1]) }
        var b: UInt8 = 0
        // Nothing to read on a non-blocking read: "again", not a failure.
        XCTAssertEqual(SysCall.attempt({ recv(fds[0], &b, 1, Int32(MSG_DONTWAIT)) }), .again)
        XCTAssertEqual(SysCall.attempt({ send(fds[1], "x", 1, 0) }), .done(1))
        XCTAssertEqual(SysCall.attempt({ recv(fds[0], &b, 1, Int32(MSG_DONTWAIT)) }), .done(1))
        XCTAssertEqual(SysCall.attempt({ recv(-1, &b, 1, 0) }), .failed(EBADF))
        // A wait that nothing ends stops at its deadline; a cancel check stops it at once.
        let start = Date()
        XCTAssertEqual(SysCall.wait(fds[0], for: Int16(POLLIN), until: start.addingTimeInterval(0.15), cancel: { false }), .timedOut)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(start), 0.14)
        XCTAssertEqual(SysCall.wait(fds[0], for: Int16(POLLIN), until: start.addingTimeInterval(30), cancel: { true }), .cancelled)
        XCTAssertEqual(SysCall.wait(fds[1], for: Int16(POLLOUT), until: Date().addingTimeInterval(1), cancel: { false }), .ready)
    }
}
