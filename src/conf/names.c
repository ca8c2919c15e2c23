/* Names in the configuration: domain names, E.164 prefixes, presentation to wire. */
#include "conf_int.h"

#include <string.h>

/* A presentation-form domain name: labels of letters, digits, '-', '_' (1..63), total
 * <= 253 characters, with the final dot (the root alone is refused). */
bool fe__conf_is_domain(const char *s)
{
	size_t len = strlen(s);
	if (len < 2 || len > 254 || s[len - 1] != '.')
		return false;
	size_t lab = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		if (ch == '.') {
			if (lab == 0 || lab > FE_WIRE_LABEL_MAX)
				return false;
			lab = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		           (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '*') {
			lab++;
		} else {
			return false;
		}
	}
	return true;
}

/* "+" then 1..15 digits (ITU-T E.164). */
bool fe__conf_is_e164_prefix(const char *s)
{
	if (s[0] != '+')
		return false;
	size_t n = 0;
	for (const char *p = s + 1; *p; p++, n++)
		if (*p < '0' || *p > '9')
			return false;
	return n >= 1 && n <= 15;
}

int fe_conf_name_from_str(const char *s, uint8_t *out, size_t cap)
{
	size_t len = strlen(s);
	if (len && s[len - 1] == '.')
		len--;
	size_t o = 0;
	size_t i = 0;
	while (i < len) {
		size_t j = i;
		while (j < len && s[j] != '.') {
			if (s[j] == '\\')
				return FE_ESYNTAX;
			j++;
		}
		size_t lab = j - i;
		if (lab == 0 || lab > FE_WIRE_LABEL_MAX || o + 1 + lab + 1 > cap ||
		    o + 1 + lab + 1 > FE_WIRE_NAME_MAX)
			return FE_ESYNTAX;
		out[o++] = (uint8_t)lab;
		memcpy(out + o, s + i, lab);
		o += lab;
		i = j + 1;
	}
	if (o + 1 > cap)
		return FE_ESYNTAX;
	out[o++] = 0;
	return (int)o;
}

int fe_conf_secondary_parse(const char *spec, bool with_name, char *apex, size_t apex_cap,
                            struct fe_listen_addr *primary, char *name, size_t name_cap)
{
	const char *at = strchr(spec, '@');
	if (!at || at == spec || (apex && (size_t)(at - spec) >= apex_cap))
		return FE_ESYNTAX;
	char addr[128];
	const char *rest = at + 1, *port_at = strchr(rest, '@');
	const char *name_at = port_at ? strchr(port_at + 1, '@') : NULL;
	size_t alen = name_at ? (size_t)(name_at - rest) : strlen(rest);
	if (!port_at || alen >= sizeof(addr) || (name_at && !with_name) ||
	    (name_at && (!name_at[1] || strlen(name_at + 1) > 253)))
		return FE_ESYNTAX;
	memcpy(addr, rest, alen);
	addr[alen] = '\0';
	if (fe_server_listen_parse(addr, primary) != FE_OK || primary->port == 0)
		return FE_ESYNTAX;
	if (apex) {
		memcpy(apex, spec, (size_t)(at - spec));
		apex[at - spec] = '\0';
	}
	if (name) {
		const char *nm = name_at ? name_at + 1 : "";
		if (strlen(nm) >= name_cap)
			return FE_ESYNTAX;
		strcpy(name, nm);
	}
	return FE_OK;
}
