/*
 * image.c - image definitions, versions and status.images
 * (image.h), from the provider's tables (azure-provider.md §5.1).
 */
#include "image.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "wellknown.h"

#define CIG_UBUNTU "AKSUbuntu-38d80f77-467a-481f-a8d4-09b6d4220bd2"
#define CIG_AZURELINUX "AKSAzureLinux-f7c7cda5-1c9a-4bdc-a222-9614c968580b"


#define A64 "arm64"
#define X64 "amd64"

/* Per family: plain, FIPS, trusted launch, FIPS + trusted launch. */
static const struct nap_image_def u2204[] = {
    {"2204gen2containerd", X64, 2}, {"2204containerd", X64, 1}, {"2204gen2arm64containerd", A64, 2}};
static const struct nap_image_def u2204_tl[] = {{"2204gen2TLcontainerd", X64, 2}};
static const struct nap_image_def u2204_fips_tl[] = {{"2204gen2fipsTLcontainerd", X64, 2}};
static const struct nap_image_def u2404[] = {
    {"2404gen2containerd", X64, 2}, {"2404containerd", X64, 1}, {"2404gen2arm64containerd", A64, 2}};
static const struct nap_image_def u2404_tl[] = {{"2404gen2TLcontainerd", X64, 2}};
static const struct nap_image_def u2004_fips[] = {
    {"2004gen2fipscontainerd", X64, 2}, {"2004fipscontainerd", X64, 1}};
static const struct nap_image_def al2[] = {{"V2gen2", X64, 2}, {"V2", X64, 1}, {"V2gen2arm64", A64, 2}};
static const struct nap_image_def al2_fips[] = {{"V2gen2fips", X64, 2}, {"V2fips", X64, 1}};
static const struct nap_image_def al2_tl[] = {{"V2gen2TL", X64, 2}};
static const struct nap_image_def al3[] = {{"V3gen2", X64, 2}, {"V3", X64, 1}, {"V3gen2arm64", A64, 2}};
static const struct nap_image_def al3_fips[] = {
    {"V3gen2fips", X64, 2}, {"V3fips", X64, 1}, {"V3gen2arm64fips", A64, 2}};
static const struct nap_image_def al3_tl[] = {{"V3gen2TL", X64, 2}};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct family {
	const char *name;
	const struct nap_image_def *defs[4]; /* plain, fips, tl, fips+tl */
	size_t n[4];
} families[] = {
    {"Ubuntu2204", {u2204, NULL, u2204_tl, u2204_fips_tl}, {N(u2204), 0, N(u2204_tl), N(u2204_fips_tl)}},
    {"Ubuntu2404", {u2404, NULL, u2404_tl, NULL}, {N(u2404), 0, N(u2404_tl), 0}},
    {"Ubuntu2004", {NULL, u2004_fips, NULL, NULL}, {0, N(u2004_fips), 0, 0}},
    {"AzureLinux", {al2, al2_fips, al2_tl, NULL}, {N(al2), N(al2_fips), N(al2_tl), 0}},
    {"AzureLinux3", {al3, al3_fips, al3_tl, NULL}, {N(al3), N(al3_fips), N(al3_tl), 0}},
};

const struct nap_image_def *
nap_image_defs(const char *family, int fips, int trusted_launch, size_t *n)
{
	int v = (fips ? 1 : 0) + (trusted_launch ? 2 : 0);

	for (size_t i = 0; i < N(families); i++)
		if (strcmp(families[i].name, family) == 0) {
			*n = families[i].n[v];
			return families[i].defs[v];
		}
	*n = 0;
	return NULL;
}

const char *
nap_image_gallery(const char *family)
{
	return strncmp(family, "AzureLinux", 10) == 0 ? CIG_AZURELINUX : CIG_UBUNTU;
}

char *
nap_image_id(const char *family, const char *def, const char *version)
{
	return nap_xasprintf("/CommunityGalleries/%s/images/%s/versions/%s",
	    nap_image_gallery(family), def, version);
}

char *
nap_image_sig_id(const char *family, const char *def, const char *version, const char *sig_sub)
{
	const char *name = strncmp(family, "AzureLinux", 10) == 0 ? "AKSAzureLinux" : "AKSUbuntu";

	if (sig_sub == NULL || *sig_sub == '\0')
		return nap_image_id(family, def, version);
	/* The resource group is the gallery's name with a dash: AKS-Ubuntu, AKS-AzureLinux. */
	return nap_xasprintf("/subscriptions/%s/resourceGroups/AKS-%s/providers/Microsoft.Compute/"
			     "galleries/%s/images/%s/versions/%s",
	    sig_sub, name + 3, name, def, version);
}

const char *
nap_image_sig_os(const char *def)
{
	return def[0] == 'V' ? "AKSAzureLinux" : "AKSUbuntu";
}

int
nap_image_id_parse(const char *id, char **def, char **version)
{
	const char *img = id ? strstr(id, "/images/") : NULL, *ver;

	if (img == NULL)
		return -1;
	img += strlen("/images/");
	ver = strstr(img, "/versions/");
	if (ver == NULL || ver == img || ver[strlen("/versions/")] == '\0' ||
	    strchr(ver + strlen("/versions/"), '/'))
		return -1;
	*def = nap_xstrndup(img, (size_t)(ver - img));
	*version = nap_xstrdup(ver + strlen("/versions/"));
	return 0;
}

/* Whether the rest of a version is only zero parts (".0.0"). */
static int
rest_zero(const char *s)
{
	for (; *s; s++)
		if (*s != '.' && *s != '0')
			return 0;
	return 1;
}

int
nap_version_cmp(const char *a, const char *b)
{
	for (;;) {
		unsigned long long x = 0, y = 0;

		while (isdigit((unsigned char)*a))
			x = x * 10 + (unsigned long long)(*a++ - '0');
		while (isdigit((unsigned char)*b))
			y = y * 10 + (unsigned long long)(*b++ - '0');
		if (x != y)
			return x < y ? -1 : 1;
		if (*a == '.' && *b == '.') {
			a++;
			b++;
			continue;
		}
		/* A missing part counts as 0: "1.33" == "1.33.0". */
		if (*a == '\0')
			return rest_zero(b) ? 0 : -1;
		if (*b == '\0')
			return rest_zero(a) ? 0 : 1;
		/* A suffix that is not a number ("-rc1"): as strings. */
		return strcmp(a, b);
	}
}

const char *
nap_image_latest(json_object *list)
{
	json_object *items = nap_json_key(list, "value");
	const char *best = NULL, *best_date = NULL;
	size_t n = items && json_object_is_type(items, json_type_array) ?
	    json_object_array_length(items) :
	    0;

	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(items, i);
		const char *name = nap_json_str(it, "name", NULL);
		const char *date = nap_json_str(it, "properties.publishedDate", "");
		int c;

		if (name == NULL || *name == '\0')
			continue;
		/* RFC 3339 times of one form compare as strings. */
		c = best ? strcmp(date, best_date) : 1;
		if (c > 0 || (c == 0 && nap_version_cmp(name, best) > 0)) {
			best = name;
			best_date = date;
		}
	}
	return best;
}

const char *
nap_image_sig_latest(json_object *list, const char *def)
{
	json_object *items = nap_json_key(list, "value");
	const char *os = nap_image_sig_os(def), *best = NULL;
	size_t n = items && json_object_is_type(items, json_type_array) ?
	    json_object_array_length(items) :
	    0;

	for (size_t i = 0; i < n; i++) {
		json_object *it = json_object_array_get_idx(items, i);
		const char *v = nap_json_str(it, "version", "");

		if (strcmp(nap_json_str(it, "os", ""), os) != 0 ||
		    strcmp(nap_json_str(it, "sku", ""), def) != 0 || *v == '\0')
			continue;
		if (best == NULL || nap_version_cmp(v, best) > 0)
			best = v;
	}
	return best;
}

/* {key, operator In, values [v]} */
static json_object *
req(const char *key, const char *v)
{
	json_object *r = json_object_new_object(), *vals = json_object_new_array();

	json_object_object_add(r, "key", json_object_new_string(key));
	json_object_object_add(r, "operator", json_object_new_string("In"));
	json_object_array_add(vals, json_object_new_string(v));
	json_object_object_add(r, "values", vals);
	return r;
}

/* The version of def in the class's current status.images, borrowed, or NULL. */
static char *
current_version(const struct nap_nodeclass *c, const char *def)
{
	for (size_t i = 0; i < c->nimages; i++) {
		char *d, *v;

		if (nap_image_id_parse(c->images[i].id, &d, &v) != 0)
			continue;
		if (strcmp(d, def) == 0) {
			free(d);
			return v;
		}
		free(d);
		free(v);
	}
	return NULL;
}

json_object *
nap_image_status(const struct nap_nodeclass *c, const char *family, int full,
    const char *sig_sub, const char *(*latest)(void *arg, const char *def), void *arg)
{
	json_object *out = json_object_new_array();
	size_t n;
	const struct nap_image_def *defs = nap_image_defs(family, c->fips, c->trusted_launch, &n);

	for (size_t i = 0; i < n; i++) {
		char *keep = full ? NULL : current_version(c, defs[i].name), *id, gen[2];
		const char *v = keep ? keep : latest(arg, defs[i].name);
		json_object *img, *reqs;

		if (v == NULL)
			continue;
		id = nap_image_sig_id(family, defs[i].name, v, sig_sub);
		img = json_object_new_object();
		json_object_object_add(img, "id", json_object_new_string(id));
		reqs = json_object_new_array();
		json_object_array_add(reqs, req(NAP_LABEL_ARCH, defs[i].arch));
		gen[0] = (char)('0' + defs[i].gen);
		gen[1] = '\0';
		json_object_array_add(reqs, req(NAP_LABEL_SKU_HYPERV_GENERATION, gen));
		json_object_object_add(img, "requirements", reqs);
		json_object_array_add(out, img);
		free(id);
		free(keep);
	}
	return out;
}
