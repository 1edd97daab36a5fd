/// Every family of commands, in the order they are registered (as Lua's linit.c lists its
/// libraries). A new family is one file in Builtins/ plus one line here; `help` lists what
/// the families registered, so it needs no list of its own.
enum Library {
    static let families: [(name: String, register: (Interpreter) -> Void)] = [
        ("basics", CoreBuiltins.registerBasics),           // print, str, int, type, repr, fail, assert, round
        ("collections", CoreBuiltins.registerCollections), // range, keys, sort, map, filter, zip…
        ("strings", StringBuiltins.register),
        ("system", CoreBuiltins.registerSystem),           // args, env, exit, sleep, now, files, input
        ("data", CoreBuiltins.registerData),               // hex, bytes, decode, chr, ord
        ("json", JSONBuiltins.register),
        ("trace", TraceBuiltins.register),
        ("step mode", StepMode.register),                 // step on / step off
        ("addresses", AddressBuiltins.register),           // ip, cidr, ranges, sets, mac
        ("dns", DNSBuiltins.register),
        ("dns messages", DNSMessageBuiltins.register),     // dns.message, dns.send
        ("sockets", SocketBuiltins.register),
        ("http client", HTTPBuiltins.register),
        ("http raw", HTTPRawBuiltins.register),            // http.raw
        ("http server", HTTPServerBuiltins.register),
        ("mail", MailBuiltins.register),
        ("ftp", FTPBuiltins.register),
        ("tasks", TaskBuiltins.register),                  // spawn, wait, parallel for, pmap
        ("shards", ShardBuiltins.register),                // shard, emit
        ("tls", TLSBuiltins.register),                     // tls.inspect
        ("help", HelpBuiltins.register),                   // last: it describes all of the above
    ]

    static func register(in interp: Interpreter) {
        for family in families { family.register(interp) }
    }
}
