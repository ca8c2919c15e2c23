/* NAPTR lint (docs/security.md Z7): the RDATA of one NAPTR checked against RFC 3403 (the
 * record), RFC 3402 §3.2 (the substitution expression: delimiters, POSIX ERE, back-references)
 * and RFC 6116 §3.4 (ENUM: flags, services, the URI a terminal rule produces). Pure and
 * allocation-free (no regcomp: the ERE grammar is checked here), so that the zone load and
 * the answer engine apply the very same rules. */
#include "fedenum/wire.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#define RDATA_MAX 512 /* a larger NAPTR alone would fill a classic UDP answer */
#define DUP_MAX   255 /* RE_DUP_MAX (POSIX) */

static bool ieq(const uint8_t *s, size_t n, const char *lit)
{
	size_t l = strlen(lit);
	if (n != l)
		return false;
	for (size_t i = 0; i < l; i++)
		if (tolower(s[i]) != lit[i])
			return false;
	return true;
}

static bool printable(const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7E)
			return false;
	return true;
}

/* POSIX ERE (IEEE 1003.1 §9.4) of @re[0..n): the constructs the standard leaves undefined
 * are refused too, so every regex engine reads it alike. *groups: subexpressions. */
static const char *ere_check(const uint8_t *re, size_t n, unsigned *groups)
{
	unsigned depth = 0;
	bool atom = false; /* the previous element can take a quantifier */
	*groups = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = re[i];
		switch (c) {
		case '\\':
			if (i + 1 >= n)
				return "regexp: trailing backslash";
			if (isdigit(re[i + 1]))
				return "regexp: back-reference in the pattern (undefined in an "
				       "ERE)";
			i++;
			atom = true;
			break;
		case '[': {
			size_t j = i + 1;
			if (j < n && re[j] == '^')
				j++;
			if (j < n && re[j] == ']')
				j++;
			bool closed = false;
			while (j < n && !closed) {
				if (re[j] == '[' && j + 1 < n &&
				    (re[j + 1] == ':' || re[j + 1] == '=' || re[j + 1] == '.')) {
					uint8_t t = re[j + 1];
					size_t k = j + 2;
					while (k + 1 < n && !(re[k] == t && re[k + 1] == ']'))
						k++;
					if (k + 1 >= n)
						return "regexp: unterminated character class";
					j = k + 2;
					continue;
				}
				closed = re[j] == ']';
				j++;
			}
			if (!closed)
				return "regexp: unterminated bracket expression";
			i = j - 1;
			atom = true;
			break;
		}
		case '(':
			if (i + 1 < n && re[i + 1] == ')')
				return "regexp: empty group";
			if (i + 1 < n && re[i + 1] == '|')
				return "regexp: empty alternative";
			depth++;
			(*groups)++;
			atom = false;
			break;
		case ')':
			if (!depth)
				return "regexp: unbalanced parenthesis";
			depth--;
			atom = true;
			break;
		case '|':
			if (i == 0 || i + 1 >= n || re[i + 1] == '|' || re[i + 1] == ')')
				return "regexp: empty alternative";
			atom = false;
			break;
		case '*':
		case '+':
		case '?':
			if (!atom)
				return "regexp: quantifier without an operand";
			atom = false;
			break;
		case '{': {
			if (!atom)
				return "regexp: quantifier without an operand";
			size_t j = i + 1;
			unsigned lo = 0, hi = 0;
			bool has_lo = false, comma = false, has_hi = false;
			while (j < n && isdigit(re[j]) && lo <= DUP_MAX) {
				lo = lo * 10 + (unsigned)(re[j++] - '0');
				has_lo = true;
			}
			if (j < n && re[j] == ',') {
				comma = true;
				j++;
				while (j < n && isdigit(re[j]) && hi <= DUP_MAX) {
					hi = hi * 10 + (unsigned)(re[j++] - '0');
					has_hi = true;
				}
			}
			if (j >= n || re[j] != '}' || !has_lo)
				return "regexp: bad interval {m,n}";
			if (lo > DUP_MAX || (has_hi && (hi > DUP_MAX || hi < lo)))
				return "regexp: interval out of range";
			(void)comma;
			i = j;
			atom = false;
			break;
		}
		default:
			atom = true; /* '^', '$', '.', a literal */
			break;
		}
	}
	if (depth)
		return "regexp: unbalanced parenthesis";
	return NULL;
}

/* The URI schemes an E2U service allows for what a terminal rule produces (RFC 6116 §3.4.3:
 * enumservice "type[:subtype]", the subtype being the URI scheme where it has one). True
 * when @scheme fits, or when no enumservice of @svc is one we know. */
static bool scheme_fits(const uint8_t *svc, size_t sn, const uint8_t *scheme, size_t kn)
{
	static const struct {
		const char *type, *schemes[3];
	} known[] = {
	        {"sip", {"sip", "sips", NULL}},   {"h323", {"h323", NULL, NULL}},
	        {"pstn", {"tel", NULL, NULL}},    {"xmpp", {"xmpp", NULL, NULL}},
	        {"im", {"im", "sip", "sips"}},    {"pres", {"pres", "sip", "sips"}},
	        {"iax", {"iax", NULL, NULL}},     {"email", {"mailto", NULL, NULL}},
	        {"web", {"http", "https", NULL}}, {"sms", {"sip", "tel", "mailto"}},
	};
	bool any_known = false;
	size_t i = 4; /* after "E2U+" */
	while (i < sn) {
		size_t e = i;
		while (e < sn && svc[e] != '+')
			e++;
		size_t colon = i;
		while (colon < e && svc[colon] != ':')
			colon++;
		if (colon < e) {
			/* a subtype names the scheme (voice:tel, web:http, pstn:sip) */
			const uint8_t *sub = svc + colon + 1;
			size_t sl = e - colon - 1;
			any_known = true;
			if (sl == kn &&
			    strncasecmp((const char *)sub, (const char *)scheme, kn) == 0)
				return true;
			if (ieq(sub, sl, "sip") && ieq(scheme, kn, "sips"))
				return true;
		} else {
			for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
				if (!ieq(svc + i, colon - i, known[k].type))
					continue;
				any_known = true;
				for (size_t s = 0; s < 3 && known[k].schemes[s]; s++)
					if (ieq(scheme, kn, known[k].schemes[s]))
						return true;
			}
		}
		i = e + 1;
	}
	return !any_known;
}

/* The substitution expression (RFC 3402 §3.2): delim ERE delim repl delim [i]. */
static const char *regexp_check(const uint8_t *r, size_t n, bool e2u, bool terminal,
                                const uint8_t *svc, size_t sn)
{
	if (!printable(r, n))
		return "regexp: non-printable or space character";
	if (n < 3)
		return "regexp: fewer than three delimiters";
	uint8_t d = r[0];
	if (isdigit(d) || d == '\\' || d == 'i')
		return "regexp: delimiter is a digit, a backslash or the flag i";
	size_t cut[2], k = 0;
	for (size_t i = 1; i < n; i++) {
		if (r[i] == '\\') {
			i++;
			continue;
		}
		if (r[i] == d) {
			if (k == 2)
				return "regexp: more than three delimiters";
			cut[k++] = i;
		}
	}
	if (k != 2)
		return "regexp: fewer than three delimiters";
	size_t flags = cut[1] + 1;
	if (flags < n && !(n - flags == 1 && (r[flags] == 'i' || r[flags] == 'I')))
		return "regexp: unknown flag after the last delimiter";
	const uint8_t *pat = r + 1, *rep = r + cut[0] + 1;
	size_t pl = cut[0] - 1, rl = cut[1] - cut[0] - 1;
	if (pl == 0)
		return "regexp: empty pattern";
	unsigned groups;
	const char *why = ere_check(pat, pl, &groups);
	if (why)
		return why;
	for (size_t i = 0; i < rl; i++) {
		if (rep[i] != '\\')
			continue;
		if (i + 1 >= rl)
			return "regexp: trailing backslash in the replacement";
		if (isdigit(rep[i + 1]) && (unsigned)(rep[i + 1] - '0') > groups)
			return "regexp: back-reference beyond the groups of the pattern";
		i++;
	}
	if (!e2u || !terminal)
		return NULL;
	/* RFC 6116 §3.4.1: a terminal rule produces a URI: "scheme:" first */
	size_t s = 0;
	while (s < rl && (isalnum(rep[s]) || rep[s] == '+' || rep[s] == '-' || rep[s] == '.'))
		s++;
	if (s == 0 || s >= rl || rep[s] != ':' || !isalpha(rep[0]))
		return "regexp: a terminal rule does not produce a URI";
	if (!scheme_fits(svc, sn, rep, s))
		return "regexp: URI scheme not allowed for the enumservice";
	return NULL;
}

const char *fe_wire_naptr_lint(const uint8_t *owner, const uint8_t *rd, size_t rdlen)
{
	if (rdlen > RDATA_MAX)
		return "oversized (RDATA above 512 octets)";
	const uint8_t *cs[3];
	size_t cl[3], off = 4;
	if (rdlen < 4)
		return "malformed RDATA";
	for (int i = 0; i < 3; i++) {
		if (off >= rdlen || off + 1u + rd[off] > rdlen)
			return "malformed RDATA";
		cl[i] = rd[off];
		cs[i] = rd + off + 1;
		off += 1u + cl[i];
	}
	const uint8_t *repl = rd + off;
	int rpl = fe_wire_name_len(repl, rdlen - off);
	if (rpl <= 0 || off + (size_t)rpl != rdlen)
		return "malformed RDATA (replacement)";
	const uint8_t *fl = cs[0], *svc = cs[1], *re = cs[2];
	size_t fn = cl[0], sn = cl[1], rn = cl[2];
	if (!printable(svc, sn))
		return "service: non-printable or space character";
	bool e2u = sn >= 3 && ieq(svc, 3, "e2u") && (sn == 3 || svc[3] == '+');
	/* RFC 3403 §4.1 flags: A-Z, 0-9; RFC 6116 §3.4.1: ENUM knows "u" and none */
	bool terminal = false;
	for (size_t i = 0; i < fn; i++) {
		uint8_t c = (uint8_t)tolower(fl[i]);
		if (!isalnum(c))
			return "flags: not A-Z or 0-9";
		if (e2u && c != 'u')
			return "flags: unknown flag for an E2U rule (only \"u\")";
		if (!e2u && c != 's' && c != 'a' && c != 'u' && c != 'p')
			return "flags: unknown flag (RFC 3404 knows s, a, u, p)";
		if (memchr(fl, fl[i], i))
			return "flags: repeated flag";
		terminal = terminal || c != 'p';
	}
	if (e2u && sn < 5)
		return "service: E2U without an enumservice";
	bool has_repl = repl[0] != 0;
	if (rn && has_repl)
		return "REGEXP and REPLACEMENT both set (RFC 3403 §4.1)";
	if (!rn && !has_repl)
		return "neither REGEXP nor REPLACEMENT set";
	bool uflag = fn && memchr(fl, 'u', fn) != NULL;
	if (!uflag && fn && memchr(fl, 'U', fn) != NULL)
		uflag = true;
	if (uflag && !rn)
		return "flag u without a REGEXP (a terminal rule produces a URI)";
	if (!terminal && has_repl && owner && fe_wire_name_eq(repl, owner))
		return "non-terminal rule whose replacement is its own owner (a loop)";
	if (rn)
		return regexp_check(re, rn, e2u, uflag, svc, sn);
	return NULL;
}
