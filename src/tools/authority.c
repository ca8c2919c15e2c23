/* Prefix authority (fedenumctl zone check): does a zone hold only what its member may
 * publish? A member zone under an ENUM apex of the federation (the registry's zones) may
 * hold names whose digits lie on the way to, or inside, one of the member's number prefixes;
 * a wildcard only inside one (it would otherwise answer for numbers the member does not
 * hold). A zone outside the ENUM apexes must be one of the member's domains. The registry's
 * own zones delegate: their authority is the chain of trust. */
#include "ctl_int.h"
#include "fedenum/conf.h"
#include "fedenum/util.h"
#include "fedenum/wire.h"
#include "fedenum/zone.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SHOWN 20

/* Presentation names compared without case and final dot. */
static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Is @name equal to or below @suffix (presentation, final dots optional)? The part above it
 * (without the joining dot) into @above. */
static bool below(const char *name, const char *suffix, char *above, size_t cap)
{
	size_t ln = strlen(name), ls = strlen(suffix);
	if (ln && name[ln - 1] == '.')
		ln--;
	if (ls && suffix[ls - 1] == '.')
		ls--;
	if (ls == 0 || ln < ls || strncasecmp(name + ln - ls, suffix, ls) != 0)
		return false;
	if (ln == ls) {
		above[0] = '\0';
		return true;
	}
	if (name[ln - ls - 1] != '.' || ln - ls - 1 >= cap)
		return false;
	memcpy(above, name, ln - ls - 1);
	above[ln - ls - 1] = '\0';
	return true;
}

/* "4.3.2.1" → "1234" (the E.164 digits, most significant first); "*.2.1" → "12" with
 * *wild set. False when a label is not one digit (or a leading "*"). */
static bool enum_digits(const char *above, char *digits, size_t cap, bool *wild)
{
	*wild = false;
	size_t nd = 0;
	const char *p = above;
	if (strncmp(p, "*", 1) == 0 && (p[1] == '.' || p[1] == '\0')) {
		*wild = true;
		p += p[1] ? 2 : 1;
	}
	size_t n = strlen(p);
	if (n == 0) {
		digits[0] = '\0';
		return true;
	}
	/* Labels from the right are the number's digits from the left. */
	for (size_t i = n; i > 0;) {
		size_t end = i;
		while (i > 0 && p[i - 1] != '.')
			i--;
		if (end - i != 1 || !isdigit((unsigned char)p[i]) || nd + 1 >= cap)
			return false;
		digits[nd++] = p[i];
		if (i > 0)
			i--;
	}
	digits[nd] = '\0';
	return true;
}

static bool starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

struct walk {
	const struct fe_conf_member *m;
	const char *enum_apex; /* NULL: a domain zone */
	unsigned long names, bad;
	json_t *violations;
	bool quiet;
	const char *prev; /* the last owner checked (records come sorted by owner) */
	size_t prev_len;
};

static void violation(struct walk *w, const char *file, unsigned long line, const char *name,
                      const char *why)
{
	w->bad++;
	if (w->violations)
		json_array_append_new(w->violations,
		                      json_pack("{s:s, s:I, s:s, s:s}", "file", file, "line",
		                                (json_int_t)line, "name", name, "why", why));
	if (!w->quiet && w->bad <= MAX_SHOWN)
		fprintf(stderr, "%s:%lu: %s: %s\n", file, line, name, why);
}

static bool check_rr(const struct fe_zone_rr *rr, const char *file, unsigned long line, void *arg)
{
	struct walk *w = arg;
	if (rr->type == FE_T_NSEC3)
		return true; /* hashed owners: the chain, not numbers */
	if (rr->type == FE_T_RRSIG && rr->rdlen >= 2 &&
	    (rr->rdata[0] << 8 | rr->rdata[1]) == FE_T_NSEC3)
		return true;
	char name[1100], above[1100], digits[64];
	fe_wire_name_to_str(rr->owner, name, sizeof(name));
	bool wild;
	if (!below(name, w->enum_apex, above, sizeof(above)))
		return true; /* the zone's own structure checks refuse names outside it */
	bool number = enum_digits(above, digits, sizeof(digits), &wild);
	if (!number) {
		/* Hosts in the zone (its name servers): addresses only, never a route. */
		if (rr->type != FE_T_A && rr->type != FE_T_AAAA && rr->type != FE_T_RRSIG &&
		    rr->type != FE_T_NSEC)
			violation(
			        w, file, line, name,
			        "not a number (one digit per label): only host addresses (A, AAAA) "
			        "may sit on other names");
		return true;
	}
	if (w->prev && w->prev_len == rr->owner_len &&
	    memcmp(w->prev, rr->owner, rr->owner_len) == 0)
		return true; /* same owner as the record before: checked */
	w->prev = (const char *)rr->owner;
	w->prev_len = rr->owner_len;
	w->names++;
	for (size_t i = 0; i < w->m->nprefixes; i++) {
		const char *p = w->m->prefixes[i] + (w->m->prefixes[i][0] == '+');
		/* On the way to the prefix (apex, empty non-terminal), or inside it. */
		if ((!wild && starts_with(p, digits)) || starts_with(digits, p))
			return true;
	}
	char why[512];
	snprintf(why, sizeof(why), "%s+%s is outside %s's prefixes", wild ? "wildcard under " : "",
	         digits, w->m->name);
	violation(w, file, line, name, why);
	return true;
}

/* The member of @apex: the one named, the federation's zone entry, or none. */
static const struct fe_conf_member *member_of(const struct fe_conf *fed, const char *apex,
                                              const char *named)
{
	const char *want = named;
	for (size_t i = 0; !want && i < fed->nzones; i++)
		if (fed->zones[i].apex && fed->zones[i].member &&
		    same_name(fed->zones[i].apex, apex))
			want = fed->zones[i].member;
	for (size_t i = 0; want && i < fed->nmembers; i++)
		if (strcmp(fed->members[i].name, want) == 0)
			return &fed->members[i];
	return NULL;
}

int fe__ctl_authority(const struct fe_conf *fed, const char *member, const char *path, json_t *out)
{
	struct fe_zone *z = NULL;
	struct fe_zone_error err;
	memset(&err, 0, sizeof(err));
	struct fe_zone_opts zo = {0};
	int rc = fe_zone_parse_file(path, &zo, &z, &err);
	if (rc != FE_OK) {
		/* Reported by the checks before this one. */
		fe_zone_free(z);
		return FE__CTL_EXIT_FAIL;
	}
	const char *apex = fe_zone_apex_str(z);
	const struct fe_conf_member *m = member_of(fed, apex, member);
	char line[1400];
	int code = 0;
	if (!m) {
		snprintf(line, sizeof(line),
		         member ? "%s: prefix authority: no member \"%s\" in the federation"
		                : "%s: prefix authority: no member of the federation holds zone "
		                  "%s (--member NAME)",
		         path, member ? member : apex);
		code = FE__CTL_EXIT_FAIL;
	} else if (m->is_registry) {
		snprintf(line, sizeof(line),
		         "%s: prefix authority: %s is a zone of the registry member \"%s\" (its "
		         "delegations are checked through the chain of trust)",
		         path, apex, m->name);
	} else {
		const char *enum_apex = NULL;
		char above[1100];
		for (size_t i = 0; i < fed->nzones && !enum_apex; i++) {
			const struct fe_conf_member *r = member_of(fed, fed->zones[i].apex, NULL);
			if (r && r->is_registry &&
			    below(apex, fed->zones[i].apex, above, sizeof(above)))
				enum_apex = fed->zones[i].apex;
		}
		if (enum_apex) {
			struct walk w = {.m = m,
			                 .enum_apex = enum_apex,
			                 .violations = out ? json_array() : NULL,
			                 .quiet = out != NULL};
			fe_zone_foreach_rr(z, check_rr, &w);
			if (w.bad) {
				snprintf(line, sizeof(line),
				         "%s: prefix authority: %lu of %lu names of %s break "
				         "%s's "
				         "prefixes",
				         path, w.bad, w.names, apex, m->name);
				code = FE__CTL_EXIT_FAIL;
			} else {
				snprintf(line, sizeof(line),
				         "%s: prefix authority: OK (%lu numbers and number "
				         "prefixes of %s, all within "
				         "%s's "
				         "prefixes)",
				         path, w.names, apex, m->name);
			}
			if (out)
				json_object_set_new(out, "violations", w.violations);
			else
				json_decref(w.violations);
		} else {
			bool ok = false;
			for (size_t i = 0; i < m->ndomains && !ok; i++)
				ok = below(apex, m->domains[i], above, sizeof(above));
			snprintf(line, sizeof(line),
			         ok ? "%s: prefix authority: OK (%s is a domain of %s)"
			            : "%s: prefix authority: %s is neither under the ENUM apex nor "
			              "one "
			              "of %s's domains",
			         path, apex, m->name);
			code = ok ? 0 : FE__CTL_EXIT_FAIL;
		}
	}
	if (out) {
		json_object_set_new(out, "member", m ? json_string(m->name) : json_null());
		json_object_set_new(out, "ok", json_boolean(code == 0));
		json_object_set_new(out, "detail", json_string(line));
	} else {
		fprintf(code ? stderr : stdout, "%s\n", line);
	}
	fe_zone_free(z);
	return code;
}
