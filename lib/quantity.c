/*
 * quantity.c - exact Kubernetes quantity parsing.
 *
 * The number is kept as a decimal digit string D and a power of ten, so
 * value = D × 10^k.  A binary suffix multiplies D by 2^n by repeated
 * doubling of the digit string, which keeps everything exact without
 * big-integer libraries or floating point; the ceiling is then a matter of
 * dropping the digits after the decimal point and adding one if any of them
 * was not zero.
 */
#include "quantity.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

/* Exponents beyond these cannot change the outcome (overflow or ceil to 1). */
#define EXP_CLAMP 100000

struct suffix {
	const char *s;
	int pow10;
	int pow2;
};

/* Looked up in this order: decimal, then binary, then e/E exponent. */
static const struct suffix decimal_suffixes[] = {
    {"n", -9, 0},
    {"u", -6, 0},
    {"m", -3, 0},
    {"", 0, 0},
    {"k", 3, 0},
    {"M", 6, 0},
    {"G", 9, 0},
    {"T", 12, 0},
    {"P", 15, 0},
    {"E", 18, 0},
};

static const struct suffix binary_suffixes[] = {
    {"Ki", 0, 10},
    {"Mi", 0, 20},
    {"Gi", 0, 30},
    {"Ti", 0, 40},
    {"Pi", 0, 50},
    {"Ei", 0, 60},
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Parse "[eE][+-]?digits" into *exp (clamped); 0 ok, -1 not an exponent. */
static int
parse_exponent(const char *s, long *exp)
{
	long v = 0;
	int neg = 0;

	if (*s != 'e' && *s != 'E')
		return -1;
	s++;
	if (*s == '+' || *s == '-')
		neg = *s++ == '-';
	if (!is_digit(*s))
		return -1;
	for (; is_digit(*s); s++) {
		if (v < EXP_CLAMP)
			v = v * 10 + (*s - '0');
	}
	if (*s != '\0')
		return -1;
	*exp = neg ? -v : v;
	return 0;
}

static int
lookup_suffix(const char *s, long *pow10, int *pow2)
{
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(decimal_suffixes); i++) {
		if (strcmp(s, decimal_suffixes[i].s) == 0) {
			*pow10 = decimal_suffixes[i].pow10;
			*pow2 = 0;
			return 0;
		}
	}
	for (i = 0; i < NAP_ARRAY_LEN(binary_suffixes); i++) {
		if (strcmp(s, binary_suffixes[i].s) == 0) {
			*pow10 = 0;
			*pow2 = binary_suffixes[i].pow2;
			return 0;
		}
	}
	*pow2 = 0;
	return parse_exponent(s, pow10);
}

/* d[0..*n) most significant first; double it in place (room for one more digit). */
static void
digits_double(char *d, size_t *n)
{
	int carry = 0;
	size_t i;

	for (i = *n; i-- > 0;) {
		int v = (d[i] - '0') * 2 + carry;

		d[i] = (char)('0' + v % 10);
		carry = v / 10;
	}
	if (carry) {
		memmove(d + 1, d, *n);
		d[0] = '1';
		(*n)++;
	}
}

static const uint64_t pow10_u64[] = {
    1ULL,
    10ULL,
    100ULL,
    1000ULL,
    10000ULL,
    100000ULL,
    1000000ULL,
    10000000ULL,
    100000000ULL,
    1000000000ULL,
    10000000000ULL,
    100000000000ULL,
    1000000000000ULL,
    10000000000000ULL,
    100000000000000ULL,
    1000000000000000ULL,
    10000000000000000ULL,
    100000000000000000ULL,
    1000000000000000000ULL,
    10000000000000000000ULL,
};

/*
 * The common case in machine integers: d (nd <= 19 digits) × 2^pow2 ×
 * 10^k when every step fits in 64 bits.  Returns -1 to leave the rest to
 * the digit-string path, which is exact for any input.
 */
static int
fast_path(const char *d, size_t nd, int pow2, long k, uint64_t *mag)
{
	uint64_t m = 0, q;
	size_t i;

	if (nd > 19 || pow2 > 63 || k > 19 || k < -19)
		return -1;
	for (i = 0; i < nd; i++)
		m = m * 10 + (uint64_t)(d[i] - '0');
	if (pow2 > 0 && m > (UINT64_MAX >> pow2))
		return -1;
	m <<= pow2;
	if (k >= 0) {
		if (m > UINT64_MAX / pow10_u64[k])
			return -1;
		*mag = m * pow10_u64[k];
		return 0;
	}
	q = m / pow10_u64[-k];
	/* Kubernetes rounds away from zero: 0.1m is 1m, 1.5 bytes is 2. */
	*mag = q + (m % pow10_u64[-k] != 0);
	return 0;
}

/* *out = s × 10^scale, rounded away from zero; both public parsers share it. */
static int
parse(const char *s, int scale, int64_t *out, struct nap_err *err)
{
	const char *p = s, *int_start, *frac_start = NULL, *sfx;
	size_t nint, nfrac = 0, nd, i, keep;
	char stackbuf[128], *d;
	long pow10, k;
	int pow2, neg = 0, rc = -1;
	uint64_t mag = 0;

	if (s == NULL || *s == '\0')
		return nap_err_set(err, NAP_EX_DATAERR, "invalid quantity \"\": empty");
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	int_start = p;
	while (is_digit(*p))
		p++;
	nint = (size_t)(p - int_start);
	if (*p == '.') {
		frac_start = ++p;
		while (is_digit(*p))
			p++;
		nfrac = (size_t)(p - frac_start);
	}
	if (nint + nfrac == 0)
		return nap_err_set(err, NAP_EX_DATAERR, "invalid quantity \"%s\": no digits", s);
	sfx = p;
	if (lookup_suffix(sfx, &pow10, &pow2) < 0)
		return nap_err_set(
		    err, NAP_EX_DATAERR, "invalid quantity \"%s\": unknown suffix \"%s\"", s, sfx);

	/* Room for the digits and the up to 19 digits 2^60 adds. */
	nd = nint + nfrac;
	d = nd + 24 <= sizeof(stackbuf) ? stackbuf : nap_xmalloc(nd + 24);
	memcpy(d, int_start, nint);
	if (nfrac)
		memcpy(d + nint, frac_start, nfrac);
	/* Leading zeros carry no value and would count against the 19-digit limit. */
	for (i = 0; i < nd && d[i] == '0'; i++)
		;
	memmove(d, d + i, nd - i);
	nd -= i;
	if (nd == 0) {
		*out = 0;
		rc = 0;
		goto done;
	}
	k = pow10 + scale - (long)nfrac;
	if (fast_path(d, nd, pow2, k, &mag) == 0)
		goto have_mag;
	while (pow2-- > 0)
		digits_double(d, &nd);

	/* value = d × 10^k; keep the digits before the decimal point. */
	if (k >= 0) {
		if ((long)nd + k > 19)
			goto overflow;
		keep = nd;
	} else {
		keep = (long)nd + k > 0 ? (size_t)((long)nd + k) : 0;
	}
	if (keep > 19)
		goto overflow;
	for (i = 0; i < keep; i++)
		mag = mag * 10 + (uint64_t)(d[i] - '0');
	for (; k > 0; k--)
		mag *= 10;
	for (i = keep; i < nd; i++) {
		if (d[i] != '0') {
			/* Kubernetes rounds away from zero: 0.1m is 1m, 1.5 bytes is 2. */
			mag++;
			break;
		}
	}
have_mag:
	if (mag > (uint64_t)INT64_MAX)
		goto overflow;
	*out = neg ? -(int64_t)mag : (int64_t)mag;
	rc = 0;
	goto done;
overflow:
	nap_err_set(err, NAP_EX_DATAERR, "quantity \"%s\" overflows 64 bits%s", s,
	    scale ? " in milli-units" : "");
done:
	if (d != stackbuf)
		free(d);
	return rc;
}

int
nap_qty_parse_milli(const char *s, int64_t *out, struct nap_err *err)
{
	return parse(s, 3, out, err);
}

int
nap_qty_parse(const char *s, int64_t *out, struct nap_err *err)
{
	return parse(s, 0, out, err);
}

static int
json_qty(json_object *v, int scale, int64_t *out, struct nap_err *err)
{
	switch (json_object_get_type(v)) {
	case json_type_string:
	case json_type_int:
	case json_type_double:
		/* json-c keeps a number's source text, so doubles stay exact. */
		return parse(json_object_get_string(v), scale, out, err);
	default:
		return nap_err_set(err, NAP_EX_DATAERR,
		    "invalid quantity: a %s, not a string or number",
		    json_type_to_name(json_object_get_type(v)));
	}
}

int
nap_qty_json_milli(json_object *v, int64_t *out, struct nap_err *err)
{
	return json_qty(v, 3, out, err);
}

int
nap_qty_json(json_object *v, int64_t *out, struct nap_err *err)
{
	return json_qty(v, 0, out, err);
}

/* |v| without the INT64_MIN trap. */
static uint64_t
magnitude(int64_t v)
{
	return v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
}

static char *
fmt_scaled(uint64_t mag, int neg, unsigned base, const char *const *names, size_t nnames, char *buf,
    size_t len)
{
	size_t i = 0;

	while (mag != 0 && i + 1 < nnames && mag % base == 0 && mag / base != 0) {
		mag /= base;
		i++;
	}
	snprintf(buf, len, "%s%" PRIu64 "%s", neg ? "-" : "", mag, names[i]);
	return buf;
}

static const char *const decimal_names[] = {"", "k", "M", "G", "T", "P", "E"};
static const char *const binary_names[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};

char *
nap_qty_fmt_decimal(int64_t v, char *buf, size_t len)
{
	return fmt_scaled(
	    magnitude(v), v < 0, 1000, decimal_names, NAP_ARRAY_LEN(decimal_names), buf, len);
}

char *
nap_qty_fmt(int64_t v, char *buf, size_t len)
{
	uint64_t mag = magnitude(v);

	if (mag >= 1024 && mag % 1024 == 0)
		return fmt_scaled(
		    mag, v < 0, 1024, binary_names, NAP_ARRAY_LEN(binary_names), buf, len);
	return nap_qty_fmt_decimal(v, buf, len);
}

char *
nap_qty_fmt_milli(int64_t milli, char *buf, size_t len)
{
	uint64_t mag = magnitude(milli);

	if (mag % 1000 != 0) {
		snprintf(buf, len, "%s%" PRIu64 "m", milli < 0 ? "-" : "", mag);
		return buf;
	}
	return fmt_scaled(
	    mag / 1000, milli < 0, 1000, decimal_names, NAP_ARRAY_LEN(decimal_names), buf, len);
}
