// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "NetScript",
    products: [
        .executable(name: "netscript", targets: ["netscript"]),
        .library(name: "NetKit", targets: ["NetKit"]),
        .library(name: "NetScript", targets: ["NetScript"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.65.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.27.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // AsyncHTTPClient's per-request log says which pooled connection a request went on:
        // the trace notes a kept-alive connection reused (already resolved for AsyncHTTPClient).
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        // A certificate's subjectAltNames and dates, for the identity check and its messages.
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.0.0"),
        // Digests (TSIG, CRAM-MD5, certificate fingerprints) and tls.mkcert's keys (swift-crypto), PEM/DER (swift-asn1).
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.0.0"),
        // serve http: HTTP/2 (ALPN h2) and response compression (NIOHTTPCompression).
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.30.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.20.0"),
    ],
    targets: [
        // The protocol library: plain Swift, no knowledge of the language.
        .target(name: "NetKit", dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "NIOHPACK", package: "swift-nio-http2"),
            .product(name: "NIOHTTPCompression", package: "swift-nio-extras"),
            "CZlib",
        ], exclude: ["README.md"]),
        // The language: lexer, parser, evaluator, builtins.
        .target(name: "NetScript", dependencies: [
            "NetKit",
            .product(name: "OrderedCollections", package: "swift-collections"),
        ], swiftSettings: [
            // The evaluator's hot paths touch frame slots and globals through class storage;
            // dynamic exclusivity checks there cost more than the work itself.
            .unsafeFlags(["-enforce-exclusivity=unchecked"]),
        ]),
        // zlib, for HTTP bodies sent with Content-Encoding gzip or deflate (zlib-wrapped or raw).
        .systemLibrary(name: "CZlib", path: "Sources/CZlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // libedit, for the REPL's line editing.
        .systemLibrary(name: "CEditLine", path: "Sources/CEditLine",
                       providers: [.apt(["libedit-dev"])]),
        .executableTarget(name: "netscript", dependencies: ["NetScript", "NetKit", "CEditLine"]),
        .testTarget(name: "NetKitTests", dependencies: ["NetKit"]),
        .testTarget(name: "NetScriptTests", dependencies: ["NetScript", "NetKit", "netscript"]),
    ],
    swiftLanguageModes: [.v5]
)
