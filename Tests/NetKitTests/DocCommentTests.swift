import Foundation
import XCTest

/// Every public or open declaration in Sources/NetKit carries a `///` doc comment (issue 15).
///
/// The check is textual: a line that starts (after attributes such as `@discardableResult`,
/// `@inline(__always)`) with modifiers including `public` or `open` and then one of the
/// declaration keywords must have a `///` line directly above it; attribute lines may sit
/// between the comment and the declaration. `case` lines inside a public enum are not checked.
final class DocCommentTests: XCTestCase {
    /// Modifiers that may appear before or after `public`/`open` on one declaration.
    static let modifiers = #"(?:public|open|private\(set\)|internal\(set\)|fileprivate\(set\)|final|static|class|mutating|nonmutating|override|convenience|required|lazy|nonisolated(?:\(unsafe\))?|dynamic|indirect|weak|unowned)"#
    /// One attribute, with an optional parenthesised argument list: `@inline(__always)`.
    static let attribute = #"@\w+(?:\([^)]*\))?"#
    /// A public/open declaration line (already trimmed of leading white space).
    static let declaration: NSRegularExpression = {
        let a = attribute, m = modifiers
        let pattern = "^(?:\(a)\\s+)*(?:\(m)\\s+)*(?:public|open)\\b(?:\\s+\(m))*\\s+(?:\(a)\\s+)*"
            + "(?:func|init|var|let|struct|class|enum|protocol|typealias|subscript|actor)\\b"
        return try! NSRegularExpression(pattern: pattern)
    }()

    /// Public declarations in `text` without a `///` line above them: (line number, trimmed line).
    /// `count` receives how many public declarations were seen in total.
    static func undocumented(in text: String, count: inout Int) -> [(Int, String)] {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var missing: [(Int, String)] = []
        for (i, line) in lines.enumerated() {
            let range = NSRange(line.startIndex..., in: line)
            guard declaration.firstMatch(in: line, range: range) != nil else { continue }
            count += 1
            var j = i - 1
            while j >= 0, lines[j].hasPrefix("@") { j -= 1 }
            if j < 0 || !lines[j].hasPrefix("///") { missing.append((i + 1, line)) }
        }
        return missing
    }

    /// The detector itself: it finds the modifier forms the issue names and accepts attributes
    /// between the comment and the declaration.
    func testDetectorSeesEveryForm() {
        let undocumented = """
            public private(set) var a = 1
            public internal(set) var b = 1
            public mutating func c() {}
            public nonmutating func d() {}
            public override func e() {}
            open func f() {}
            open class G {}
            public convenience init(x: Int) {}
            @discardableResult public static func h() -> Int { 1 }
            @inline(__always) public final func i() {}
            public static let j = 1
            public typealias K = Int
            public subscript(i: Int) -> Int { i }
            public init?(s: String) {}
            public protocol L {}
            public enum M {}
            public struct N {}
            """
        var count = 0
        XCTAssertEqual(Self.undocumented(in: undocumented, count: &count).count, 17)
        XCTAssertEqual(count, 17)
        let documented = """
            /// Doc.
            @discardableResult
            @inline(__always)
            public static func h() -> Int { 1 }
            /// Doc.
            public private(set) var a = 1
            // a plain comment is not a doc comment
            public func z() {}
            case public_case
            let notPublic = 1
            """
        count = 0
        let found = Self.undocumented(in: documented, count: &count)
        XCTAssertEqual(count, 3)
        XCTAssertEqual(found.map(\.0), [8])
    }

    /// The real sources: every public NetKit declaration is documented.
    func testEveryPublicNetKitDeclarationHasADocComment() throws {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/NetKit")
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else {
            return XCTFail("cannot list \(root.path)")
        }
        var files: [URL] = []
        for case let url as URL in walker where url.pathExtension == "swift" { files.append(url) }
        files.sort { $0.path < $1.path }
        XCTAssertGreaterThan(files.count, 20, "expected the NetKit sources under \(root.path)")
        var total = 0
        var report: [String] = []
        for file in files {
            let text = try String(contentsOf: file, encoding: .utf8)
            let relative = String(file.path.dropFirst(root.path.count + 1))
            for (line, decl) in Self.undocumented(in: text, count: &total) {
                report.append("Sources/NetKit/\(relative):\(line): \(decl.prefix(100))")
            }
        }
        // A broken pattern that matches nothing would pass vacuously; NetKit has over a thousand.
        XCTAssertGreaterThan(total, 500, "found only \(total) public declarations: is the pattern broken?")
        XCTAssert(report.isEmpty, "\(report.count) of \(total) public NetKit declarations have no /// comment:\n"
                  + report.joined(separator: "\n"))
    }
}
