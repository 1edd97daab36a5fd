import Foundation

extension DNSResponse {
    /// The error this response's rcode stands for (NXDOMAIN, SERVFAIL, REFUSED, …), naming the
    /// question and the server; nil for NOERROR, including NODATA (an empty answer).
    public var rcodeError: DNSError? { DNSClient.rcodeError(message, question, server) }

    /// The response itself, or its rcode's error thrown.
    public func checked() throws -> DNSResponse {
        if let e = rcodeError { throw e }
        return self
    }
}

extension DNSClient {
    /// Resolves `name` as dnspython's `resolver.resolve` does: the response on NOERROR (an
    /// empty answer, NODATA, is a response), an error of the rcode's kind otherwise.
    /// `query` gives every response as it came, failures included, as `dns.query` does.
    public func resolve(_ name: String, _ type: DNSType, server: DNSServer? = nil,
                        options: DNSQueryOptions = DNSQueryOptions()) throws -> DNSResponse {
        try query(name, type, server: server, options: options).checked()
    }

    /// `resolve` for many names at once (`queryMany`'s concurrency): a result per name, in
    /// order, where an rcode failure is that name's error rather than a response.
    public func resolveMany(_ names: [DNSName], _ type: DNSType, server: DNSServer, options: DNSQueryOptions = DNSQueryOptions(),
                            concurrency: Int = 64) throws -> [Result<DNSResponse, DNSError>] {
        try queryMany(names, type, server: server, options: options, concurrency: concurrency).map { result in
            result.flatMap { r in r.rcodeError.map { .failure($0) } ?? .success(r) }
        }
    }
}
