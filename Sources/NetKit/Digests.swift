import Crypto

/// The digests NetKit needs — SHA-256, MD5 and their HMACs (RFC 2104) for DNS TSIG (RFC 8945)
/// and SMTP AUTH CRAM-MD5 (RFC 2195) — from swift-crypto, over byte arrays.
public enum Digests {
    /// SHA-256 of `data`: 32 bytes.
    public static func sha256(_ data: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: data)) }

    /// MD5 is broken for collision resistance; it stays only where a protocol names it
    /// (hmac-md5 TSIG keys, CRAM-MD5).
    public static func md5(_ data: [UInt8]) -> [UInt8] { Array(Insecure.MD5.hash(data: data)) }

    /// HMAC-SHA256 (RFC 2104) of `message` under `key` (any length): 32 bytes.
    public static func hmacSHA256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// HMAC-MD5 (RFC 2104) of `message` under `key` (any length): 16 bytes.
    public static func hmacMD5(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<Insecure.MD5>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}
