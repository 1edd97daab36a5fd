import Foundation
import XCTest

/// Every lesson in lessons/ runs offline: `netscript --replay lessons/NAME.nrec lessons/NAME.net`
/// with no server started prints exactly lessons/NAME.out (the recordings were made against the
/// lab's real servers: scripts/lab start echo smtp-tls ftp nsd-tree http-echo), the same every run; and
/// a lesson changed so it differs from its recording stops with a `replay` error.
final class LessonTests: XCTestCase {
    static let lessons = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("lessons")

    func names() throws -> [String] {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.lessons.path)
        return files.filter { $0.hasSuffix(".net") }.map { String($0.dropLast(4)) }.sorted()
    }

    func testEveryLessonReplaysWithNoServer() throws {
        let all = try names()
        XCTAssertGreaterThanOrEqual(all.count, 5, "\(all)")
        for name in all {
            let base = Self.lessons.appendingPathComponent(name).path
            XCTAssertTrue(FileManager.default.fileExists(atPath: base + ".nrec"), "\(name) has no recording")
            let expected = try String(contentsOfFile: base + ".out", encoding: .utf8)
            for run in 1...2 {
                let r = try runProcess(try NetScriptBinary.path(), ["--replay", base + ".nrec", base + ".net"], timeout: 60)
                XCTAssertEqual(r.status, 0, "\(name) run \(run): \(r.stderr)")
                XCTAssertEqual(r.stderr, "", "\(name) run \(run)")
                if r.stdout != expected {
                    XCTFail("\(name) run \(run) differs from \(name).out:\n" + lineDiff(expected: expected, actual: r.stdout))
                }
            }
        }
    }

    /// The DNS lesson asking for another name: the first query that differs is named.
    func testALessonThatDiffersFromItsRecording() throws {
        let base = Self.lessons.appendingPathComponent("dns-iterative").path
        let changed = try String(contentsOfFile: base + ".net", encoding: .utf8)
            .replacingOccurrences(of: "\"www.example.test\"", with: "\"mail.example.test\"")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("ns-lesson-\(UUID().uuidString.prefix(8)).net")
        try changed.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try runProcess(try NetScriptBinary.path(), ["--replay", base + ".nrec", file.path], timeout: 60)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("error[replay]: connection 1 (DNS over UDP to 127.0.0.1:5302), step 1: recorded a query for A www.example.test. (rd off); the script sent a query for A mail.example.test. (rd off)"), r.stderr)
    }
}
