/*
 * text.h - strings from untrusted input, checked or made safe once, at the
 * edge: UTF-8 validity (records are UTF-8: nap-records(5)), a printable
 * rendering for messages, Kubernetes object names, and URL path segments
 * for the Kubernetes and ARM clients.
 *
 * Nothing here prints or exits; returned strings are malloc'd and owned by
 * the caller.
 */
#ifndef NAP_TEXT_H
#define NAP_TEXT_H

#include <stddef.h>

/*
 * The length of the longest valid UTF-8 prefix of s[0, len): len when all
 * of it is valid.  Valid as RFC 3629 has it: no overlong forms, no UTF-16
 * surrogates (U+D800..U+DFFF), nothing above U+10FFFF, no stray
 * continuation bytes, no sequence cut short.
 */
size_t nap_utf8_valid(const char *s, size_t len);

/*
 * s made safe to show in a one-line message: valid UTF-8 and printable
 * ASCII kept, '"' and '\\' escaped, \n \r \t as such, other control bytes
 * and bytes of invalid UTF-8 as \xNN.  At most max bytes of s are shown,
 * then "..." (max 0: all of it).  Without surrounding quotes.
 */
char *nap_text_quote(const char *s, size_t max);

/*
 * Whether name is a valid Kubernetes object name: a DNS-1123 subdomain
 * (at most 253 characters of [a-z0-9.-], each dot-separated part starting
 * and ending with [a-z0-9]) or, with label set, a DNS-1123 label (at most
 * 63 of [a-z0-9-], no dots: namespaces).  0, or -1 with why set to the
 * API server's wording ("a lowercase RFC 1123 subdomain must consist
 * of ...", "must be no more than 253 characters").
 */
int nap_k8s_name_check(const char *name, int label, const char **why);

/*
 * base followed by "/" and each segment percent-encoded (every byte but
 * RFC 3986's unreserved ones, and "." or ".." whole, so no segment can add
 * a level, a query or a fragment, or climb one): the path of a Kubernetes
 * or ARM request.  The segments end at the first NULL.
 */
char *nap_url_path(const char *base, ...);

/*
 * Where path (with its query) stops being something a URL carries as it is
 * (a space, a control byte, '#', a byte above 0x7f, a '%' not followed by
 * two hex digits ...): strlen(path) when it never does.  The clients check
 * every path with it, so a name pasted in unescaped is refused as bad
 * input instead of failing as an unreachable endpoint.
 */
size_t nap_url_path_check(const char *path);

#endif
