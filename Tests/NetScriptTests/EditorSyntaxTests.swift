import XCTest
import Foundation
@testable import NetScript

/// editors/: the TextMate grammar and the Vim syntax file know every keyword and operator of
/// grammar.md's EBNF. The TextMate patterns are run with a regex engine on each token; the Vim
/// file is loaded by Vim itself, which reports the syntax group of each token.
final class EditorSyntaxTests: XCTestCase {
    static let editors = GrammarDriftTests.root.appendingPathComponent("editors")

    /// What follows a contextual word where it starts a form (grammar.md §1).
    static let contexts: [String: String] = ["spawn": " {", "parallel": " for"]

    /// The keywords and operators of grammar.md: its quoted terminals.
    func grammarTerminals() throws -> (keywords: [String], operators: [String]) {
        let ebnf = try GrammarDriftTests.languageEBNF(try GrammarDriftTests.grammarText())
        var seen = Set<String>()
        var all: [String] = []
        for rule in try GrammarDriftTests.rules(ebnf) {
            for case .terminal(let t) in rule.body where seen.insert(t).inserted { all.append(t) }
        }
        let keywords = all.filter { $0.first!.isLetter }
        let operators = all.filter { !$0.first!.isLetter }
        XCTAssertEqual(keywords.count, 20 + ContextualWord.allCases.count)
        XCTAssertGreaterThanOrEqual(operators.count, 36)
        return (keywords, operators)
    }

    /// Every `match` of the grammar with the scope it gives (its `name`, else its captures').
    func textMatePatterns(_ node: Any, into out: inout [(scope: String, regex: NSRegularExpression)]) throws {
        if let d = node as? [String: Any] {
            if let m = d["match"] as? String {
                var scopes: [String] = []
                if let n = d["name"] as? String { scopes.append(n) }
                if let caps = d["captures"] as? [String: [String: Any]] { scopes += caps.values.compactMap { $0["name"] as? String } }
                let re = try NSRegularExpression(pattern: m)
                for s in scopes { out.append((s, re)) }
            }
            for v in d.values { try textMatePatterns(v, into: &out) }
        } else if let a = node as? [Any] {
            for v in a { try textMatePatterns(v, into: &out) }
        }
    }

    func testTextMateGrammarKnowsEveryKeywordAndOperator() throws {
        let (keywords, operators) = try grammarTerminals()
        let data = try Data(contentsOf: Self.editors.appendingPathComponent("netscript.tmLanguage.json"))
        let grammar = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(grammar["scopeName"] as? String, "source.netscript")
        XCTAssertEqual(grammar["fileTypes"] as? [String], ["net"])
        var patterns: [(scope: String, regex: NSRegularExpression)] = []
        try textMatePatterns(grammar, into: &patterns)
        XCTAssertGreaterThan(patterns.count, 10)

        /// The longest text at the start of `token` that a pattern of one of `scopes` matches.
        func longestMatch(_ token: String, _ scopes: [String]) -> Int {
            let ns = token as NSString
            var best = 0
            for p in patterns where scopes.contains(where: { p.scope.hasPrefix($0) }) {
                if let m = p.regex.firstMatch(in: token, range: NSRange(location: 0, length: ns.length)), m.range.location == 0 {
                    best = max(best, m.range.length)
                }
            }
            return best
        }
        for k in keywords {
            let context = Self.contexts[k] ?? ""
            XCTAssertEqual(longestMatch(k + context, ["keyword.", "constant.language."]), k.utf16.count, "keyword \(k) is not highlighted as a keyword")
            // Not a keyword inside a longer name, nor a contextual word out of its context.
            XCTAssertEqual(longestMatch(k + "x" + context, ["keyword.", "constant.language."]), 0, "\(k)x")
            if !context.isEmpty { XCTAssertEqual(longestMatch(k + " = 1", ["keyword.", "constant.language."]), 0, "\(k) as a name") }
        }
        for o in operators {
            XCTAssertEqual(longestMatch(o, ["keyword.operator.", "punctuation."]), o.utf16.count, "operator \(o) is not matched whole")
        }
        // The package VS Code installs points at this grammar for .net files.
        let pkg = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: Self.editors.appendingPathComponent("package.json"))) as? [String: Any])
        let contributes = try XCTUnwrap(pkg["contributes"] as? [String: Any])
        let grammars = try XCTUnwrap(contributes["grammars"] as? [[String: Any]])
        XCTAssertEqual(grammars.first?["path"] as? String, "./netscript.tmLanguage.json")
        XCTAssertEqual(grammars.first?["scopeName"] as? String, "source.netscript")
        let languages = try XCTUnwrap(contributes["languages"] as? [[String: Any]])
        XCTAssertEqual(languages.first?["extensions"] as? [String], [".net"])
        let config = try XCTUnwrap(languages.first?["configuration"] as? String)
        XCTAssertTrue(FileManager.default.fileExists(atPath: Self.editors.appendingPathComponent(config).path), config)
    }

    func testVimSyntaxKnowsEveryKeywordAndOperator() throws {
        let (keywords, operators) = try grammarTerminals()
        let syntaxFile = Self.editors.appendingPathComponent("vim/syntax/netscript.vim")
        let text = try String(contentsOf: syntaxFile, encoding: .utf8)
        // As written: `syn keyword GROUP words…` and `syn match GROUP #\V a\|b…#` (literal alternatives).
        var vimKeywords = Set<String>(), vimOperators = Set<String>()
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            if words.count > 2, words[0] == "syn", words[1] == "keyword" {
                vimKeywords.formUnion(words.dropFirst(3).filter { !$0.contains("=") && !["contained", "skipwhite", "skipnl"].contains($0) })
            }
            if words.count == 4, words[0] == "syn", words[1] == "match", words[3].hasPrefix("#\\V"), words[3].hasSuffix("#") {
                vimOperators.formUnion(words[3].dropFirst(3).dropLast().components(separatedBy: "\\|"))
            }
        }
        for k in keywords where Self.contexts[k] == nil { XCTAssertTrue(vimKeywords.contains(k), "vim: keyword \(k)") }
        for k in Self.contexts.keys { XCTAssertTrue(text.contains("\\<\(k)\\>"), "vim: contextual word \(k)") }
        for o in operators { XCTAssertTrue(vimOperators.contains(o), "vim: operator \(o)") }

        // As Vim sees them: each token alone on a line is one syntax group from its first to its
        // last column (so `**=` is not `**` and `=`), and `.net` files get the filetype.
        let vim = "/usr/bin/vim"
        guard FileManager.default.isExecutableFile(atPath: vim) else {
            XCTFail("vim is not installed (scripts/deps installs it)"); return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ns-vim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokens = keywords + operators
        // A contextual word is written in its context; only its own columns are checked.
        try (tokens.map { $0 + (Self.contexts[$0] ?? "") }.joined(separator: "\n") + "\n")
            .write(to: dir.appendingPathComponent("t.net"), atomically: true, encoding: .utf8)
        let lengths = tokens.map { String($0.utf8.count) }.joined(separator: ", ")
        let script = """
            let out = [&filetype]
            let lens = [\(lengths)]
            for lnum in range(1, line('$'))
              let groups = []
              for col in range(1, lens[lnum - 1])
                call add(groups, synIDattr(synID(lnum, col, 1), 'name'))
              endfor
              call add(out, join(uniq(groups), ','))
            endfor
            call writefile(out, '\(dir.path)/out')
            qa!
            """
        try script.write(to: dir.appendingPathComponent("check.vim"), atomically: true, encoding: .utf8)
        let r = try runProcess(vim, ["-u", "NONE", "-i", "NONE", "-N", "-Es",
                                     "-c", "set rtp^=\(Self.editors.appendingPathComponent("vim").path)",
                                     "-c", "filetype on", "-c", "syntax on",
                                     "-c", "edit \(dir.path)/t.net", "-c", "source \(dir.path)/check.vim"], timeout: 20)
        XCTAssertFalse(r.timedOut)
        let out = try String(contentsOf: dir.appendingPathComponent("out"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        XCTAssertEqual(out.first, "netscript", "filetype of a .net file: \(r.stderr)")
        for (n, t) in tokens.enumerated() {
            let groups = n + 1 < out.count ? out[n + 1] : ""
            XCTAssertTrue(groups.hasPrefix("netscript") && !groups.contains(","), "vim highlights \(t) as '\(groups)'")
            if t.first!.isLetter { XCTAssertNotEqual(groups, "netscriptFunction", t) }
        }
    }
}
