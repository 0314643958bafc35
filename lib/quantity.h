/*
 * quantity.h - Kubernetes resource quantities ("100m", "1.5Gi", "1e3") to
 * exact integers and back.
 *
 * The grammar is the API server's: an optional sign, digits with an optional
 * fraction ("1", "1.5", "1.", ".5"), then one suffix: decimal SI (n u m k M
 * G T P E), binary SI (Ki Mi Gi Ti Pi Ei) or a decimal exponent (e or E and
 * a signed integer).  Lookup order is decimal, binary, exponent, so "1E" is
 * 10^18 and "1E3" is 1000.  "1K" and "1ki" are invalid, as upstream.
 * Arithmetic is exact (no floating point); a value that is not a whole
 * number of the requested unit rounds away from zero ("rounds up", as
 * Quantity.MilliValue and Value do: 0.1m → 1m, -1.5 → -2).  A magnitude
 * above 2^63-1 in the requested unit is an error, not capped.
 *
 * Errors: parsers return 0 and store the result, or return -1, leave *out
 * untouched and fill err (code NAP_EX_DATAERR) with a message naming the
 * string, e.g. `invalid quantity "1ki": unknown suffix "ki"` or
 * `quantity "8Ei" overflows 64 bits`.
 * Formatters write into the caller's buffer (NAP_QTY_BUFSZ is always enough)
 * and return it.
 */
#ifndef NAP_QUANTITY_H
#define NAP_QUANTITY_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "nap.h"

#define NAP_QTY_BUFSZ 32

/* s × 1000, rounded up: CPU in millicores ("100m" → 100, "0.1m" → 1). */
int nap_qty_parse_milli(const char *s, int64_t *out, struct nap_err *err);
/* s in whole units, rounded up: bytes, counts ("1.5" → 2, "1Ki" → 1024). */
int nap_qty_parse(const char *s, int64_t *out, struct nap_err *err);

/*
 * A quantity as it appears in JSON: a string, or a bare number ("cpu": 1,
 * "cpu": 0.5), which is parsed from its source text so it stays exact.
 */
int nap_qty_json_milli(json_object *v, int64_t *out, struct nap_err *err);
int nap_qty_json(json_object *v, int64_t *out, struct nap_err *err);

/* Canonical milli form: "100m", "2", "1500m", "0". */
char *nap_qty_fmt_milli(int64_t milli, char *buf, size_t len);
/*
 * Canonical whole-unit form, exact: the largest binary suffix that divides
 * v when v >= 1024 and some binary suffix does ("16Gi", "1536Mi"), else the
 * largest decimal one that does ("1k", "100"), as the API server prints.
 */
char *nap_qty_fmt(int64_t v, char *buf, size_t len);
/* Decimal-family form only ("1G", "1500", "12k"): for counts. */
char *nap_qty_fmt_decimal(int64_t v, char *buf, size_t len);

#endif
