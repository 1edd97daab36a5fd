#!/usr/bin/env python3
"""Generate the CIDR-merge benchmark inputs with a fixed seed.

usage: scripts/bench-cidr-data.py [OUTDIR]   (default: .bench)
writes OUTDIR/cidr-v4-1m.txt   1,000,000 random IPv4 prefixes (/8../32, host bits cleared)
       OUTDIR/cidr-v6-100k.txt   100,000 random IPv6 prefixes (/16../128 under 2000::/3)
Prefix lengths lean long, like real routing/blocklist data, so merging has work to do.
"""
import os
import random
import sys

SEED = 20240601


def v4_lines(rng, n):
    for _ in range(n):
        plen = rng.choice((16, 20, 22, 24, 24, 24, 24, 26, 28, 29, 30, 32, 32, 32, 32, 32))
        value = rng.getrandbits(32) & (((1 << plen) - 1) << (32 - plen))
        yield '%d.%d.%d.%d/%d' % (value >> 24, value >> 16 & 255, value >> 8 & 255, value & 255, plen)


def v6_lines(rng, n):
    import ipaddress
    for _ in range(n):
        plen = rng.choice((16, 24, 32, 32, 40, 48, 48, 48, 56, 64, 64, 64, 96, 112, 127, 128))
        value = (1 << 125) | rng.getrandbits(125)
        value &= ((1 << plen) - 1) << (128 - plen)
        yield '%s/%d' % (ipaddress.IPv6Address(value), plen)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else '.bench'
    os.makedirs(out, exist_ok=True)
    rng = random.Random(SEED)
    for name, gen, n in (('cidr-v4-1m.txt', v4_lines, 1_000_000), ('cidr-v6-100k.txt', v6_lines, 100_000)):
        path = os.path.join(out, name)
        with open(path, 'w') as f:
            for line in gen(rng, n):
                f.write(line + '\n')
        print('wrote', path)


if __name__ == '__main__':
    main()
