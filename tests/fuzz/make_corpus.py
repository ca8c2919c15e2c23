#!/usr/bin/python3
"""Regenerate the seed corpus tests/fuzz/corpus/query/ (valid and invalid DNS queries).

Run from anywhere: /usr/bin/python3 tests/fuzz/make_corpus.py (Debian python3-dnspython)."""
import os
import struct

import dns.edns
import dns.message
import dns.name
import dns.opcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import dns.tsigkeyring

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "query")


def q(name, rdtype, **kw):
    m = dns.message.make_query(name, rdtype, **kw)
    m.id = 0x4242
    return m


def hdr(flags, qd, an, ns, ar, ident=0x4242):
    return struct.pack("!HHHHHH", ident, flags, qd, an, ns, ar)


def opt(udp=1232, version=0, do=False, opts=b""):
    ttl = (version << 16) | (0x8000 if do else 0)
    return b"\x00" + struct.pack("!HHIH", 41, udp, ttl, len(opts)) + opts


QNAME = dns.name.from_text("1.0.0.0.0.0.2.5.5.5.1.e164.fed.").to_wire()
QUESTION = QNAME + struct.pack("!HH", 35, 1)

seeds = {}
seeds["a_plain"] = q("www.example.", "A", use_edns=False).to_wire()
seeds["naptr_edns_do_cookie"] = q(
    "1.0.0.0.0.0.2.5.5.5.1.e164.fed.", "NAPTR", use_edns=0, want_dnssec=True, payload=1232,
    options=[dns.edns.GenericOption(10, bytes(range(8)))]).to_wire()
seeds["srv_cookie_full_nsid_padding"] = q(
    "_sip._udp.ims-b.example.", "SRV", use_edns=0, payload=4096,
    options=[dns.edns.GenericOption(10, bytes(range(24))), dns.edns.GenericOption(3, b""),
             dns.edns.GenericOption(12, b"\x00" * 16)]).to_wire()
keyring = dns.tsigkeyring.from_text({"xfr.key.": ("hmac-sha256", "c2VjcmV0c2VjcmV0c2VjcmV0")})
m = q("e164.fed.", "AXFR", use_edns=False)
m.use_tsig(keyring, keyname="xfr.key.")
seeds["axfr_tsig"] = m.to_wire()
n = dns.message.make_query("e164.fed.", "SOA")
n.set_opcode(dns.opcode.NOTIFY)
n.flags |= 0x0400
n.answer.append(dns.rrset.from_text("e164.fed.", 3600, "IN", "SOA",
                                    "ns1.e164.fed. hostmaster.e164.fed. 42 3600 600 86400 300"))
n.id = 0x4242
seeds["notify_soa"] = n.to_wire()

# invalid ones
seeds["short5"] = b"\x42\x42\x01\x00\x00"
seeds["header_qd0"] = hdr(0x0100, 0, 0, 0, 0)
seeds["response_qr"] = hdr(0x8100, 1, 0, 0, 0) + QUESTION
seeds["opcode_update"] = hdr(0x2800, 1, 0, 0, 0) + QUESTION
seeds["two_questions"] = hdr(0x0100, 2, 0, 0, 0) + QUESTION + QUESTION
seeds["qname_self_pointer"] = hdr(0x0100, 1, 0, 0, 0) + b"\xc0\x0c\x00\x01\x00\x01"
seeds["owner_pointer_loop"] = (hdr(0x0100, 1, 0, 2, 0) + QUESTION
                               + b"\x01a\xc0\x3e" + struct.pack("!HHIH", 1, 1, 0, 0)
                               + b"\x01b\xc0\x30" + struct.pack("!HHIH", 1, 1, 0, 0))
seeds["two_opts"] = hdr(0x0100, 1, 0, 0, 2) + QUESTION + opt() + opt(do=True)
seeds["edns_version1"] = hdr(0x0100, 1, 0, 0, 1) + QUESTION + opt(version=1)
seeds["bad_cookie_len"] = (hdr(0x0100, 1, 0, 0, 1) + QUESTION
                           + opt(opts=b"\x00\x0a\x00\x0c" + bytes(12)))
tsig_rr = (b"\x03key\x00" + struct.pack("!HHIH", 250, 255, 0, 4) + b"\x00\x00\x00\x00")
seeds["tsig_not_last"] = hdr(0x0000, 1, 0, 0, 2) + QUESTION + tsig_rr + opt()
long_name = b"".join(b"\x3e" + b"a" * 62 for _ in range(4)) + b"\x01z\x00"
seeds["qname_255"] = hdr(0x0100, 1, 0, 0, 0) + long_name + struct.pack("!HH", 1, 1)
seeds["trailing_junk"] = hdr(0x0100, 1, 0, 0, 0) + QUESTION + b"\x00"

os.makedirs(OUT, exist_ok=True)
for name, data in sorted(seeds.items()):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {OUT}")
