#!/usr/bin/env python3
"""Time the Python peers on a CIDR file: netaddr.cidr_merge and ipaddress.collapse_addresses.

usage: scripts/bench-cidr-python.py FILE [netaddr|ipaddress|both]
Prints one line per peer: `<peer> <seconds> <input count> <output count>`; parsing is timed
together with merging, as a user of either library would pay for both.
"""
import ipaddress
import sys
import time


def read(path):
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


def bench_netaddr(lines):
    import netaddr
    t = time.perf_counter()
    out = netaddr.cidr_merge(lines)
    return time.perf_counter() - t, len(out)


def bench_ipaddress(lines):
    t = time.perf_counter()
    v4 = [ipaddress.ip_network(s) for s in lines if ':' not in s]
    v6 = [ipaddress.ip_network(s) for s in lines if ':' in s]
    out = list(ipaddress.collapse_addresses(v4)) + list(ipaddress.collapse_addresses(v6))
    return time.perf_counter() - t, len(out)


def main():
    path = sys.argv[1]
    which = sys.argv[2] if len(sys.argv) > 2 else 'both'
    lines = read(path)
    if which in ('netaddr', 'both'):
        secs, n = bench_netaddr(lines)
        print('netaddr.cidr_merge %.3f %d %d' % (secs, len(lines), n))
    if which in ('ipaddress', 'both'):
        secs, n = bench_ipaddress(lines)
        print('ipaddress.collapse_addresses %.3f %d %d' % (secs, len(lines), n))


if __name__ == '__main__':
    main()
