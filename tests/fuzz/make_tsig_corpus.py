#!/usr/bin/python3
"""Regenerate the seed corpus tests/fuzz/corpus/tsig/ for fuzz_tsig: messages signed by
dnspython (an independent TSIG implementation) with the keys fuzz_tsig.c holds, so the
fuzzer starts from MACs that verify (stale times: the BADTIME and signed-answer paths),
plus unsigned and malformed ones.

Run from anywhere: /usr/bin/python3 tests/fuzz/make_tsig_corpus.py (Debian python3-dnspython)."""
import os

import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.tsig
import dns.tsigkeyring

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "tsig")
SECRET = bytes(range(32))
KEYS = {
    "fuzz-a.": dns.tsig.HMAC_SHA256,
    "fuzz-b.": dns.tsig.HMAC_SHA384,
    "fuzz-c.": dns.tsig.HMAC_SHA512,
}


def write(name, wire):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(wire)


def main():
    os.makedirs(OUT, exist_ok=True)
    for kname, alg in KEYS.items():
        key = dns.tsig.Key(kname, SECRET, alg)
        tag = kname.rstrip(".")
        q = dns.message.make_query("example.test.", dns.rdatatype.AXFR)
        q.id = 0x4242
        q.use_tsig(key)
        write(f"axfr_{tag}", q.to_wire())
        r = dns.message.make_response(q)
        r.use_tsig(key, original_id=q.id)
        write(f"resp_{tag}", r.to_wire(multi=False))
        q2 = dns.message.make_query("1.5.5.5.1.e164.fed.", "NAPTR", use_edns=0)
        q2.use_tsig(key, fudge=60)
        write(f"naptr_edns_{tag}", q2.to_wire())
    unk = dns.tsig.Key("unknown.", SECRET, dns.tsig.HMAC_SHA256)
    q = dns.message.make_query("example.test.", "SOA")
    q.use_tsig(unk)
    write("soa_unknown_key", q.to_wire())
    q = dns.message.make_query("example.test.", "SOA")
    write("soa_unsigned", q.to_wire())
    q = dns.message.make_query("example.test.", "SOA", use_edns=0)
    write("soa_unsigned_edns", q.to_wire())


if __name__ == "__main__":
    main()
