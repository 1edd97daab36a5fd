#!/usr/bin/env python3
"""Differential-test oracle: reads JSON-lines requests on stdin, answers each with one JSON
line computed by Python's netaddr. Used by Tests/NetKitTests/AddressOracleTests.swift.

Request: {"op": NAME, ...}. Answer: {"ok": RESULT} or {"error": MESSAGE}.
Ops: summarize(cidrs), exclude(target, exclude), range(first, last), span(cidrs),
set(a, b, how: union|intersection|difference|symdiff), glob(glob), nmap(spec),
eui(mac, prefix), rdns(ip), parse(ip), cidr(cidr), classify(ip), index(cidr, indexes),
slice(cidr, lo, hi).
"""
import json
import sys

try:
    import netaddr
    from netaddr import (EUI, IPAddress, IPNetwork, IPSet, cidr_exclude, cidr_merge,
                         glob_to_cidrs, iprange_to_cidrs, iter_nmap_range, spanning_cidr,
                         valid_glob, valid_nmap_range)
except ImportError:
    print(json.dumps({"fatal": "python netaddr is not importable: pip install netaddr"}))
    sys.exit(3)


def strs(xs):
    return [str(x) for x in xs]


def handle(req):
    op = req["op"]
    if op == "summarize":
        return strs(cidr_merge(req["cidrs"]))
    if op == "exclude":
        return strs(cidr_exclude(req["target"], req["exclude"]))
    if op == "range":
        return strs(iprange_to_cidrs(req["first"], req["last"]))
    if op == "span":
        return str(spanning_cidr(req["cidrs"]))
    if op == "set":
        a, b = IPSet(req["a"]), IPSet(req["b"])
        how = req["how"]
        r = {"union": a | b, "intersection": a & b, "difference": a - b, "symdiff": a ^ b}[how]
        return {"cidrs": strs(r.iter_cidrs()), "size": str(r.size),
                "subset": a.issubset(b), "disjoint": a.isdisjoint(b)}
    if op == "glob":
        g = req["glob"]
        if not valid_glob(g):
            return {"valid": False}
        return {"valid": True, "cidrs": strs(glob_to_cidrs(g))}
    if op == "nmap":
        s = req["spec"]
        if not valid_nmap_range(s):
            return {"valid": False}
        return {"valid": True, "addrs": strs(iter_nmap_range(s))}
    if op == "eui":
        e = EUI(req["mac"])
        out = {"canonical": str(e), "version": e.version}
        if e.version == 48:
            out["linklocal"] = str(e.ipv6_link_local())
            out["slaac"] = str(e.ipv6(int(IPAddress(req["prefix"]))))
        out["modified"] = str(e.modified_eui64())
        out["eui64"] = str(e.eui64())
        return out
    if op == "rdns":
        return IPAddress(req["ip"]).reverse_dns
    if op == "parse":
        ip = IPAddress(req["ip"])
        return {"value": str(int(ip)), "version": ip.version}
    if op == "cidr":
        n = IPNetwork(req["cidr"])
        return {"network": str(n.network), "prefix": n.prefixlen, "netmask": str(n.netmask),
                "hostmask": str(n.hostmask), "size": str(n.size),
                "broadcast": None if n.broadcast is None else str(n.broadcast)}
    if op == "classify":
        ip = IPAddress(req["ip"])
        return {"global": ip.is_global(), "loopback": ip.is_loopback(), "link_local": ip.is_link_local(),
                "multicast": ip.is_multicast(), "reserved": ip.is_reserved(),
                "private_use": ip.is_ipv4_private_use(), "unique_local": ip.is_ipv6_unique_local(),
                "mapped": ip.is_ipv4_mapped(), "compat": ip.is_ipv4_compat()}
    if op == "index":
        n = IPNetwork(req["cidr"])
        out = []
        for i in req["indexes"]:
            try:
                out.append(str(n[i]))
            except IndexError:
                out.append("IndexError")
        return out
    if op == "slice":
        # netaddr slices IPv4 networks only; Python's slice arithmetic is the rule for both.
        # (len() of a range overflows past 2^63, so the count is computed.) An empty slice is
        # not asked of netaddr: when the stop is 0 it yields the first address (a netaddr quirk).
        n = IPNetwork(req["cidr"])
        start, stop, _ = slice(req["lo"], req["hi"]).indices(n.size)
        count = max(0, stop - start)
        out = {"count": str(count)}
        if count:
            out["first"] = str(IPAddress(n.first + start, n.version))
            out["last"] = str(IPAddress(n.first + stop - 1, n.version))
        if n.version == 4 and 0 < count <= 64:
            out["list"] = strs(n[req["lo"]:req["hi"]])
        return out
    raise ValueError("unknown op %r" % op)


def main():
    print(json.dumps({"ready": netaddr.__version__}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            out = {"ok": handle(json.loads(line))}
        except Exception as e:  # noqa: BLE001 - every failure is an answer
            out = {"error": "%s: %s" % (type(e).__name__, e)}
        sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
