/* NAPTR lint (docs/security.md Z7): a table of records that pass and of records that fail,
 * each failure with the reason it must give. */
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fe_test_name.h"

#include <criterion/criterion.h>
#include <string.h>

#define OWNER "4.3.2.1.5.5.5.1.e164.fed."

/* RDATA of NAPTR 100 10 @flags @service @regexp @repl. */
static size_t rdata(const char *flags, const char *service, const char *regexp, const char *repl,
                    uint8_t *out)
{
	size_t n = 0;
	out[n++] = 0;
	out[n++] = 100;
	out[n++] = 0;
	out[n++] = 10;
	const char *cs[3] = {flags, service, regexp};
	for (int i = 0; i < 3; i++) {
		size_t l = strlen(cs[i]);
		out[n++] = (uint8_t)l;
		memcpy(out + n, cs[i], l);
		n += l;
	}
	n += fe_test_wire_name(repl, out + n);
	return n;
}

struct row {
	const char *flags, *service, *regexp, *repl;
	const char *why; /* NULL: passes; else a substring of the reason */
};

static const struct row rows[] = {
        /* good */
        {"u", "E2U+sip", "!^.*$!sip:+15551234@ims-a.example;user=phone!", ".", NULL},
        {"u", "E2U+sip", "!^(.*)$!sip:\\1@ims-a.example!", ".", NULL},
        {"U", "E2U+sip", "/^\\+1(555)(.*)$/sips:\\2@ims-a.example/i", ".", NULL},
        {"u", "E2U+pstn:tel", "!^(.*)$!tel:\\1;npdi;rn=+15550000!", ".", NULL},
        {"u", "E2U+voice:tel", "!^.*$!tel:+15551234!", ".", NULL},
        {"u", "E2U+email:mailto", "!^.*$!mailto:a@example.net!", ".", NULL},
        {"u", "E2U+P-ims", "!^.*$!sip:internal@ims-a.example!", ".", NULL},
        {"u", "E2U+x-private", "!^.*$!foo:bar!", ".", NULL},
        {"u", "E2U+sip", "!^[[:digit:]]{3,11}(a|b)?[]x-]+$!sip:x@y!", ".", NULL},
        {"", "E2U+sip", "", "other.e164.fed.", NULL},
        {"s", "SIP+D2U", "", "_sip._udp.ims-a.example.", NULL},
        /* delimiters */
        {"u", "E2U+sip", "!^.*$!sip:x@y", ".", "fewer than three"},
        {"u", "E2U+sip", "!^.*$!sip:x@y!!", ".", "more than three"},
        {"u", "E2U+sip", "!^.*!$!sip:x@y!", ".", "more than three"},
        {"u", "E2U+sip", "1^.*$1sip:x@y1", ".", "delimiter"},
        {"u", "E2U+sip", "!^.*$!sip:x@y!g", ".", "unknown flag after"},
        /* the ERE */
        {"u", "E2U+sip", "!^(.*$!sip:x@y!", ".", "unbalanced"},
        {"u", "E2U+sip", "!^.*)$!sip:x@y!", ".", "unbalanced"},
        {"u", "E2U+sip", "!^[0-9$!sip:x@y!", ".", "bracket"},
        {"u", "E2U+sip", "!*abc!sip:x@y!", ".", "quantifier"},
        {"u", "E2U+sip", "!a**!sip:x@y!", ".", "quantifier"},
        {"u", "E2U+sip", "!a{2,1}!sip:x@y!", ".", "interval"},
        {"u", "E2U+sip", "!a{x}!sip:x@y!", ".", "interval"},
        {"u", "E2U+sip", "!a()b!sip:x@y!", ".", "empty group"},
        {"u", "E2U+sip", "!a|!sip:x@y!", ".", "empty alternative"},
        {"u", "E2U+sip", "!(a)\\1!sip:x@y!", ".", "back-reference in the pattern"},
        {"u", "E2U+sip", "!^(.*)$!sip:\\2@y!", ".", "beyond the groups"},
        {"u", "E2U+sip", "!^.*$!sip:\\1@y!", ".", "beyond the groups"},
        {"u", "E2U+sip", "!^.*$!sip:x y@z!", ".", "non-printable"},
        {"u", "E2U+sip", "!^.*$!sip:x\x01@z!", ".", "non-printable"},
        /* flags, fields, URIs */
        {"x", "E2U+sip", "!^.*$!sip:x@y!", ".", "unknown flag"},
        {"uu", "E2U+sip", "!^.*$!sip:x@y!", ".", "repeated flag"},
        {"u!", "E2U+sip", "!^.*$!sip:x@y!", ".", "A-Z"},
        {"u", "E2U+sip", "!^.*$!sip:x@y!", "other.e164.fed.", "both set"},
        {"u", "E2U+sip", "", ".", "neither"},
        {"u", "E2U+sip", "!^.*$!just-text!", ".", "does not produce a URI"},
        {"u", "E2U+sip", "!^.*$!tel:+15551234!", ".", "not allowed for the enumservice"},
        {"u", "E2U+pstn:tel", "!^.*$!sip:x@y!", ".", "not allowed for the enumservice"},
        {"u", "E2U+email:mailto", "!^.*$!http://x/!", ".", "not allowed"},
        {"u", "E2U", "!^.*$!sip:x@y!", ".", "without an enumservice"},
        {"", "E2U+sip", "", OWNER, "loop"},
        {"s", "SIP+D2U", "!^.*$!x!", "_sip._udp.ims-a.example.", "both set"},
};

Test(naptr_lint, table_of_good_and_bad_records)
{
	uint8_t owner[FE_WIRE_NAME_MAX], rd[2048];
	fe_test_wire_name(OWNER, owner);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		size_t n = rdata(r->flags, r->service, r->regexp, r->repl, rd);
		const char *why = fe_wire_naptr_lint(owner, rd, n);
		if (!r->why) {
			cr_expect_null(why, "row %zu (%s %s %s) should pass: %s", i, r->flags,
			               r->service, r->regexp, why ? why : "");
		} else {
			cr_expect_not_null(why, "row %zu (%s %s %s) should fail (%s)", i, r->flags,
			                   r->service, r->regexp, r->why);
			if (why)
				cr_expect(strstr(why, r->why) != NULL,
				          "row %zu: reason \"%s\", expected \"%s\"", i, why,
				          r->why);
		}
	}
}

Test(naptr_lint, malformed_and_oversized_rdata)
{
	uint8_t rd[2048];
	size_t n = rdata("u", "E2U+sip", "!^.*$!sip:x@y!", ".", rd);
	cr_assert_null(fe_wire_naptr_lint(NULL, rd, n));
	/* cut anywhere: never read beyond, always malformed */
	for (size_t cut = 0; cut < n; cut++)
		cr_expect_not_null(fe_wire_naptr_lint(NULL, rd, cut), "cut at %zu", cut);
	/* trailing octets after the replacement */
	rd[n] = 0;
	cr_expect_not_null(fe_wire_naptr_lint(NULL, rd, n + 1));
	/* above 512 octets */
	memset(rd, 0, sizeof(rd));
	cr_expect(strstr(fe_wire_naptr_lint(NULL, rd, 600), "oversized") != NULL);
}
