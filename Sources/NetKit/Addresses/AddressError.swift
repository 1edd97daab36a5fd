/// The one error every address parser and operation in NetKit's address library throws.
///
/// The message names the offending text and the fault, e.g.
/// `10.0.0.256: octet 256 is out of range`.
public struct AddressError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The input (or a rendering of the operands) that was at fault.
    public let text: String
    /// What was wrong with it.
    public let fault: String

    /// Set by `AddressLiteral(parsing:)` when the text is no IP address but a MAC address.
    public let looksLikeMAC: Bool

    /// Creates an error for `text` with the given `fault`.
    public init(_ text: String, _ fault: String, looksLikeMAC: Bool = false) {
        self.text = text
        self.fault = fault
        self.looksLikeMAC = looksLikeMAC
    }

    /// `text: fault`, or just the fault when there is no text to name.
    public var message: String { text.isEmpty ? fault : "\(text): \(fault)" }
    /// The message (`text: fault`).
    public var description: String { message }
}

/// Text forms of user input are truncated in messages so a megabyte of garbage doesn't end up
/// in one error line.
@inline(__always)
func quoted(_ text: String) -> String {
    text.count > 80 ? String(text.prefix(77)) + "..." : text
}
