import Foundation

/// One assignment from the IEEE registration authority's public listings.
public struct IEEERegistration: Sendable, Equatable, CustomStringConvertible {
    /// "MA-L" (24-bit OUI), "MA-M" (28-bit), "MA-S" (36-bit) or "IAB" (36-bit).
    public let registry: String
    /// The assigned prefix in hex digits, e.g. `001B77`.
    public let assignment: String
    /// The organisation's name.
    public let organization: String
    /// The organisation's postal address, as listed.
    public let address: String
    /// Length of the assigned prefix in bits (24, 28 or 36).
    public var prefixBits: Int { assignment.count * 4 }

    /// `MA-L 001B77 Intel Corporate`: registry, assignment and organisation.
    public var description: String { "\(registry) \(assignment) \(organization)" }
}

/// The IEEE MA-L / MA-M / MA-S / IAB registries, read from Debian's `ieee-data` package
/// (`/usr/share/ieee-data/{oui,mam,oui36,iab}.csv`). Loaded once, on first use.
public final class IEEERegistry: Sendable {
    /// Where Debian's `ieee-data` puts the files; `IEEE_DATA_DIR` in the environment overrides it.
    public static let defaultDirectory = "/usr/share/ieee-data"

    private let byBits: [Int: [UInt64: IEEERegistration]]

    /// Loads the registries from a directory; `oui.csv` must exist, the others are optional.
    public init(directory: String) throws {
        let files = [("oui.csv", 24), ("mam.csv", 28), ("oui36.csv", 36), ("iab.csv", 36)]
        var tables: [Int: [UInt64: IEEERegistration]] = [24: [:], 28: [:], 36: [:]]
        for (name, bits) in files {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                if name == "oui.csv" {
                    throw AddressError(path, "IEEE registry file not found; install Debian's ieee-data package (apt-get install ieee-data)")
                }
                continue
            }
            for row in IEEERegistry.csvRows([UInt8](data)).dropFirst() where row.count >= 3 {
                let assignment = row[1].uppercased()
                guard assignment.count * 4 == bits, let key = UInt64(assignment, radix: 16) else { continue }
                tables[bits, default: [:]][key] = IEEERegistration(
                    registry: row[0], assignment: assignment, organization: row[2],
                    address: row.count > 3 ? row[3].trimmingCharacters(in: .whitespaces) : "")
            }
        }
        byBits = tables
    }

    private static let sharedResult: Result<IEEERegistry, Error> = Result {
        try IEEERegistry(directory: ProcessInfo.processInfo.environment["IEEE_DATA_DIR"] ?? defaultDirectory)
    }

    /// The registry from the default location, loaded on first call.
    public static func shared() throws -> IEEERegistry { try sharedResult.get() }

    /// The most specific registration covering the identifier, if any.
    public func lookup(_ eui: EUI) -> IEEERegistration? {
        for bits in [36, 28, 24] {
            let key = eui.value >> UInt64(eui.width - bits)
            if let r = byBits[bits]?[key] { return r }
        }
        return nil
    }

    /// The MA-L (24-bit OUI) registration.
    public func lookup(oui: UInt32) -> IEEERegistration? { byBits[24]?[UInt64(oui)] }

    /// Number of registrations of each prefix length.
    public var counts: [Int: Int] { byBits.mapValues { $0.count } }

    /// RFC 4180-style rows: commas, double-quoted fields with `""` escapes, CRLF or LF.
    static func csvRows(_ bytes: [UInt8]) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field: [UInt8] = []
        var inQuotes = false
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if inQuotes {
                if c == 34 {
                    if i + 1 < bytes.count && bytes[i + 1] == 34 { field.append(34); i += 1 } else { inQuotes = false }
                } else { field.append(c) }
            } else if c == 34 {
                inQuotes = true
            } else if c == 44 {
                row.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true)
            } else if c == 10 || c == 13 {
                if c == 13 && i + 1 < bytes.count && bytes[i + 1] == 10 { i += 1 }
                row.append(String(decoding: field, as: UTF8.self)); field.removeAll(keepingCapacity: true)
                rows.append(row); row = []
            } else {
                field.append(c)
            }
            i += 1
        }
        if !field.isEmpty || !row.isEmpty { row.append(String(decoding: field, as: UTF8.self)); rows.append(row) }
        return rows
    }
}
