/* SPDX-License-Identifier: MIT */
/*
 * report-redact.c — what keeps a support report safe to send: every text
 * that enters the report model passes through rdx_text() here.
 *
 *   * Secrets (the encryption key, the SOCKS password) are scrubbed in
 *     every mode, in the forms they could take in text: as given in any
 *     letter case, hex of their bytes, base64/base64url of their bytes
 *     and, for a hex key, of the decoded bytes.
 *   * Addresses: numeric IPv4/IPv6 literals are found in any text (with
 *     or without a port, in brackets, with a zone) and replaced by a
 *     pseudonym that stays the same for the same address throughout the
 *     report: the user's own addresses ("local-1", "public-1") in modes
 *     own and all, every other address ("resolver-2", "ip-7") in mode
 *     all only. Unspecified addresses (0.0.0.0, ::) stay: they name
 *     nobody.
 *   * Host names ("host-1") and $HOME ("~") in modes own and all.
 *
 * It does not find addresses spelled as names (1-2-3-4.example) or in
 * reverse-DNS form, and it cannot scrub a secret shorter than 4 bytes
 * (refused, see report.h). The mapping stays in this struct and is
 * never rendered.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "proto/b64.h"
#include "reports/report-int.h"
#include "reports/sink-int.h"

enum { K_RESOLVER, K_IP, K_LOCAL, K_PUBLIC, K_HOST };
static const char *const kind_prefix[] = {
    "resolver", "ip", "local", "public", "host"};

#define SECRET_MIN 4
/* Forms shorter than this are not scrubbed from prose (see above). */

void
rdx_init(struct rdx *r, enum rpt_redact mode)
{
	memset(r, 0, sizeof *r);
	r->mode = mode;
	hmap_init(&r->index);
}

void
rdx_free(struct rdx *r)
{
	size_t i;

	for (i = 0; i < r->nsec; i++) {
		explicit_bzero(r->sec[i].s, r->sec[i].len);
		free(r->sec[i].s);
	}
	free(r->sec);
	for (i = 0; i < r->nnames; i++) {
		free(r->names[i].key);
		free(r->names[i].name);
	}
	free(r->names);
	hmap_free(&r->index);
	free(r->home);
	memset(r, 0, sizeof *r);
}

/* ---- secrets ------------------------------------------------------------ */

static void
add_form(struct rdx *r, const char *s, size_t len)
{
	size_t i;

	if (len < SECRET_MIN)
		return;
	for (i = 0; i < r->nsec; i++)
		if (r->sec[i].len == len && memcmp(r->sec[i].s, s, len) == 0)
			return;
	if (r->nsec == r->seccap) {
		r->seccap = r->seccap ? 2 * r->seccap : 8;
		r->sec = xreallocarray(r->sec, r->seccap, sizeof *r->sec);
	}
	r->sec[r->nsec].s = xstrndup(s, len);
	r->sec[r->nsec].len = len;
	r->nsec++;
}

/*
 * base64 and base64url of b. The last character of an encoding whose
 * length is not a multiple of 3 bytes depends on what follows the bytes
 * inside a longer blob, so it is left out of the form.
 */
static void
add_b64_forms(struct rdx *r, const uint8_t *b, size_t n)
{
	size_t el = b64_encoded_len(n), i;
	char *t = xmalloc(el + 1);

	b64_encode(b, n, t);
	if (n % 3 != 0)
		el--;
	add_form(r, t, el);
	for (i = 0; i < el; i++)
		t[i] = t[i] == '+' ? '-' : t[i] == '/' ? '_' : t[i];
	add_form(r, t, el);
	explicit_bzero(t, el);
	free(t);
}

int
rdx_secret(struct rdx *r, const void *secret, size_t len)
{
	const uint8_t *b = secret;
	char *hex;
	uint8_t *raw;
	long n;

	if (r->frozen || len < SECRET_MIN)
		return -1;
	add_form(r, secret, len);
	/* As rdx_text sees it: cleaned to valid one-line UTF-8. */
	raw = (uint8_t *)xstrndup(secret, len);
	hex = rpt_clean_text((const char *)raw, 1);
	add_form(r, hex, strlen(hex));
	explicit_bzero(hex, strlen(hex));
	explicit_bzero(raw, len);
	free(hex);
	free(raw);
	hex = xmalloc(2 * len + 1);
	hex_encode(b, len, hex);
	add_form(r, hex, 2 * len);
	explicit_bzero(hex, 2 * len);
	free(hex);
	add_b64_forms(r, b, len);
	/* A hex key text: its decoded bytes too. */
	raw = xmalloc(len / 2 + 1);
	n = len % 2 == 0 ? hex_decode(secret, len, raw, len / 2 + 1) : -1;
	if (n >= SECRET_MIN) {
		add_form(r, (const char *)raw, (size_t)n);
		add_b64_forms(r, raw, (size_t)n);
	}
	explicit_bzero(raw, len / 2 + 1);
	free(raw);
	return 0;
}

/* ---- addresses ------------------------------------------------------------ */

static int
word_char(int c)
{
	return isalnum(c) || c == '_' || c == '.' || c == ':';
}

/* A dotted quad at s: its length, or 0. */
static size_t
ipv4_at(const char *s)
{
	size_t i = 0;
	int part, v, digits;

	for (part = 0; part < 4; part++) {
		if (part > 0) {
			if (s[i] != '.')
				return 0;
			i++;
		}
		for (v = 0, digits = 0;
		     isdigit((unsigned char)s[i]) && digits < 4; i++, digits++)
			v = v * 10 + (s[i] - '0');
		if (digits == 0 || digits > 3 || v > 255)
			return 0;
	}
	/* 1.2.3.4.5 or 1.2.3.4x is something else (a version, a word). */
	if (isalnum((unsigned char)s[i]) || s[i] == '_' ||
	    (s[i] == '.' && isdigit((unsigned char)s[i + 1])))
		return 0;
	return i;
}

/* An IPv6 literal at s (with a %zone): its length, or 0. */
static size_t
ipv6_at(const char *s)
{
	char buf[INET6_ADDRSTRLEN + 1];
	struct in6_addr a;
	size_t n = 0, colons = 0, z;

	while (isxdigit((unsigned char)s[n]) || s[n] == ':' || s[n] == '.') {
		colons += s[n] == ':';
		n++;
	}
	/* A sentence may end right after the address. */
	while (n > 0 && s[n - 1] == '.')
		n--;
	/* At least "::" or eight groups: times and MACs are not addresses. */
	if (colons < 2 || n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if ((colons < 7 && strstr(buf, "::") == NULL) ||
	    inet_pton(AF_INET6, buf, &a) != 1)
		return 0;
	if (s[n] == '%') {
		for (z = n + 1;
		     isalnum((unsigned char)s[z]) || s[z] == '_' || s[z] == '-';
		     z++)
			;
		if (z > n + 1)
			n = z;
	}
	if (isalnum((unsigned char)s[n]) || s[n] == '_')
		return 0;
	return n;
}

int
rdx_next_addr(const char *s, size_t *pos, size_t *start, size_t *len)
{
	size_t i, n;

	for (i = *pos; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!isxdigit(c) && c != ':')
			continue;
		if (i > 0 && word_char((unsigned char)s[i - 1]))
			continue;
		if ((n = isdigit(c) ? ipv4_at(s + i) : 0) == 0)
			n = ipv6_at(s + i);
		if (n > 0) {
			*start = i;
			*len = n;
			*pos = i + n;
			return 1;
		}
	}
	*pos = i;
	return 0;
}

/*
 * Canonical text of the address literal s[0 .. n) (zone dropped,
 * IPv4-mapped IPv6 as IPv4) into buf; 0, or -1 for the unspecified
 * address or no address.
 */
static int
canonical(const char *s, size_t n, char *buf, size_t len)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	struct in6_addr a6;
	struct in_addr a4;
	size_t k = strcspn(s, "%");

	if (k > n)
		k = n;
	if (k >= sizeof tmp)
		return -1;
	memcpy(tmp, s, k);
	tmp[k] = '\0';
	if (inet_pton(AF_INET, tmp, &a4) == 1) {
		if (a4.s_addr == 0)
			return -1;
		inet_ntop(AF_INET, &a4, buf, (socklen_t)len);
		return 0;
	}
	if (inet_pton(AF_INET6, tmp, &a6) != 1 || IN6_IS_ADDR_UNSPECIFIED(&a6))
		return -1;
	if (IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], 4);
		inet_ntop(AF_INET, &a4, buf, (socklen_t)len);
		return a4.s_addr == 0 ? -1 : 0;
	}
	inet_ntop(AF_INET6, &a6, buf, (socklen_t)len);
	return 0;
}

static const char *
name_key(const void *ctx, uint32_t v)
{
	const struct rdx *r = ctx;

	return r->names[v].key;
}

static struct rdx_name *
name_find(struct rdx *r, const char *key)
{
	uint32_t v = hmap_find_str(&r->index, key, name_key, r);

	return v == HMAP_NONE ? NULL : &r->names[v];
}

static struct rdx_name *
name_add(struct rdx *r, const char *key, int kind, int own)
{
	struct rdx_name *nm;

	if (r->nnames == r->namecap) {
		r->namecap = r->namecap ? 2 * r->namecap : 32;
		r->names =
		    xreallocarray(r->names, r->namecap, sizeof *r->names);
	}
	nm = &r->names[r->nnames];
	nm->key = xstrdup(key);
	nm->name = xasprintf("%s-%u", kind_prefix[kind], ++r->counter[kind]);
	nm->own = own;
	nm->kind = kind;
	hmap_put(&r->index, str_hash(key), (uint32_t)r->nnames);
	r->nnames++;
	return nm;
}

int
rdx_own(struct rdx *r, const char *addr, enum rpt_own kind)
{
	char key[INET6_ADDRSTRLEN + 1];
	size_t n = strlen(addr);

	if (r->frozen)
		return -1;
	/* The whole text must be one literal. */
	if (n == 0 || (ipv4_at(addr) != n && ipv6_at(addr) != n))
		return -1;
	if (canonical(addr, n, key, sizeof key) != 0)
		return 0;
	if (name_find(r, key) == NULL)
		name_add(
		    r, key, kind == RPT_OWN_PUBLIC ? K_PUBLIC : K_LOCAL, 1);
	return 0;
}

void
rdx_host(struct rdx *r, const char *hostname)
{
	if (r->frozen || hostname == NULL || strlen(hostname) < 2 ||
	    name_find(r, hostname) != NULL)
		return;
	name_add(r, hostname, K_HOST, 1);
}

void
rdx_home(struct rdx *r, const char *home)
{
	/* "/" or "" would turn every path into "~". */
	if (r->frozen || home == NULL || strlen(home) < 2)
		return;
	free(r->home);
	r->home = xstrdup(home);
	while (strlen(r->home) > 1 && r->home[strlen(r->home) - 1] == '/')
		r->home[strlen(r->home) - 1] = '\0';
}

/* ---- text ------------------------------------------------------------------ */

struct obuf {
	char *p;
	size_t n, cap;
};

static void
ob_add(struct obuf *o, const char *s, size_t n)
{
	if (o->n + n + 1 > o->cap) {
		o->cap = (o->n + n + 1) * 2;
		o->p = xrealloc(o->p, o->cap);
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
	o->p[o->n] = '\0';
}

/*
 * A rewrite of *s: spans of *s are replaced one after the other, left to
 * right (splice), and finish puts the result in place of *s.
 */
struct splice {
	struct obuf o;
	size_t last; /* *s is copied up to here */
	int any;
};

static void
splice(struct splice *sp, const char *s, size_t at, size_t n, const char *to)
{
	ob_add(&sp->o, s + sp->last, at - sp->last);
	ob_add(&sp->o, to, strlen(to));
	sp->last = at + n;
	sp->any = 1;
}

static void
splice_finish(struct splice *sp, char **s)
{
	if (!sp->any) {
		free(sp->o.p);
		return;
	}
	ob_add(&sp->o, *s + sp->last, strlen(*s + sp->last));
	free(*s);
	*s = sp->o.p;
}

/* Where a match may stand: anywhere, as a word, as a number. */
enum bound {
	B_NONE,
	B_WORD, /* not inside [A-Za-z0-9-] */
	B_NUM4, /* not inside a longer dotted number */
	B_NUM6, /* not inside a longer run of hex digits and colons */
};

static int
in_run(int c, enum bound b)
{
	switch (b) {
	case B_WORD:
		return isalnum(c) || c == '-';
	case B_NUM4:
		return isdigit(c);
	case B_NUM6:
		return isxdigit(c) || c == ':';
	default:
		return 0;
	}
}

/* Whether the match at s[at .. at + n) stands alone under b. */
static int
bounded(const char *s, size_t at, size_t n, enum bound b)
{
	int before = at > 0 ? (unsigned char)s[at - 1] : 0;
	int after = (unsigned char)s[at + n];

	if (in_run(before, b) || in_run(after, b))
		return 0;
	/* 1.203.0.113.9 and 203.0.113.9.1 are other numbers. */
	if (b == B_NUM4 &&
	    ((before == '.' && at > 1 && isdigit((unsigned char)s[at - 2])) ||
		(after == '.' && isdigit((unsigned char)s[at + n + 1]))))
		return 0;
	return 1;
}

/*
 * Replace every occurrence of from (icase: any letter case) in *s by to,
 * where it stands alone under b.
 */
static void
replace_all(char **s, const char *from, size_t flen, const char *to, int icase,
    enum bound b)
{
	struct splice sp = {{0}, 0, 0};
	size_t i = 0;

	while ((*s)[i] != '\0') {
		if ((icase ? strncasecmp(*s + i, from, flen) :
			     strncmp(*s + i, from, flen)) != 0 ||
		    !bounded(*s, i, flen, b)) {
			i++;
			continue;
		}
		splice(&sp, *s, i, flen, to);
		i += flen;
	}
	splice_finish(&sp, s);
}

static void
replace_addrs(struct rdx *r, char **s, enum rdx_hint hint)
{
	struct splice sp = {{0}, 0, 0};
	size_t pos = 0, start, len;
	char key[INET6_ADDRSTRLEN + 1];
	struct rdx_name *nm;

	while (rdx_next_addr(*s, &pos, &start, &len)) {
		if (canonical(*s + start, len, key, sizeof key) != 0)
			continue;
		nm = name_find(r, key);
		if (nm == NULL && r->mode == RPT_REDACT_ALL)
			nm = name_add(r, key,
			    hint == RDX_RESOLVER ? K_RESOLVER : K_IP, 0);
		if (nm == NULL || (!nm->own && r->mode != RPT_REDACT_ALL))
			continue;
		splice(&sp, *s, start, len, nm->name);
	}
	splice_finish(&sp, s);
}

/* Secrets, then per mode host names, $HOME and addresses. */
static char *
redact(struct rdx *r, const char *text, enum rdx_hint hint)
{
	struct rdx_name *nm;
	char *s;
	size_t i;

	s = xstrdup(text);
	for (i = 0; i < r->nsec; i++)
		replace_all(
		    &s, r->sec[i].s, r->sec[i].len, "(secret)", 1, B_NONE);
	if (r->mode == RPT_REDACT_NONE)
		return s;
	if (hint == RDX_HOST && s[0] != '\0') {
		/* Another host seen in a field: named, but only declared
		 * names are looked for in prose (a run's host field may hold
		 * "localhost" or a word). */
		if ((nm = name_find(r, s)) == NULL)
			nm = name_add(r, s, K_HOST, 0);
		free(s);
		return xstrdup(nm->name);
	}
	if (r->home != NULL)
		replace_all(&s, r->home, strlen(r->home), "~", 0, B_NONE);
	for (i = 0; i < r->nnames; i++)
		if (r->names[i].kind == K_HOST && r->names[i].own)
			replace_all(&s, r->names[i].key,
			    strlen(r->names[i].key), r->names[i].name, 0,
			    B_WORD);
	replace_addrs(r, &s, hint);
	/* The own addresses once more, also where the finder would not take
	 * a literal ("id203.0.113.9", "1.2.3.4x"): a name mangled there is
	 * better than the address leaking. */
	for (i = 0; i < r->nnames; i++)
		if (r->names[i].kind == K_LOCAL || r->names[i].kind == K_PUBLIC)
			replace_all(&s, r->names[i].key,
			    strlen(r->names[i].key), r->names[i].name, 1,
			    strchr(r->names[i].key, ':') ? B_NUM6 : B_NUM4);
	return s;
}

char *
rdx_text(struct rdx *r, const char *text, enum rdx_hint hint)
{
	char *s, *t;

	if (text == NULL)
		return NULL;
	r->frozen = 1;
	/* One line of valid UTF-8 first ("\xNN" for bad bytes), then the
	 * redaction: cleaning after it could write an address next to a
	 * digit of an escape ("\xf2" + "03.0.113.9"). */
	t = rpt_clean_text(text, 1);
	s = redact(r, t, hint);
	free(t);
	return s;
}

size_t
rdx_cut(const char *s, size_t at)
{
	/* Back to the start of the UTF-8 sequence s[at] belongs to. */
	while (at > 0 && ((unsigned char)s[at] & 0xc0) == 0x80)
		at--;
	/* Never end in a cut number: 203.0.113.95 cut to the own address
	 * 203.0.113.9 would bring it back. */
	if (isxdigit((unsigned char)s[at]) || s[at] == '.' || s[at] == ':')
		while (at > 0 &&
		    (isxdigit((unsigned char)s[at - 1]) || s[at - 1] == '.' ||
			s[at - 1] == ':'))
			at--;
	return at;
}

void
rdx_buf(struct rdx *r, char *buf, size_t len, enum rdx_hint hint)
{
	char *s = rdx_text(r, buf, hint);

	if (strlen(s) >= len)
		s[rdx_cut(s, len - 1)] = '\0';
	snprintf(buf, len, "%s", s);
	free(s);
}

void
rdx_json(struct rdx *r, json_t *j)
{
	const char *k;
	json_t *v, *o;
	size_t i;
	char *s;

	if (json_is_string(j)) {
		s = rdx_text(r, json_string_value(j), RDX_TEXT);
		if (json_string_set(j, s) != 0)
			json_string_set(j, "(not UTF-8)");
		free(s);
	} else if (json_is_array(j)) {
		json_array_foreach(j, i, v)
		{
			rdx_json(r, v);
		}
	} else if (json_is_object(j)) {
		/* Keys too: a status is outside input like its values. */
		o = json_object();
		json_object_foreach(j, k, v)
		{
			rdx_json(r, v);
			s = rdx_text(r, k, RDX_TEXT);
			json_object_set(o, s, v);
			free(s);
		}
		json_object_clear(j);
		json_object_update(j, o);
		json_decref(o);
	}
}
