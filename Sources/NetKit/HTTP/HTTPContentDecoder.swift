import Foundation
import CZlib

/// Why a compressed body could not be decoded. Messages are plain words (never zlib's codes).
struct HTTPBodyDecodingError: Error {
    enum Reason { case corrupt, truncated }
    var reason: Reason
    /// "gzip" or "deflate".
    var encoding: String

    var words: String {
        switch reason {
        case .corrupt: return "the \(encoding) body is corrupt (it cannot be decompressed)"
        case .truncated: return "the \(encoding) body is cut short (the compressed data ends before its end)"
        }
    }
}

/// Decodes a body sent with `Content-Encoding: gzip` (or `x-gzip`) or `deflate` as it arrives,
/// on both paths of the client. `deflate` is meant to be zlib-wrapped (RFC 1950), but servers
/// also send raw deflate (RFC 1951); like curl, requests and browsers, both are accepted: the
/// zlib header is recognised by its check bits, and a stream that fails as zlib before any
/// output is tried again as raw deflate. Several gzip members in a row are one body.
final class HTTPContentDecoder {
    private enum Format { case gzip, deflate }
    private let format: Format
    private let stream: UnsafeMutablePointer<z_stream>
    private var initialised = false
    private var ended = false
    private var fedAny = false
    private var producedAny = false
    /// Deflate only: the input so far, kept until the first output, to start again as raw
    /// deflate when a zlib header turns out to be the start of a raw stream.
    private var replay: [UInt8] = []
    private var zlibWrapped = false
    private let out = UnsafeMutablePointer<UInt8>.allocate(capacity: 65536)

    /// A decoder for the Content-Encoding, or nil when the body is not compressed in a way
    /// this client decodes (identity, none, or an unknown coding: the body is kept as sent).
    init?(contentEncoding: String?) {
        switch contentEncoding?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "gzip", "x-gzip": format = .gzip
        case "deflate": format = .deflate
        default: return nil
        }
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        if format == .gzip { try? start(windowBits: 15 + 32) }
    }

    deinit {
        if initialised { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        out.deallocate()
    }

    private var name: String { format == .gzip ? "gzip" : "deflate" }

    private func start(windowBits: Int32) throws {
        if initialised { inflateEnd(stream); stream.pointee = z_stream() }
        guard inflateInit2_(stream, windowBits, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw HTTPBodyDecodingError(reason: .corrupt, encoding: name)
        }
        initialised = true
    }

    /// Whether two bytes open a zlib stream (RFC 1950 §2.2: method 8, window at most 32 KiB,
    /// and the check bits make the pair a multiple of 31).
    static func isZlibHeader(_ b0: UInt8, _ b1: UInt8) -> Bool {
        b0 & 0x0F == 8 && b0 >> 4 <= 7 && (UInt16(b0) << 8 | UInt16(b1)) % 31 == 0
    }

    /// Decodes the next piece of the body, handing each decoded run to `emit`.
    func feed(_ bytes: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard bytes.count > 0, !ended else { return }
        fedAny = true
        guard format == .deflate else { return try inflate(bytes, emit) }
        if !initialised {
            replay += bytes
            if replay.count < 2 { return }
            zlibWrapped = HTTPContentDecoder.isZlibHeader(replay[0], replay[1])
            try start(windowBits: zlibWrapped ? 15 : -15)
            try replay.withUnsafeBytes { try inflateDeflate($0, emit) }
            return
        }
        if zlibWrapped && !producedAny { replay += bytes }
        try inflateDeflate(bytes, emit)
    }

    /// Deflate input: as zlib, and when that fails before any output, as raw deflate from the start.
    private func inflateDeflate(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        do {
            try inflate(input, emit)
            if producedAny { replay = [] }
        } catch let e as HTTPBodyDecodingError where zlibWrapped && !producedAny {
            guard replay.count <= 1 << 20 else { throw e }
            zlibWrapped = false
            try start(windowBits: -15)
            let all = replay
            replay = []
            try all.withUnsafeBytes { try inflate($0, emit) }
        }
    }

    /// The body has ended: an unfinished compressed stream is an error (an empty body is not).
    func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        if fedAny && !ended { throw HTTPBodyDecodingError(reason: .truncated, encoding: name) }
    }

    private func inflate(_ input: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) throws {
        let z = stream
        z.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
        z.pointee.avail_in = uInt(input.count)
        defer { z.pointee.next_in = nil; z.pointee.avail_in = 0 }
        while z.pointee.avail_in > 0 && !ended {
            z.pointee.next_out = out
            z.pointee.avail_out = 65536
            let rc = CZlib.inflate(z, Z_NO_FLUSH)
            let n = 65536 - Int(z.pointee.avail_out)
            if n > 0 { producedAny = true; try emit(UnsafeRawBufferPointer(start: out, count: n)) }
            switch rc {
            case Z_OK:
                continue
            case Z_BUF_ERROR:
                // No progress possible: the input is used up.
                if z.pointee.avail_in == 0 { return }
                continue
            case Z_STREAM_END:
                // Another gzip member may follow; after a deflate stream, trailing bytes are ignored.
                if format == .gzip && z.pointee.avail_in > 0 {
                    guard inflateReset(z) == Z_OK else { throw HTTPBodyDecodingError(reason: .corrupt, encoding: name) }
                    continue
                }
                ended = true
            default:
                throw HTTPBodyDecodingError(reason: .corrupt, encoding: name)
            }
        }
    }
}
