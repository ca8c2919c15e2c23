#!/usr/bin/python3
"""Regenerate the seed corpus tests/fuzz/corpus/xfr/ for fuzz_xfr: one control octet (see
tests/fuzz/fuzz_xfr.c), then length-prefixed response messages for the zone "fuzz." built
with dnspython; fuzz_xfr sets their ID and signs them with its stream signer.

Run from anywhere: /usr/bin/python3 tests/fuzz/make_xfr_corpus.py (Debian python3-dnspython)."""
import os
import struct

import dns.flags
import dns.message
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.rrset

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "xfr")
SOA, AXFR, IXFR = 0, 1, 2
SIGN, FIX = 4, 8


def soa(serial):
    return dns.rrset.from_text("fuzz.", 300, "IN", "SOA",
                               f"ns1.fuzz. host.fuzz. {serial} 7200 900 1209600 300")


def rr(name, rtype, text):
    return dns.rrset.from_text(name, 300, "IN", rtype, text)


def msg(qtype, answer, rcode=dns.rcode.NOERROR, question=True):
    m = dns.message.make_query("fuzz.", qtype, use_edns=False)
    m.flags |= dns.flags.QR | dns.flags.AA
    m.set_rcode(rcode)
    if not question:
        m.question = []
    m.answer = answer
    return m.to_wire()


def write(name, ctl, msgs):
    data = bytes([ctl]) + b"".join(struct.pack(">H", len(m)) + m for m in msgs)
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


os.makedirs(OUT, exist_ok=True)
body = [rr("fuzz.", "NS", "ns1.fuzz."), rr("ns1.fuzz.", "A", "192.0.2.1"),
        rr("t.fuzz.", "TXT", '"a" "b"'), rr("n.fuzz.", "NAPTR",
                                           '100 10 "u" "E2U+sip" "!^.*$!sip:x@fuzz!" .')]
write("axfr_two_messages", AXFR | SIGN | FIX,
      [msg("AXFR", [soa(9)] + body), msg("AXFR", [soa(9)], question=False)])
write("axfr_one_message", AXFR | SIGN | FIX, [msg("AXFR", [soa(9)] + body + [soa(9)])])
write("axfr_unsigned_middle", AXFR | SIGN | FIX | 0x20,
      [msg("AXFR", [soa(9)]), msg("AXFR", body, question=False),
       msg("AXFR", [soa(9)], question=False)])
write("axfr_wrong_last_soa", AXFR | SIGN | FIX, [msg("AXFR", [soa(9)] + body + [soa(8)])])
write("axfr_notimp", AXFR | SIGN | FIX, [msg("AXFR", [], rcode=dns.rcode.NOTIMP)])
write("axfr_raw", AXFR, [msg("AXFR", [soa(9)] + body + [soa(9)])])
write("ixfr_incremental", IXFR | SIGN | FIX,
      [msg("IXFR", [soa(9), soa(7), rr("a.fuzz.", "A", "192.0.2.7"), soa(9),
                    rr("a.fuzz.", "A", "192.0.2.9"), soa(9)])])
write("ixfr_two_sequences", IXFR | SIGN | FIX,
      [msg("IXFR", [soa(9), soa(7), soa(8), rr("a.fuzz.", "A", "192.0.2.8")]),
       msg("IXFR", [soa(8), soa(9), rr("b.fuzz.", "A", "192.0.2.9"), soa(9)],
           question=False)])
write("ixfr_axfr_form", IXFR | SIGN | FIX, [msg("IXFR", [soa(9)] + body + [soa(9)])])
write("ixfr_uptodate", IXFR | SIGN | FIX, [msg("IXFR", [soa(7)])])
write("soa_answer", SOA | SIGN | FIX, [msg("SOA", [soa(9)])])
write("rrset_big", AXFR | SIGN | FIX | 0x10,
      [msg("AXFR", [soa(9)] + [rr("big.fuzz.", "TXT", f'"{i}"') for i in range(5)] +
           [soa(9)])])
n = dns.message.make_query("fuzz.", "SOA", use_edns=False)
n.set_opcode(dns.opcode.NOTIFY)
n.flags |= dns.flags.AA
write("notify_query", SOA | SIGN, [n.to_wire()])
a = dns.message.make_response(n)
write("notify_answer", SOA | SIGN | FIX, [a.to_wire()])
