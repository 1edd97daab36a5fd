import Foundation

/// JSON: `json VALUE` encodes (map keys in their order), `json.parse TEXT` / `parse json TEXT`
/// decode. The codec itself is JSON.swift.
enum JSONBuiltins {
    static func register(in r: Interpreter) {
        r.register("json", min: 1, max: 1, options: ["indent"], usage: "json VALUE [indent: N]", summary: "Encodes a value as JSON text (map keys keep their order); indent: 0 to 100 spaces a level.",
                   example: "json {a: 1, b: [1, 2]}   # {\"a\":1,\"b\":[1,2]}") { a in
            let indent = try a.optionInt("indent")
            if let indent, !(0...100).contains(indent) { throw Diagnostic.value("json: indent: must be 0 to 100, not \(indent)") }
            return .string(try JSON.encode(a[0], indent: indent))
        }
        let parseJSON: (Args) throws -> Value = { a in
            switch a[0] {
            case .string(let s): return try JSON.parse(s)
            case .bytes(let b): return try JSON.parse(String(decoding: b, as: UTF8.self))
            default: throw Diagnostic.type("parse json: needs a string, not \(a[0].typeName.withArticle)")
            }
        }
        r.namespace("json", summary: "JSON: `json VALUE` encodes (map keys in order), `json.parse TEXT` decodes.")
        r.register("json.parse", min: 1, max: 1, usage: "json.parse TEXT", summary: "Parses JSON text into lists, maps, strings and numbers.",
                   example: "(json.parse '{\"a\": [1, 2]}').a   # [1, 2]", parseJSON)
        r.namespace("parse", summary: "Parsers for text formats: `parse json TEXT`.")
        r.register("parse.json", min: 1, max: 1, usage: "parse json TEXT", summary: "Parses JSON text (the same as json.parse).",
                   example: "m = parse json '{\"a\": 1}'", parseJSON)
    }
}
