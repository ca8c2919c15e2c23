#!/usr/bin/env python3
# tests/bench/scale_probe.py -- helper of tests/bench/scale.sh (dnspython).
#
#   start PORT NAMES EXPECTS LIMIT LOG MEMLIMIT_MIB KEYFILE -- CMD...
#       exec CMD (own session), then ask each of NAMES (comma-separated, one a zone) NAPTR
#       (DO=1) over UDP until its answer is NOERROR, holds a NAPTR whose text contains its
#       EXPECT (comma-separated likewise), and (KEYFILE not "-") its RRSIG validates with the
#       DNSKEY RRsets in KEYFILE (one RRset a zone). The time is taken when the last of the
#       names' passing answers arrives (the checks themselves are after the clock). The socket is connected, so a
#       port with no listener answers ECONNREFUSED at once: the poll interval (2 ms) is the
#       resolution. Every second it sums VmRSS over the process tree of CMD; above
#       MEMLIMIT_MIB (0: no limit) or after LIMIT seconds it kills the tree and says so.
#       Prints "PID SECONDS PEAK_RSS_MIB" or "PID timeout|memory|exited SECONDS PEAK_RSS_MIB".
#   ask PORT NAME EXPECT KEYFILE   one question, exit 0 if the answer passes (as above)
#   dnskey PORT APEX FILE          save the zone's DNSKEY RRset (text) to FILE
import os, signal, socket, subprocess, sys, time
import dns.dnssec, dns.flags, dns.message, dns.name, dns.rcode, dns.rdataclass
import dns.rdatatype, dns.rrset, dns.query


def load_keys(path):
    if path == "-":
        return None
    keys = {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            owner, ttl, cls, typ, rdata = line.split(None, 4)
            r = dns.rrset.from_text(owner, int(ttl), cls, typ, rdata.strip())
            if r.name in keys:
                keys[r.name].union_update(r)
            else:
                keys[r.name] = r
    return keys


def query_once(sock, name, timeout=0.02):
    q = dns.message.make_query(name, "NAPTR", want_dnssec=True)
    q.flags &= ~dns.flags.RD
    try:
        sock.send(q.to_wire())
        sock.settimeout(timeout)
        data = sock.recv(65535)
    except OSError:  # ECONNREFUSED (nothing bound yet), timeout
        return None
    try:
        return dns.message.from_wire(data)
    except Exception:
        return None


def passes(r, name, expect, keys):
    if r is None or r.rcode() != dns.rcode.NOERROR:
        return False
    qn = dns.name.from_text(name)
    naptr = r.get_rrset(r.answer, qn, dns.rdataclass.IN, dns.rdatatype.NAPTR)
    if naptr is None or not any(expect in rd.to_text() for rd in naptr):
        return False
    if keys is None:
        return True
    sig = r.get_rrset(r.answer, qn, dns.rdataclass.IN, dns.rdatatype.RRSIG, dns.rdatatype.NAPTR)
    if sig is None:
        return False
    try:
        dns.dnssec.validate(naptr, sig, keys)
    except Exception:
        return False
    return True


def connect(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", port))
    return s


def tree(root):
    ppid = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except OSError:
                pass
    out, changed = {root}, True
    while changed:
        changed = False
        for p, pp in ppid.items():
            if p not in out and pp in out:
                out.add(p)
                changed = True
    return out


def rss_mib(root):
    total = 0
    for p in tree(root):
        try:
            with open(f"/proc/{p}/status") as f:
                for l in f:
                    if l.startswith("VmRSS:"):
                        total += int(l.split()[1])
        except OSError:
            pass
    return total / 1024


def main():
    a = sys.argv
    if a[1] == "dnskey":
        port, apex, path = int(a[2]), a[3], a[4]
        q = dns.message.make_query(apex, "DNSKEY", want_dnssec=True)
        r = dns.query.tcp(q, "127.0.0.1", port=port, timeout=5)
        rrs = r.get_rrset(r.answer, dns.name.from_text(apex), dns.rdataclass.IN, dns.rdatatype.DNSKEY)
        if rrs is None:
            sys.exit("no DNSKEY RRset")
        with open(path, "w") as f:
            f.write(rrs.to_text() + "\n")
        return
    if a[1] == "ask":
        port, keys = int(a[2]), load_keys(a[5])
        s = connect(port)
        for name, expect in zip(a[3].split(","), a[4].split(",")):
            if not passes(query_once(s, name, 2.0), name, expect, keys):
                sys.exit(f"{name}: no passing answer")
        return
    if a[1] == "start":
        port, limit, logf = int(a[2]), float(a[5]), a[6]
        todo = list(zip(a[3].split(","), a[4].split(",")))
        memlimit, keys = float(a[7]), load_keys(a[8])
        cmd = a[10:]
        out = open(logf, "ab")
        s = connect(port)
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                             start_new_session=True)
        peak, next_mem, got = 0.0, t0, []
        while True:
            name, expect = todo[0]
            r = query_once(s, name)
            t = time.monotonic()
            if passes(r, name, expect, None):  # the signature is checked below
                got.append((r, name, expect))
                todo.pop(0)
                if todo:
                    continue
                peak = max(peak, rss_mib(p.pid))
                for r, name, expect in got:
                    if not passes(r, name, expect, keys):
                        print(p.pid, "invalid", "%.4f" % (t - t0), "%.0f" % peak, name)
                        sys.exit(1)
                print(p.pid, "%.4f" % (t - t0), "%.0f" % peak)
                return
            if t >= next_mem:
                m = rss_mib(p.pid)
                peak = max(peak, m)
                next_mem = t + 1.0
                why = None
                if memlimit > 0 and m > memlimit:
                    why = "memory"
                elif t - t0 > limit:
                    why = "timeout"
                if why:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
                    print(p.pid, why, "%.1f" % (t - t0), "%.0f" % peak)
                    sys.exit(1)
            if p.poll() is not None:
                print(p.pid, "exited", "%.1f" % (time.monotonic() - t0), "%.0f" % peak)
                sys.exit(1)
            time.sleep(0.002)


main()
