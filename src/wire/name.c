/* Wire names: validation, canonical keys, comparison, decompression, presentation. */
#include "wire_int.h"

#include <string.h>

/* A wire name has at most 127 labels: 255 octets, each label at least 2, plus the root. */
#define MAX_LABELS 127

/* Walk an uncompressed name; fill @starts with label offsets. Returns the name length or
 * FE_EFORMAT. Extended label types (01, RFC 6891 §5) and pointers are not allowed here. */
static int split_labels(const uint8_t *name, size_t max, uint8_t *starts, int *nlabels)
{
	size_t pos = 0;
	int n = 0;

	if (max > FE_WIRE_NAME_MAX)
		max = FE_WIRE_NAME_MAX;
	for (;;) {
		if (pos >= max)
			return FE_EFORMAT;
		uint8_t l = name[pos];
		if (l == 0)
			break;
		if (l > FE_WIRE_LABEL_MAX)
			return FE_EFORMAT;
		/* the label and at least the root octet after it must be inside @max */
		if (l + 1u >= max - pos)
			return FE_EFORMAT;
		if (starts)
			starts[n] = (uint8_t)pos;
		n++;
		pos += 1u + l;
	}
	*nlabels = n;
	return (int)pos + 1;
}

int fe_wire_name_len(const uint8_t *name, size_t max)
{
	int n;
	return split_labels(name, max, NULL, &n);
}

int fe_wire_name_labels(const uint8_t *name)
{
	int n = 0;
	size_t pos = 0;

	while (pos < FE_WIRE_NAME_MAX && name[pos] != 0) {
		pos += 1u + name[pos];
		n++;
	}
	return n;
}

bool fe_wire_name_eq(const uint8_t *a, const uint8_t *b)
{
	size_t pos = 0;

	for (;;) {
		uint8_t l = a[pos];
		if (l != b[pos])
			return false;
		if (l == 0)
			return true;
		pos++;
		for (size_t i = 0; i < l; i++)
			if (fe__lc(a[pos + i]) != fe__lc(b[pos + i]))
				return false;
		pos += l;
		if (pos >= FE_WIRE_NAME_MAX)
			return false;
	}
}

void fe_wire_name_lower(const uint8_t *name, uint8_t *out)
{
	size_t pos = 0;

	while (pos < FE_WIRE_NAME_MAX - 1 && name[pos] != 0) {
		size_t next = pos + 1u + name[pos];
		if (next >= FE_WIRE_NAME_MAX)
			break; /* invalid name: stop at the last whole label */
		pos = next;
	}
	/* length octets are <= 63 and so are unchanged by lowercasing */
	fe__lc_copy(out, name, pos);
	out[pos] = 0;
}

/* RFC 4034 §6.1: names sort by labels from the right; labels compare as lowercased octet
 * strings where a shorter label sorts first. Writing each label lowercased and followed by
 * 0x00 gives that order under memcmp as long as 0x00 cannot occur inside a label: escape it
 * (and the escape octet 0x01) as 0x01 0x01 / 0x01 0x02, which keeps 0x00 < 0x01 < 0x02 <= any
 * other octet. */
int fe_wire_name_key(const uint8_t *name, size_t name_len, uint8_t *key, size_t cap)
{
	uint8_t starts[MAX_LABELS];
	int n;
	size_t k = 0;

	if (name_len == 0 || name_len > FE_WIRE_NAME_MAX)
		return FE_EFORMAT;
	int len = split_labels(name, name_len, starts, &n);
	if (len < 0)
		return len;
	if ((size_t)len != name_len)
		return FE_EFORMAT;

	/* the key is at most 2 * content + labels < 2 * name_len: check per octet only when
	 * @cap is below that */
	bool roomy = cap >= 2 * name_len;
	for (int i = n - 1; i >= 0; i--) {
		const uint8_t *lab = name + starts[i] + 1;
		uint8_t l = lab[-1];
		for (uint8_t j = 0; j < l; j++) {
			uint8_t c = fe__lc(lab[j]);
			if (c <= 1) {
				if (!roomy && cap - k < 2)
					return FE_ENOSPC;
				key[k++] = 1;
				key[k++] = (uint8_t)(c + 1);
			} else {
				if (!roomy && k >= cap)
					return FE_ENOSPC;
				key[k++] = c;
			}
		}
		if (!roomy && k >= cap)
			return FE_ENOSPC;
		key[k++] = 0;
	}
	return (int)k;
}

int fe_wire_key_to_name(const uint8_t *key, size_t key_len, uint8_t *name, size_t cap)
{
	uint16_t kstart[MAX_LABELS];
	uint8_t llen[MAX_LABELS];
	int n = 0;
	size_t pos = 0, total = 1;

	if (key_len > FE_WIRE_KEY_MAX)
		return FE_EFORMAT;
	while (pos < key_len) {
		size_t start = pos;
		unsigned l = 0;
		for (;;) {
			if (pos >= key_len)
				return FE_EFORMAT; /* label without its terminator */
			uint8_t c = key[pos];
			if (c == 0)
				break;
			if (c == 1) {
				if (pos + 1 >= key_len || (key[pos + 1] != 1 && key[pos + 1] != 2))
					return FE_EFORMAT;
				pos += 2;
			} else {
				if (c >= 'A' && c <= 'Z')
					return FE_EFORMAT;
				pos++;
			}
			if (++l > FE_WIRE_LABEL_MAX)
				return FE_EFORMAT;
		}
		if (l == 0 || n >= MAX_LABELS)
			return FE_EFORMAT;
		total += 1u + l;
		if (total > FE_WIRE_NAME_MAX)
			return FE_EFORMAT;
		kstart[n] = (uint16_t)start;
		llen[n] = (uint8_t)l;
		n++;
		pos++; /* terminator */
	}
	if (total > cap)
		return FE_ENOSPC;

	size_t o = 0;
	for (int i = n - 1; i >= 0; i--) {
		const uint8_t *p = key + kstart[i];
		name[o++] = llen[i];
		for (unsigned j = 0; j < llen[i]; j++) {
			if (*p == 1) {
				name[o++] = (uint8_t)(p[1] - 1);
				p += 2;
			} else {
				name[o++] = *p++;
			}
		}
	}
	name[o++] = 0;
	return (int)o;
}

/* RFC 1035 §4.1.4 compression, read defensively. Every pointer must point before the start of
 * the label run it ends (the run we started at, or the target of the previous pointer): the
 * run starts then strictly decrease, so no sequence of pointers can loop, and a forward or
 * self pointer is refused outright. The hop limit bounds the work on top of that. */
int fe_wire_name_read(const uint8_t *pkt, size_t pkt_len, size_t *pos, uint8_t *out)
{
	size_t p = *pos, run = p, end = 0, total = 0;
	unsigned hops = 0;

	for (;;) {
		if (p >= pkt_len)
			return FE_EFORMAT;
		uint8_t c = pkt[p];
		if (c == 0) {
			if (out)
				out[total] = 0;
			total++;
			if (end == 0)
				end = p + 1;
			break;
		}
		switch (c & 0xC0u) {
		case 0x00:
			/* label plus at least one octet after it; name with root <= 255 */
			if (c + 1u >= pkt_len - p || total + c + 2u > FE_WIRE_NAME_MAX)
				return FE_EFORMAT;
			if (out)
				memcpy(out + total, pkt + p, c + 1u);
			total += c + 1u;
			p += c + 1u;
			break;
		case 0xC0: {
			if (p + 1 >= pkt_len)
				return FE_EFORMAT; /* pointer cut by the end of the message */
			size_t t = (size_t)(c & 0x3Fu) << 8 | pkt[p + 1];
			if (t >= run || t < FE_WIRE_HDR_LEN || ++hops > FE_WIRE_MAX_HOPS)
				return FE_EFORMAT;
			if (end == 0)
				end = p + 2;
			p = run = t;
			break;
		}
		default:
			return FE_EFORMAT; /* 01: extended label (RFC 6891 §5), 10: reserved */
		}
	}
	*pos = end;
	return (int)total;
}

static bool is_special(uint8_t c)
{
	return c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')' || c == '@' ||
	       c == '$';
}

void fe_wire_name_to_str(const uint8_t *name, char *out, size_t cap)
{
	size_t o = 0, pos = 0;
	char tok[5];

	if (cap == 0)
		return;
	if (name[0] == 0) {
		if (cap >= 2)
			out[o++] = '.';
		out[o] = 0;
		return;
	}
	while (name[pos] != 0) {
		uint8_t l = name[pos];
		if (l > FE_WIRE_LABEL_MAX || pos + 1u + l >= FE_WIRE_NAME_MAX)
			break; /* not a valid name: print what was valid */
		for (size_t i = pos + 1; i <= pos + l; i++) {
			uint8_t c = name[i];
			size_t tl;
			if (is_special(c)) {
				tok[0] = '\\';
				tok[1] = (char)c;
				tl = 2;
			} else if (c > 0x20 && c < 0x7F) {
				tok[0] = (char)c;
				tl = 1;
			} else {
				tok[0] = '\\';
				tok[1] = (char)('0' + c / 100);
				tok[2] = (char)('0' + c / 10 % 10);
				tok[3] = (char)('0' + c % 10);
				tl = 4;
			}
			if (cap - o <= tl)
				goto out_term;
			memcpy(out + o, tok, tl);
			o += tl;
		}
		if (cap - o <= 1)
			goto out_term;
		out[o++] = '.';
		pos += 1u + l;
	}
out_term:
	out[o] = 0;
}

int fe_wire_key_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	int c = memcmp(a, b, FE_MIN(alen, blen));
	if (c != 0)
		return c;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}
