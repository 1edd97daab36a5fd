import NetKit
import Synchronization

/// Sockets as language values: a stream `connection` (TCP, TLS, Unix), a `udp` socket and a
/// `listener`. NetKit does the work; these present fields and close what is dropped.

/// The cancellation check every blocking socket call polls: Ctrl-C.
let socketCancel: CancelCheck = { interruptFlag.load(ordering: .relaxed) }

/// Runs a socket operation, turning NetKit's errors into diagnostics of the same kind
/// (`refused`, `timeout`, `reset`, …) with the address as `e.address`.
func sock<T>(_ body: () throws -> T) throws -> T {
    do { return try blockingCall(body) } catch let e as SocketError {
        if e.kind == .interrupted { throw Interpreter.interrupted() }
        throw Diagnostic(e.kind.rawValue, e.message, fields: [("address", .string(e.address))])
    }
}

final class ConnectionValue: NativeObject {
    let conn: StreamConnection
    init(_ conn: StreamConnection) { self.conn = conn }
    deinit { conn.abandon() }
    override var typeName: String { "connection" }
    override var description: String {
        "<connection \(conn.proto) \(conn.localText) → \(conn.peerText)\(conn.isClosed ? " closed" : "")>"
    }
    override var fieldNames: [String] { ["local", "peer", "closed", "proto", "eof", "alpn", "certificate"] }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "certificate": return try CertificateValue.peer(of: conn)
        case "local": return .string(conn.localText)
        case "peer": return .string(conn.peerText)
        case "closed": return .bool(conn.isClosed)
        case "proto": return .string(conn.proto)
        case "eof": return .bool(conn.atEOF)
        case "alpn": return conn.negotiatedProtocol.map { .string($0) } ?? .nil
        default: return nil
        }
    }
    override var jsonValue: Value? {
        .map([("proto", .string(conn.proto)), ("local", .string(conn.localText)), ("peer", .string(conn.peerText)), ("closed", .bool(conn.isClosed))])
    }
}

final class DatagramValue: NativeObject {
    let socket: DatagramSocket
    init(_ socket: DatagramSocket) { self.socket = socket }
    deinit { if !socket.isClosed { socket.channel.close(promise: nil) } }
    override var typeName: String { socket.proto == "unix" ? "unix_dgram" : "udp" }
    override var description: String {
        "<\(typeName) \(socket.localText)\(socket.peerText.map { " → \($0)" } ?? "")\(socket.isClosed ? " closed" : "")>"
    }
    override var fieldNames: [String] { ["local", "peer", "closed", "proto"] }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "local": return .string(socket.localText)
        case "peer": return socket.peerText.map { .string($0) } ?? .nil
        case "closed": return .bool(socket.isClosed)
        case "proto": return .string(socket.proto)
        default: return nil
        }
    }
}

final class ListenerValue: NativeObject {
    let listener: Listener
    init(_ listener: Listener) { self.listener = listener }
    deinit { if !listener.isClosed { listener.channel.close(promise: nil) } }
    override var typeName: String { "listener" }
    override var description: String { "<listener \(listener.localText)\(listener.isClosed ? " closed" : "")>" }
    override var fieldNames: [String] { ["local", "port", "closed", "tls", "handshake_failures"] }
    override func field(_ name: String) throws -> Value? {
        switch name {
        case "tls": return .bool(listener.tls != nil)
        case "handshake_failures": return .int(listener.handshakeFailures)
        case "local": return .string(listener.localText)
        case "port": return listener.port.map { .int($0) } ?? .nil
        case "closed": return .bool(listener.isClosed)
        default: return nil
        }
    }
}
