/// How the REPL shows a value: scalars in their written form, records and maps as aligned
/// key/value tables, lists of records (native ones such as DNS records and FTP entries, or
/// maps) as aligned tables with a row an item and a column a field. A table longer than
/// `maxRows` is cut, with a last line saying how many rows are left out.
public enum Display {
    public static func show(_ v: Value, maxRows: Int = 200) -> String {
        switch v {
        case .list(let l) where !l.items.isEmpty:
            if let table = tableOfRows(l.items, maxRows: maxRows) { return table }
            return Value.repr(v)
        case .map(let m) where !m.dict.isEmpty:
            let rows = m.dict.prefix(maxRows).map { (k, x) in [k.displayString, Value.repr(x)] }
            return aligned(rows, header: nil) + more(m.dict.count, maxRows)
        case .native(let n):
            if let t = n.tableRows {
                return aligned(t.rows.prefix(maxRows).map { $0.map(cell) }, header: t.columns) + more(t.rows.count, maxRows)
            }
            if n is RecordObject || n is ErrorObject {
                let rows = try? n.fieldNames.map { name in [name, Value.repr(try n.field(name) ?? .nil)] }
                if let rows, !rows.isEmpty { return n.typeName + "\n" + aligned(rows, header: nil) }
            }
            return n.description
        case .function(let b as BuiltinFunction) where !b.acceptsNoArguments:
            // A command typed alone: how to run it.
            return "\(b.description)  usage: \(b.usage)  (`help \(b.name)` for more)"
        default:
            return Value.repr(v)
        }
    }

    /// The line that ends a cut table.
    static func more(_ count: Int, _ maxRows: Int) -> String {
        count > maxRows ? "\n… \(count - maxRows) more (show VALUE prints them all)" : ""
    }

    static func cell(_ v: Value) -> String {
        if case .string(let s) = v { return s }
        return Value.repr(v)
    }

    /// A list whose items are all maps with string keys, or all native records of one type,
    /// becomes a table (columns in the order fields first appear); nil otherwise.
    static func tableOfRows(_ items: [Value], maxRows: Int) -> String? {
        var columns: [String] = []
        var rows: [[String: Value]] = []
        var kind: String? = nil
        for (i, item) in items.enumerated() {
            var row: [String: Value] = [:]
            let itemKind = item.typeName
            if kind == nil { kind = itemKind } else if kind != itemKind { return nil }
            switch item {
            case .map(let m):
                for (k, x) in m.dict {
                    guard case .string(let key) = k else { return nil }
                    if !columns.contains(key) { columns.append(key) }
                    row[key] = x
                }
            case .native(let n as TableRow):
                for name in n.rowColumns {
                    if !columns.contains(name) { columns.append(name) }
                    row[name] = (try? n.field(name)) ?? .nil
                }
            default: return nil
            }
            // Every item is checked (a table only when all are records); only shown rows are kept.
            if i < maxRows { rows.append(row) }
        }
        guard !columns.isEmpty else { return nil }
        return aligned(rows.map { r in columns.map { r[$0].map(cell) ?? "" } }, header: columns) + more(items.count, maxRows)
    }

    public static func aligned(_ rows: [[String]], header: [String]?) -> String {
        let all = (header.map { [$0] } ?? []) + rows
        guard let ncol = all.map(\.count).max() else { return "" }
        var widths = [Int](repeating: 0, count: ncol)
        for r in all { for (i, c) in r.enumerated() { widths[i] = max(widths[i], min(c.count, 60)) } }
        func line(_ r: [String]) -> String {
            var parts: [String] = []
            for (i, c) in r.enumerated() {
                parts.append(i == r.count - 1 ? c : c.padding(toLength: max(widths[i], c.count), withPad: " ", startingAt: 0))
            }
            return parts.joined(separator: "  ")
        }
        var out: [String] = []
        if let header {
            out.append(line(header))
            out.append(widths.map { String(repeating: "─", count: $0) }.joined(separator: "  "))
        }
        out += rows.map(line)
        return out.joined(separator: "\n")
    }
}

/// A native value that is one row of a table when it comes in a list: its columns.
protocol TableRow: NativeObject {
    var rowColumns: [String] { get }
}

extension RecordObject: TableRow {
    var rowColumns: [String] { fieldNames }
}

extension DNSRecordValue: TableRow {
    /// dig's columns; the type's own fields (`r.exchange`) are in `data` and `fields r`.
    var rowColumns: [String] { ["name", "ttl", "class", "type", "data"] }
}

extension Interpreter {
    /// REPL commands (registered by the REPL): in a script their name is an error that says so.
    public static let replCommands: Set<String> = ["history", "show"]

    /// Whether the text is an unfinished statement (an open bracket, block or string), so the
    /// REPL should read another line before running it. It agrees with the lexer and parser:
    /// text they accept is complete, and text is incomplete only when the next line (which
    /// comes after a newline) could still make it valid; an error no further line can mend
    /// is shown at once.
    public static func isIncomplete(_ text: String) -> Bool {
        let source = Source(name: "<repl>", text: text)
        let tokens: [Token]
        do {
            tokens = try Lexer.tokenize(source)
        } catch let d as Diagnostic {
            // Strings may span lines; an interpolation `{…}` may not, and the next line
            // arrives after a newline, so an unterminated one is an error now.
            return d.message.hasPrefix("unterminated string") || d.message.hasPrefix("unterminated bytes")
        } catch {
            return false
        }
        if (try? Parser.parse(source)) != nil { return false }
        // With the newline the next line brings: incomplete when the parser then stops only
        // for want of input (an unclosed bracket or block, an operand still to come where
        // newlines are spaces), not at a token, nor at the end of a line (`x = 1 +`).
        do {
            _ = try Parser.parse(Source(name: "<repl>", text: text + "\n"))
            return false
        } catch let d as Diagnostic {
            guard d.message.contains("found end of input") || d.message.hasPrefix("unclosed") else { return false }
            // The code of an interpolation is parsed on its own: its end of input is inside
            // a string, where no further line can help.
            if let loc = d.location {
                let at = (loc.line, loc.column)
                for t in tokens {
                    guard case .string = t.kind else { continue }
                    let a = source.lineColumn(of: t.range.start), b = source.lineColumn(of: t.range.end)
                    if at > (a.line, a.column) && at < (b.line, b.column) { return false }
                }
            }
            return true
        } catch {
            return false
        }
    }

    /// Names for completion: globals, namespaces' commands (`ns.cmd`), and a command's options.
    public func completions(prefix: String, line: String) -> [String] {
        var out: [String] = []
        if let dot = prefix.lastIndex(of: ".") {
            let nsName = String(prefix[..<dot])
            let rest = String(prefix[prefix.index(after: dot)...])
            if let ns = try? lookupNamespace(nsName) {
                out = ns.members.keys.filter { $0.hasPrefix(rest) }.map { nsName + "." + $0 }
            } else if let v = globals[nsName], case .native(let n) = v {
                out = n.fieldNames.filter { $0.hasPrefix(rest) }.map { nsName + "." + $0 }
            } else if let v = globals[nsName], case .map(let m) = v {
                out = m.dict.keys.compactMap { if case .string(let s) = $0, s.hasPrefix(rest) { return nsName + "." + s } else { return nil } }
            }
            return out.sorted()
        }
        // Words already on the line: `cidr su` completes a subcommand, `mail fr` an option.
        let words = line.split(whereSeparator: { $0 == " " || $0 == "(" || $0 == "\t" }).map(String.init)
        let before = prefix.isEmpty ? words : Array(words.dropLast())
        // Right after a namespace (`trace o`, `cidr su`) only its commands make sense.
        if before.count == 1, let ns = try? lookupNamespace(before[0]) {
            let subs = ns.members.keys.filter { $0.hasPrefix(prefix) }
            if !subs.isEmpty { return subs.sorted() }
        }
        if let cmdName = before.first, let entry = registry[cmdName.replacingOccurrences(of: " ", with: ".")] {
            var b: BuiltinFunction? = nil
            if case .function(let x as BuiltinFunction) = entry { b = x }
            if case .function(let ns as Namespace) = entry {
                if before.count >= 2, case .function(let x as BuiltinFunction)? = ns.members[before[1]] { b = x } else { b = ns.callable }
            }
            if let opts = b?.optionNames { out += opts.filter { $0.hasPrefix(prefix) }.map { $0 + ":" } }
        }
        out += globals.definedNames.filter { $0.hasPrefix(prefix) }
        out += Lexer.keywords.filter { $0.hasPrefix(prefix) }
        var seen = Set<String>()
        return out.filter { seen.insert($0).inserted }.sorted()
    }
}
