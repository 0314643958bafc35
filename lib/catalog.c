/*
 * catalog.c - load one region of data/catalog.tsv into instance types.
 *
 * The whole file is read into one buffer and split in place (tabs and
 * newlines become NULs), so loading does one allocation per array, not per
 * field: the solver loads a region on every run and the budget is a few
 * milliseconds.  Once the region is loaded, the strings it keeps move to
 * one small block and the file's text is freed.
 */
#include "catalog.h"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "json.h"
#include "model.h"
#include "wellknown.h"

#ifndef NAP_DATADIR
#define NAP_DATADIR "/usr/local/share/nap"
#endif

#define CATALOG_MAGIC "# nap Azure VM-size catalog, format 1"
#define CATALOG_MAX_BYTES (256L * 1024 * 1024)

enum {
	S_TAG,
	S_NAME,
	S_VCPUS,
	S_MEMORY,
	S_GPUS,
	S_GPU_MFR,
	S_GPU_NAME,
	S_GPU_OS,
	S_ARCH,
	S_FAMILY,
	S_SERIES,
	S_VERSION,
	S_QUOTA,
	S_HYPERV,
	S_CAPS,
	S_PREMIUM,
	S_ACCEL,
	S_EPH_GB,
	S_EPH_PLACE,
	S_SPOT,
	S_ENC,
	S_TLDIS,
	S_KNOWN,
	S_EXCLUDED,
	S_NFIELDS
};

struct size_row {
	struct nap_itype it;
	const char *excluded; /* NULL when offered wherever it has a price */
};

struct price_row {
	size_t size;		/* index into sizes */
	double on_demand, spot; /* spot < 0: none */
	unsigned zones;		/* bit n = zone n */
};

struct xrow {
	const char *name, *reason;
};

struct nap_catalog_priv {
	char *buf;
	struct size_row *sizes;
	size_t nsizes;
	struct xrow *located; /* sizes excluded in this region only (X lines) */
	size_t nlocated;
	struct nap_offering *offs;
	char zone_label[NAP_CATALOG_MAX_ZONES + 1][80];
};

static char *
catalog_path(const char *path)
{
	struct stat st;

	if (path == NULL || *path == '\0') {
		/*
		 * Next to the executable first, so an install under any PREFIX
		 * (bin/ beside share/nap/) and the source tree (bin/ beside data/)
		 * find their own catalog whatever DATADIR the build was given.
		 */
		static const char *const rel[] = {
		    "/../share/nap/catalog.tsv", "/../data/catalog.tsv"};
		char exe[4096];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		size_t i;

		if (n > 0) {
			char *slash;

			exe[n] = '\0';
			slash = strrchr(exe, '/');
			if (slash != NULL) {
				*slash = '\0';
				for (i = 0; i < NAP_ARRAY_LEN(rel); i++) {
					char *p = nap_xasprintf("%s%s", exe, rel[i]);

					if (access(p, R_OK) == 0)
						return p;
					free(p);
				}
			}
		}
		if (access(NAP_DATADIR "/catalog.tsv", R_OK) == 0)
			return nap_xstrdup(NAP_DATADIR "/catalog.tsv");
		return nap_xstrdup("data/catalog.tsv");
	}
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return nap_xasprintf("%s/catalog.tsv", path);
	return nap_xstrdup(path);
}

/* Read path whole, NUL-terminated; *len excludes the NUL. */
static char *
slurp(const char *path, size_t *len, struct nap_err *err)
{
	struct stat st;
	char *buf;
	size_t n = 0, alloc;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		nap_err_set(err, NAP_EX_CONFIG, "open catalog %s: %s", path, strerror(errno));
		return NULL;
	}
	alloc = 1 << 16;
	/* room for the NUL and for the read that sees the end: no doubling for it */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
		alloc = (size_t)st.st_size + 2;
	buf = nap_xmalloc(alloc);
	for (;;) {
		if (n + 1 >= alloc) {
			if (alloc >= (size_t)CATALOG_MAX_BYTES) {
				nap_err_set(err, NAP_EX_DATAERR,
				    "catalog %s: larger than %ld bytes", path, CATALOG_MAX_BYTES);
				goto fail;
			}
			alloc *= 2;
			buf = nap_xrealloc(buf, alloc);
		}
		r = read(fd, buf + n, alloc - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			nap_err_set(
			    err, NAP_EX_IOERR, "read catalog %s: %s", path, strerror(errno));
			goto fail;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*len = n;
	return buf;
fail:
	close(fd);
	free(buf);
	return NULL;
}

/* Split line at tabs in place; returns the number of fields (at most max). */
static int
split(char *line, char **f, int max)
{
	int n = 0;
	char *p = line, *t;

	while (n < max) {
		f[n++] = p;
		t = strchr(p, '\t');
		if (t == NULL)
			return n;
		*t = '\0';
		p = t + 1;
	}
	return n + 1; /* more fields than max */
}

static int
num(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static int
price(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= 0.0) || v > 1e9)
		return -1;
	*out = v;
	return 0;
}

/* "1", "0" or "-" (unknown). */
static int
tri(const char *s, int *out)
{
	if (strcmp(s, "1") == 0)
		*out = 1;
	else if (strcmp(s, "0") == 0)
		*out = 0;
	else if (strcmp(s, "-") == 0)
		*out = -1;
	else
		return -1;
	return 0;
}

static const char *
str(const char *s)
{
	return strcmp(s, "-") == 0 ? "" : s;
}

/* "123" → zone bits; "-" → none. */
static int
zone_bits(const char *s, unsigned *out)
{
	unsigned z = 0;

	if (strcmp(s, "-") == 0) {
		*out = 0;
		return 0;
	}
	for (; *s; s++) {
		if (*s < '1' || *s > '0' + NAP_CATALOG_MAX_ZONES)
			return -1;
		z |= 1u << (*s - '0');
	}
	*out = z;
	return 0;
}

static int
parse_size(char **f, struct size_row *row)
{
	struct nap_itype *it = &row->it;
	long v;
	const char *p;

	memset(row, 0, sizeof(*row));
	it->name = f[S_NAME];
	if (num(f[S_VCPUS], 1, 100000, &v) < 0)
		return -1;
	it->vcpus = (int)v;
	if (num(f[S_MEMORY], 1, 1L << 40, &v) < 0)
		return -1;
	it->memory_mib = v;
	if (num(f[S_GPUS], 0, 1024, &v) < 0)
		return -1;
	it->gpus = (int)v;
	it->gpu_manufacturer = str(f[S_GPU_MFR]);
	it->gpu_name = str(f[S_GPU_NAME]);
	for (p = str(f[S_GPU_OS]); *p; p++) {
		switch (*p) {
		case 'u':
			it->gpu_os |= NAP_GPU_OS_UBUNTU;
			break;
		case 'a':
			it->gpu_os |= NAP_GPU_OS_AZURELINUX;
			break;
		case '3':
			it->gpu_os |= NAP_GPU_OS_AZURELINUX3;
			break;
		case 'w':
			it->gpu_os |= NAP_GPU_OS_WINDOWS;
			break;
		default:
			return -1;
		}
	}
	it->arch = f[S_ARCH];
	if (strcmp(it->arch, "amd64") != 0 && strcmp(it->arch, "arm64") != 0)
		return -1;
	it->family = f[S_FAMILY];
	it->series = f[S_SERIES];
	it->version = f[S_VERSION];
	it->quota_family = str(f[S_QUOTA]);
	for (p = f[S_HYPERV]; *p; p++) {
		if (*p == '1')
			it->hyperv |= NAP_HYPERV_V1;
		else if (*p == '2')
			it->hyperv |= NAP_HYPERV_V2;
		else
			return -1;
	}
	if (strcmp(f[S_CAPS], "sku") == 0)
		it->caps_known = 1;
	else if (strcmp(f[S_CAPS], "name") != 0)
		return -1;
	if (tri(f[S_PREMIUM], &it->premium_io) < 0 || tri(f[S_ACCEL], &it->accel_net) < 0)
		return -1;
	if (num(f[S_EPH_GB], 0, 1L << 30, &v) < 0)
		return -1;
	it->ephemeral_os_max_gb = (int)v;
	it->ephemeral_placement = str(f[S_EPH_PLACE]);
	if (tri(f[S_SPOT], &it->spot_capable) < 0 || tri(f[S_ENC], &it->encryption_at_host) < 0 ||
	    tri(f[S_TLDIS], &it->trusted_launch_disabled) < 0 || tri(f[S_KNOWN], &it->known) < 0)
		return -1;
	row->excluded = strcmp(f[S_EXCLUDED], "-") == 0 ? NULL : f[S_EXCLUDED];
	it->spot_price = -1;
	return 0;
}

static int
cmp_size(const void *a, const void *b)
{
	return strcmp(((const struct size_row *)a)->it.name, ((const struct size_row *)b)->it.name);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_xrow(const void *a, const void *b)
{
	return strcmp(((const struct xrow *)a)->name, ((const struct xrow *)b)->name);
}

static int
cmp_type(const void *a, const void *b)
{
	return strcmp(((const struct nap_itype *)a)->name, ((const struct nap_itype *)b)->name);
}

static int
cmp_price_row(const void *a, const void *b)
{
	const struct price_row *x = a, *y = b;

	return (x->size > y->size) - (x->size < y->size);
}

static struct size_row *
find_size(const struct nap_catalog_priv *p, const char *name)
{
	struct size_row key;

	key.it.name = name;
	if (p->nsizes == 0)
		return NULL;
	return bsearch(&key, p->sizes, p->nsizes, sizeof(*p->sizes), cmp_size);
}

/* Merge the operator's spot prices for c->region into rows. */
static int
merge_spot(struct nap_catalog *c, struct price_row *rows, size_t nrows, const char *file,
    struct nap_err *err)
{
	json_object *root, *reg;
	struct json_object_iterator it, end;
	struct size_row *s;
	struct price_row key, *r;
	double v;

	if (access(file, R_OK) < 0)
		return nap_err_set(
		    err, NAP_EX_CONFIG, "open spot prices %s: %s", file, strerror(errno));
	root = json_object_from_file(file);
	if (root == NULL || !json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return nap_err_set(err, NAP_EX_DATAERR,
		    "spot prices %s: not a JSON object {\"<region>\": {\"<size>\": price}}", file);
	}
	if (!json_object_object_get_ex(root, c->region, &reg)) {
		json_object_put(root);
		return 0;
	}
	if (!json_object_is_type(reg, json_type_object)) {
		json_object_put(root);
		return nap_err_set(
		    err, NAP_EX_DATAERR, "spot prices %s: %s: not an object", file, c->region);
	}
	it = json_object_iter_begin(reg);
	end = json_object_iter_end(reg);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);
		json_object *val = json_object_iter_peek_value(&it);

		if (!json_object_is_type(val, json_type_double) &&
		    !json_object_is_type(val, json_type_int)) {
			nap_err_set(err, NAP_EX_DATAERR, "spot prices %s: %s: %s: not a number",
			    file, c->region, name);
			json_object_put(root);
			return -1;
		}
		v = json_object_get_double(val);
		if (!(v >= 0.0) || v > 1e9) {
			nap_err_set(err, NAP_EX_DATAERR,
			    "spot prices %s: %s: %s: price out of range", file, c->region, name);
			json_object_put(root);
			return -1;
		}
		s = find_size(c->priv, name);
		if (s == NULL || s->it.spot_capable == 0)
			continue;
		key.size = (size_t)(s - c->priv->sizes);
		r = nrows ? bsearch(&key, rows, nrows, sizeof(*rows), cmp_price_row) : NULL;
		if (r != NULL)
			r->spot = v;
	}
	json_object_put(root);
	return 0;
}

static void
add_offerings(
    struct nap_catalog *c, struct nap_itype *it, unsigned zones, struct nap_offering **next)
{
	struct nap_offering *o = *next;
	int spot, z;
	double p;

	it->off = o;
	for (spot = 0; spot <= 1; spot++) {
		if (spot && it->spot_price < 0)
			break;
		p = spot ? it->spot_price : it->on_demand_price;
		if (!it->known)
			p = NAP_CATALOG_MISSING_PRICE;
		/* zonal before regional, as the provider's allocation ranks them */
		for (z = 1; z <= NAP_CATALOG_MAX_ZONES + 1; z++) {
			int zone = z == NAP_CATALOG_MAX_ZONES + 1 ? 0 : z;

			if (zone != 0 && !(zones & (1u << zone)))
				continue;
			o->zone = zone;
			o->spot = spot;
			o->price = p;
			o->available = 1;
			o->zone_label = c->priv->zone_label[zone];
			o->capacity_type = spot ? "spot" : "on-demand";
			o++;
		}
	}
	it->noff = (size_t)(o - it->off);
	*next = o;
}

static size_t
zone_count(unsigned zones)
{
	size_t n = 0;

	for (; zones; zones &= zones - 1)
		n++;
	return n;
}

static int
bad_line(struct nap_err *err, const char *path, unsigned long lineno, const char *what)
{
	return nap_err_set(err, NAP_EX_DATAERR, "catalog %s: line %lu: %s", path, lineno, what);
}

/*
 * One pass over the file: every S line (sizes are global), and the Z, P and
 * X lines of region.  With region NULL only Z lines are collected (regions).
 */
struct scan {
	const char *region;
	struct size_row *sizes;
	size_t nsizes, asizes;
	struct price_row *prices;
	size_t nprices, aprices;
	char **rownames; /* P names, resolved after all S lines are in */
	size_t arownames;
	struct xrow *located;
	size_t nlocated, alocated;
	char **zlines; /* Z: region names; zone strings in zzones */
	char **zzones;
	size_t nz, az, azz;
};

static int
scan_file(char *buf, size_t len, const char *path, struct scan *s, struct nap_err *err)
{
	char *p = buf, *end = buf + len, *nl, *f[S_NFIELDS + 1];
	unsigned long lineno = 0;
	size_t rlen = s->region ? strlen(s->region) : 0;

	if (strncmp(buf, CATALOG_MAGIC, strlen(CATALOG_MAGIC)) != 0)
		return nap_err_set(
		    err, NAP_EX_DATAERR, "catalog %s: not a nap catalog (format 1) file", path);
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		*nl = '\0';
		lineno++;
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		if (*p == '#' || *p == '\0')
			continue;
		if (p[0] == 'S' && p[1] == '\t') {
			if (s->region == NULL)
				continue;
			if (split(p, f, S_NFIELDS) != S_NFIELDS)
				return bad_line(err, path, lineno, "size line needs 24 fields");
			nap_xgrow(&s->sizes, &s->asizes, s->nsizes + 1, sizeof(*s->sizes));
			if (parse_size(f, &s->sizes[s->nsizes]) < 0)
				return bad_line(err, path, lineno, "malformed size line");
			s->nsizes++;
		} else if (p[0] == 'Z' && p[1] == '\t') {
			if (split(p, f, 3) != 3)
				return bad_line(err, path, lineno, "zone line needs 3 fields");
			nap_xgrow(&s->zlines, &s->az, s->nz + 1, sizeof(char *));
			nap_xgrow(&s->zzones, &s->azz, s->nz + 1, sizeof(char *));
			s->zlines[s->nz] = f[1];
			s->zzones[s->nz++] = f[2];
		} else if (p[0] == 'P' && p[1] == '\t') {
			struct price_row *r;

			if (s->region == NULL || strncmp(p + 2, s->region, rlen) != 0 ||
			    p[2 + rlen] != '\t')
				continue;
			if (split(p, f, 6) != 6)
				return bad_line(err, path, lineno, "price line needs 6 fields");
			nap_xgrow(&s->prices, &s->aprices, s->nprices + 1, sizeof(*s->prices));
			nap_xgrow(&s->rownames, &s->arownames, s->nprices + 1, sizeof(char *));
			r = &s->prices[s->nprices];
			s->rownames[s->nprices] = f[2];
			r->spot = -1;
			if (price(f[3], &r->on_demand) < 0 ||
			    (strcmp(f[4], "-") != 0 && price(f[4], &r->spot) < 0))
				return bad_line(err, path, lineno, "malformed price");
			if (zone_bits(f[5], &r->zones) < 0)
				return bad_line(err, path, lineno, "malformed zones");
			s->nprices++;
		} else if (p[0] == 'X' && p[1] == '\t') {
			if (s->region == NULL || strncmp(p + 2, s->region, rlen) != 0 ||
			    p[2 + rlen] != '\t')
				continue;
			if (split(p, f, 4) != 4)
				return bad_line(err, path, lineno, "exclusion line needs 4 fields");
			nap_xgrow(&s->located, &s->alocated, s->nlocated + 1, sizeof(*s->located));
			s->located[s->nlocated].name = f[2];
			s->located[s->nlocated++].reason = f[3];
		} else {
			return bad_line(err, path, lineno, "unknown line type");
		}
	}
	return 0;
}

static void
scan_free(struct scan *s)
{
	free(s->sizes);
	free(s->prices);
	free(s->rownames);
	free(s->located);
	free(s->zlines);
	free(s->zzones);
}

static int
is_sorted(const void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	const char *b = base;
	size_t i;

	for (i = 1; i < n; i++)
		if (cmp(b + (i - 1) * size, b + i * size) > 0)
			return 0;
	return 1;
}

static size_t
itype_strlen(const struct nap_itype *it)
{
	const char *f[] = {it->name, it->gpu_name, it->gpu_manufacturer, it->arch, it->family,
	    it->series, it->version, it->quota_family, it->ephemeral_placement};
	size_t i, n = 0;

	for (i = 0; i < NAP_ARRAY_LEN(f); i++)
		n += strlen(f[i]) + 1;
	return n;
}

static const char *
arena_dup(char **arena, const char *s)
{
	size_t n = strlen(s) + 1;
	char *p = *arena;

	memcpy(p, s, n);
	*arena += n;
	return p;
}

static void
itype_move(struct nap_itype *it, char **arena)
{
	it->name = arena_dup(arena, it->name);
	it->gpu_name = arena_dup(arena, it->gpu_name);
	it->gpu_manufacturer = arena_dup(arena, it->gpu_manufacturer);
	it->arch = arena_dup(arena, it->arch);
	it->family = arena_dup(arena, it->family);
	it->series = arena_dup(arena, it->series);
	it->version = arena_dup(arena, it->version);
	it->quota_family = arena_dup(arena, it->quota_family);
	it->ephemeral_placement = arena_dup(arena, it->ephemeral_placement);
}

/*
 * Copy the strings the catalog keeps (every size's, the region's instance
 * types' and exclusions) out of the file's text and free the text: they are
 * some 200 KB of a 2 MB file whose price lines for other regions nobody
 * reads again.
 */
static void
compact(struct nap_catalog *c)
{
	struct nap_catalog_priv *pv = c->priv;
	size_t need = 0, i;
	char *arena, *next;

	for (i = 0; i < pv->nsizes; i++) {
		need += itype_strlen(&pv->sizes[i].it);
		if (pv->sizes[i].excluded)
			need += strlen(pv->sizes[i].excluded) + 1;
	}
	for (i = 0; i < pv->nlocated; i++)
		need += strlen(pv->located[i].name) + strlen(pv->located[i].reason) + 2;
	for (i = 0; i < c->ntypes; i++)
		need += itype_strlen(&c->types[i]);
	arena = next = nap_xmalloc(need + 1);
	for (i = 0; i < pv->nsizes; i++) {
		itype_move(&pv->sizes[i].it, &next);
		if (pv->sizes[i].excluded)
			pv->sizes[i].excluded = arena_dup(&next, pv->sizes[i].excluded);
	}
	for (i = 0; i < pv->nlocated; i++) {
		pv->located[i].name = arena_dup(&next, pv->located[i].name);
		pv->located[i].reason = arena_dup(&next, pv->located[i].reason);
	}
	for (i = 0; i < c->ntypes; i++)
		itype_move(&c->types[i], &next);
	free(pv->buf);
	pv->buf = arena;
}

int
nap_catalog_load(struct nap_catalog **out, const char *path, const char *region,
    const char *spot_prices_file, struct nap_err *err)
{
	struct nap_catalog *c;
	struct nap_catalog_priv *pv;
	struct scan s;
	struct nap_offering *next;
	size_t len, i, noff = 0, zi;
	unsigned zones = 0;
	const char *zs = NULL;

	*out = NULL;
	memset(&s, 0, sizeof(s));
	s.region = region;
	c = nap_xcalloc(1, sizeof(*c));
	pv = nap_xcalloc(1, sizeof(*pv));
	c->priv = pv;
	c->path = catalog_path(path);
	c->region = nap_xstrdup(region);
	if (region == NULL || *region == '\0' || strchr(region, '\t') != NULL) {
		nap_err_set(err, NAP_EX_CONFIG, "catalog: no region given");
		goto fail;
	}
	pv->buf = slurp(c->path, &len, err);
	if (pv->buf == NULL || scan_file(pv->buf, len, c->path, &s, err) < 0)
		goto fail;
	for (zi = 0; zi < s.nz; zi++)
		if (strcmp(s.zlines[zi], region) == 0)
			zs = s.zzones[zi];
	if (zs == NULL) {
		nap_err_set(err, NAP_EX_CONFIG,
		    "region \"%s\" is not in catalog %s (its Z lines list the known regions: "
		    "grep '^Z' %s)",
		    region, c->path, c->path);
		goto fail;
	}
	if (zone_bits(zs, &zones) < 0) {
		nap_err_set(err, NAP_EX_DATAERR, "catalog %s: region %s: malformed zones \"%s\"",
		    c->path, region, zs);
		goto fail;
	}
	for (i = 1; i <= NAP_CATALOG_MAX_ZONES; i++) {
		if (zones & (1u << i))
			c->zones[c->nzones++] = (int)i;
		snprintf(pv->zone_label[i], sizeof(pv->zone_label[i]), "%s-%zu", region, i);
	}
	snprintf(pv->zone_label[0], sizeof(pv->zone_label[0]), "0");

	pv->sizes = s.sizes;
	pv->nsizes = s.nsizes;
	s.sizes = NULL;
	if (!is_sorted(pv->sizes, pv->nsizes, sizeof(*pv->sizes), cmp_size))
		qsort(pv->sizes, pv->nsizes, sizeof(*pv->sizes), cmp_size);
	for (i = 0; i < s.nprices; i++) {
		struct size_row *row = find_size(pv, s.rownames[i]);

		if (row == NULL) {
			nap_err_set(err, NAP_EX_DATAERR,
			    "catalog %s: %s: price for unknown size %s", c->path, region,
			    s.rownames[i]);
			goto fail;
		}
		if (row->excluded != NULL) {
			nap_err_set(err, NAP_EX_DATAERR,
			    "catalog %s: %s: price for excluded size %s", c->path, region,
			    s.rownames[i]);
			goto fail;
		}
		s.prices[i].size = (size_t)(row - pv->sizes);
		if (row->it.spot_capable == 0)
			s.prices[i].spot = -1;
	}
	if (!is_sorted(s.prices, s.nprices, sizeof(*s.prices), cmp_price_row))
		qsort(s.prices, s.nprices, sizeof(*s.prices), cmp_price_row);
	if (spot_prices_file != NULL &&
	    merge_spot(c, s.prices, s.nprices, spot_prices_file, err) < 0)
		goto fail;

	c->types = nap_xcalloc(s.nprices ? s.nprices : 1, sizeof(*c->types));
	for (i = 0; i < s.nprices; i++) {
		struct nap_itype *it = &c->types[c->ntypes];

		if (c->ntypes > 0 && s.prices[i].size == s.prices[i - 1].size)
			continue; /* a repeated price line: the first wins */
		*it = pv->sizes[s.prices[i].size].it;
		it->on_demand_price = s.prices[i].on_demand;
		it->spot_price = s.prices[i].spot;
		s.prices[i].zones &= zones;
		noff += (zone_count(s.prices[i].zones) + 1) * (it->spot_price >= 0 ? 2 : 1);
		c->ntypes++;
	}
	pv->offs = nap_xcalloc(noff ? noff : 1, sizeof(*pv->offs));
	next = pv->offs;
	for (i = 0, zi = 0; i < s.nprices; i++) {
		if (i > 0 && s.prices[i].size == s.prices[i - 1].size)
			continue;
		add_offerings(c, &c->types[zi++], s.prices[i].zones, &next);
	}
	if (!is_sorted(c->types, c->ntypes, sizeof(*c->types), cmp_type))
		qsort(c->types, c->ntypes, sizeof(*c->types), cmp_type);
	pv->located = s.located;
	pv->nlocated = s.nlocated;
	s.located = NULL;
	if (pv->nlocated > 1)
		qsort(pv->located, pv->nlocated, sizeof(*pv->located), cmp_xrow);
	scan_free(&s);
	compact(c);
	*out = c;
	return 0;
fail:
	scan_free(&s);
	nap_catalog_free(c);
	return -1;
}

void
nap_catalog_free(struct nap_catalog *c)
{
	if (c == NULL)
		return;
	if (c->priv != NULL) {
		free(c->priv->buf);
		free(c->priv->sizes);
		free(c->priv->located);
		free(c->priv->offs);
		free(c->priv);
	}
	free(c->types);
	free(c->region);
	free(c->path);
	free(c);
}

const struct nap_itype *
nap_catalog_find(const struct nap_catalog *c, const char *name)
{
	struct nap_itype key;

	if (c == NULL || name == NULL)
		return NULL;
	key.name = name;
	if (c->ntypes == 0)
		return NULL;
	return bsearch(&key, c->types, c->ntypes, sizeof(*c->types), cmp_type);
}

const char *
nap_catalog_excluded(const struct nap_catalog *c, const char *name)
{
	const struct size_row *row;
	const struct xrow *x;
	struct xrow key;

	if (nap_catalog_find(c, name) != NULL)
		return NULL;
	row = find_size(c->priv, name);
	if (row == NULL)
		return "UnknownVMSize";
	if (row->excluded != NULL)
		return row->excluded;
	key.name = name;
	x = c->priv->nlocated == 0
	    ? NULL
	    : bsearch(&key, c->priv->located, c->priv->nlocated, sizeof(key), cmp_xrow);
	if (x != NULL)
		return x->reason;
	return "NoPriceInRegion";
}

char **
nap_catalog_regions(const char *path, size_t *n, struct nap_err *err)
{
	struct scan s;
	char *file, *buf, **out;
	size_t len, i;

	*n = 0;
	memset(&s, 0, sizeof(s));
	file = catalog_path(path);
	buf = slurp(file, &len, err);
	if (buf == NULL || scan_file(buf, len, file, &s, err) < 0) {
		scan_free(&s);
		free(buf);
		free(file);
		return NULL;
	}
	out = nap_xcalloc(s.nz + 1, sizeof(*out));
	for (i = 0; i < s.nz; i++)
		out[i] = nap_xstrdup(s.zlines[i]);
	if (s.nz > 1)
		qsort(out, s.nz, sizeof(*out), cmp_str);
	*n = s.nz;
	scan_free(&s);
	free(buf);
	free(file);
	return out;
}

void
nap_catalog_regions_free(char **regions, size_t n)
{
	size_t i;

	if (regions == NULL)
		return;
	for (i = 0; i < n; i++)
		free(regions[i]);
	free(regions);
}

static void
req_in(struct nap_reqs *r, const char *key, const char *const *vals, size_t n)
{
	nap_reqs_add(r, key, NAP_OP_IN, vals, n, 0, NULL);
}

static void
req1(struct nap_reqs *r, const char *key, const char *val)
{
	req_in(r, key, &val, 1);
}

void
nap_itype_reqs(const struct nap_itype *it, const struct nap_catalog *c, struct nap_reqs *out)
{
	nap_itype_reqs_avail(it, c, NULL, out);
}

void
nap_itype_reqs_avail(
    const struct nap_itype *it, const struct nap_catalog *c, const int *avail, struct nap_reqs *out)
{
	const char *zones[NAP_CATALOG_MAX_ZONES + 1], *ctypes[2], *scopes[2], *prio[2], *gens[2];
	size_t nz = 0, nc = 0, ns = 0, ng = 0, i, j;
	char cpu[24], mem[24], eph[24], gpus[24];
	int seen_zone[NAP_CATALOG_MAX_ZONES + 1] = {0}, seen_spot[2] = {0}, seen_scope[2] = {0};
	const int is_gpu = it->gpu_manufacturer[0] != '\0';

	snprintf(cpu, sizeof(cpu), "%d", it->vcpus);
	snprintf(mem, sizeof(mem), "%lld", (long long)it->memory_mib);
	snprintf(gpus, sizeof(gpus), "%d", is_gpu ? it->gpus : 0);
	req1(out, NAP_LABEL_INSTANCE_TYPE, it->name);
	req1(out, NAP_LABEL_ARCH, it->arch);
	req1(out, NAP_LABEL_OS, "linux");
	req1(out, NAP_LABEL_REGION, c->region);
	req1(out, NAP_LABEL_SKU_NAME, it->name);
	req1(out, NAP_LABEL_SKU_FAMILY, it->family);
	req1(out, NAP_LABEL_SKU_SERIES, it->series);
	req1(out, NAP_LABEL_SKU_VERSION, it->version);
	req1(out, NAP_LABEL_SKU_CPU, cpu);
	req1(out, NAP_LABEL_AZURE_SKU_CPU, cpu);
	req1(out, NAP_LABEL_SKU_MEMORY, mem);
	req1(out, NAP_LABEL_AZURE_SKU_MEMORY, mem);
	req1(out, NAP_LABEL_SKU_ACCELERATED_NETWORKING, it->accel_net == 1 ? "true" : "false");
	req1(out, NAP_LABEL_SKU_PREMIUM_STORAGE, it->premium_io == 1 ? "true" : "false");
	/*
	 * A label only some sizes carry is DoesNotExist on the others, as the
	 * provider states it: left undefined, a pod's Exists or In on it
	 * would intersect every size (a GPU name on a D2pls_v5).
	 */
	snprintf(eph, sizeof(eph), "%d", it->ephemeral_os_max_gb);
	req_in(out, NAP_LABEL_SKU_EPHEMERAL_OS_MAX, (const char *const[]){eph},
	    it->ephemeral_os_max_gb > 0);
	req1(out, NAP_LABEL_SKU_GPU_COUNT, gpus);
	req_in(out, NAP_LABEL_SKU_GPU_MANUFACTURER, (const char *const[]){it->gpu_manufacturer},
	    is_gpu);
	req_in(out, NAP_LABEL_SKU_GPU_NAME, (const char *const[]){it->gpu_name},
	    it->gpu_name[0] != '\0');
	if (it->hyperv & NAP_HYPERV_V1)
		gens[ng++] = "1";
	if (it->hyperv & NAP_HYPERV_V2)
		gens[ng++] = "2";
	req_in(out, NAP_LABEL_SKU_HYPERV_GENERATION, gens, ng);

	for (i = 0; i < it->noff; i++) {
		const struct nap_offering *o = &it->off[i];

		if (!(avail ? avail[i] : o->available))
			continue;
		if (!seen_zone[o->zone]) {
			seen_zone[o->zone] = 1;
			zones[nz++] = o->zone_label;
		}
		if (!seen_spot[o->spot]) {
			seen_spot[o->spot] = 1;
			ctypes[nc] = o->capacity_type;
			prio[nc++] = o->spot ? "spot" : "regular";
		}
		j = o->zone == 0;
		if (!seen_scope[j]) {
			seen_scope[j] = 1;
			scopes[ns++] = j ? "regional" : "zonal";
		}
	}
	/* With no available offering the sets are empty: In [] is DoesNotExist,
	 * so nothing can select the type, as Karpenter drops it. */
	req_in(out, NAP_LABEL_ZONE, zones, nz);
	req_in(out, NAP_LABEL_CAPACITY_TYPE, ctypes, nc);
	req_in(out, NAP_LABEL_PLACEMENT_SCOPE, scopes, ns);
	req_in(out, NAP_LABEL_SCALESET_PRIORITY, prio, nc);
	req_in(out, NAP_LABEL_AZURE_PRIORITY, prio, nc);
}

static int64_t
clamp64(int64_t v, int64_t lo, int64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

int64_t
nap_itype_kube_reserved_cpu(int vcpus)
{
	int64_t n = vcpus, m;

	/* 6 % of the first core, 4 % of the second, 2 % of the next two, 1 % above */
	m = 60 * clamp64(n, 0, 1) + 40 * clamp64(n - 1, 0, 1) + 20 * clamp64(n - 2, 0, 2) +
	    10 * (n > 4 ? n - 4 : 0);
	return m;
}

int64_t
nap_itype_kube_reserved_mib(int64_t mib)
{
	int64_t pct100;

	/* In hundredths of a MiB, so that the sum is truncated once, as the
	 * provider truncates its float sum. */
	pct100 = 25 * clamp64(mib, 0, 4096) + 20 * clamp64(mib - 4096, 0, 4096) +
	    10 * clamp64(mib - 8192, 0, 8192) + 6 * clamp64(mib - 16384, 0, 114688) +
	    2 * (mib > 131072 ? mib - 131072 : 0);
	return pct100 / 100;
}

void
nap_itype_capacity(const struct nap_itype *it, const struct nap_itype_opts *o, struct nap_res *out)
{
	static const struct nap_itype_opts defaults;
	int64_t bytes;

	if (o == NULL)
		o = &defaults;
	nap_res_zero(out);
	out->v[NAP_RES_CPU] = (int64_t)it->vcpus * 1000;
	/* whole GiB first (7.5 GiB counts as 7), then the 7.5 % overhead rounded up */
	bytes = (it->memory_mib / 1024) * 1024 * 1024 * 1024;
	out->v[NAP_RES_MEMORY] = bytes - (bytes * 75 + 999) / 1000;
	out->v[NAP_RES_PODS] = o->max_pods > 0 ? o->max_pods : 250;
	out->v[NAP_RES_EPHEMERAL] = (int64_t)(o->os_disk_gb > 0 ? o->os_disk_gb : 128) * 1000000000;
	if (strcmp(it->gpu_manufacturer, "nvidia") == 0)
		out->v[NAP_RES_NVIDIA_GPU] = it->gpus;
	else if (strcmp(it->gpu_manufacturer, "amd") == 0)
		out->v[NAP_RES_AMD_GPU] = it->gpus;
}

void
nap_itype_allocatable(
    const struct nap_itype *it, const struct nap_itype_opts *o, struct nap_res *out)
{
	int64_t *cpu = &out->v[NAP_RES_CPU], *mem = &out->v[NAP_RES_MEMORY];

	nap_itype_capacity(it, o, out);
	*cpu -= nap_itype_kube_reserved_cpu(it->vcpus);
	*mem -= nap_itype_kube_reserved_mib(it->memory_mib) * 1024 * 1024 + NAP_EVICTION_HARD_BYTES;
	if (*cpu < 0)
		*cpu = 0;
	if (*mem < 0)
		*mem = 0;
}

const char *
nap_itype_unusable(const struct nap_itype *it, const struct nap_itype_opts *o)
{
	const int is_gpu = it->gpu_manufacturer[0] != '\0';

	if (o == NULL)
		return NULL;
	if (is_gpu && o->gpu_os != 0 && !(it->gpu_os & o->gpu_os))
		return "GPU size not supported on the node class's image family";
	if (is_gpu && !o->gpu_mode_none && strcmp(it->gpu_manufacturer, "nvidia") != 0)
		return "GPU driver install (gpu.mode Driver) supports only NVIDIA GPUs";
	if (o->encryption_at_host && it->encryption_at_host == 0)
		return "encryption at host not supported";
	if (o->trusted_launch &&
	    (!(it->hyperv & NAP_HYPERV_V2) || it->trusted_launch_disabled == 1))
		return "Trusted Launch not supported";
	if (o->localdns && it->vcpus < 4)
		return "LocalDNS needs at least 4 vCPUs";
	if (o->artifact_streaming && strcmp(it->arch, "arm64") == 0)
		return "artifact streaming does not support arm64";
	return NULL;
}

int
nap_itype_ephemeral_os(const struct nap_itype *it, const struct nap_itype_opts *o)
{
	int disk = o != NULL && o->os_disk_gb > 0 ? o->os_disk_gb : 128;

	return it->ephemeral_os_max_gb > 0 && disk <= it->ephemeral_os_max_gb;
}

const struct nap_offering *
nap_itype_cheapest(const struct nap_itype *it)
{
	const struct nap_offering *best = NULL;
	size_t i;

	for (i = 0; i < it->noff; i++) {
		const struct nap_offering *o = &it->off[i];

		if (!o->available)
			continue;
		/* ties: spot first, then zonal (offerings are zonal-first already) */
		if (best == NULL || o->price < best->price ||
		    (o->price == best->price && o->spot && !best->spot))
			best = o;
	}
	return best;
}

void
nap_itype_opts_from_nodeclass(struct nap_itype_opts *o, const struct nap_nodeclass *nc,
    const char *k8s_version, const char *plugin, const char *mode)
{
	const char *fam, *dns;

	memset(o, 0, sizeof(*o));
	o->max_pods = nap_nodeclass_max_pods(nc, plugin, mode);
	if (nc == NULL)
		return;
	o->os_disk_gb = nc->os_disk_gb;
	fam = nap_nodeclass_resolved_family(nc, k8s_version);
	if (strcmp(fam, "AzureLinux3") == 0)
		o->gpu_os = NAP_GPU_OS_AZURELINUX3;
	else if (strcmp(fam, "AzureLinux") == 0)
		o->gpu_os = NAP_GPU_OS_AZURELINUX;
	else
		o->gpu_os = NAP_GPU_OS_UBUNTU;
	o->gpu_mode_none = !nc->gpu_driver;
	o->encryption_at_host = nc->encryption_at_host;
	o->trusted_launch = nc->trusted_launch;
	o->artifact_streaming = nc->artifact_streaming;
	dns = nc->localdns_mode ? nc->localdns_mode : "";
	o->localdns = strcmp(dns, "Preferred") == 0 || strcmp(dns, "Required") == 0;
}

/* The first of a and b that is set (not NULL, not ""), else NULL. */
static const char *
first_set(const char *a, const char *b)
{
	if (a && a[0])
		return a;
	return b && b[0] ? b : NULL;
}

int
nap_catalog_load_config(struct nap_catalog **out, const struct nap_config *cfg, const char *path,
    const char *region, const char *spot_prices, struct nap_err *err)
{
	path = first_set(path, cfg ? cfg->catalog : NULL);
	region = first_set(region, cfg ? cfg->cluster.region : NULL);
	spot_prices = first_set(spot_prices, cfg ? cfg->spot_prices : NULL);
	if (region == NULL)
		return nap_err_set(err, NAP_EX_CONFIG,
		    "no region for the catalog: set cluster.region in the configuration");
	return nap_catalog_load(out, path, region, spot_prices, err);
}

/* Equal strings, or both NULL. */
static int
same_or_null(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

int
nap_unavail_add_record(struct nap_unavail_set *s, json_object *rec, struct nap_err *err)
{
	const char *it = nap_json_str(rec, "instanceType", NULL);
	const char *zone = nap_json_str(rec, "zone", NULL);
	const char *ct = nap_json_str(rec, "capacityType", NULL);
	const char *until = nap_json_str(rec, "until", NULL);
	struct nap_unavail *u;
	int64_t t = 0;

	if (!it || !it[0])
		return nap_err_set(err, NAP_EX_DATAERR, "OfferingUnavailable without instanceType");
	if (until && nap_time_parse(until, &t) < 0)
		return nap_err_set(err, NAP_EX_DATAERR,
		    "OfferingUnavailable %s: until: bad time \"%s\"", it, until);
	zone = zone && zone[0] ? zone : NULL;
	ct = ct && ct[0] ? ct : NULL;
	/*
	 * One entry per offering: a long-running tool hears of the same
	 * offering again and again, so the set stays as large as the
	 * offerings ever reported, not the reports.  The later until wins
	 * (0, for ever, is the latest).
	 */
	for (size_t i = 0; i < s->n; i++) {
		u = &s->v[i];
		if (strcmp(u->itype, it) == 0 && same_or_null(u->zone, zone) &&
		    same_or_null(u->ctype, ct)) {
			if (u->until_ms && (t == 0 || t * 1000 > u->until_ms))
				u->until_ms = t * 1000;
			return 0;
		}
	}
	nap_xgrow(&s->v, &s->alloc, s->n + 1, sizeof(*s->v));
	u = &s->v[s->n++];
	u->itype = nap_xstrdup(it);
	u->zone = zone ? nap_xstrdup(zone) : NULL;
	u->ctype = ct ? nap_xstrdup(ct) : NULL;
	u->until_ms = t * 1000;
	return 0;
}

int
nap_unavail_has(const struct nap_unavail_set *s, const struct nap_itype *it,
    const struct nap_offering *o, int64_t now_ms)
{
	size_t i;

	for (i = 0; s && i < s->n; i++) {
		const struct nap_unavail *u = &s->v[i];

		if (u->until_ms && now_ms && u->until_ms <= now_ms)
			continue;
		if (strcmp(u->itype, it->name) != 0)
			continue;
		if (u->zone && strcmp(u->zone, o->zone_label) != 0)
			continue;
		if (u->ctype && strcmp(u->ctype, o->capacity_type) != 0)
			continue;
		return 1;
	}
	return 0;
}

void
nap_unavail_free(struct nap_unavail_set *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].itype);
		free(s->v[i].zone);
		free(s->v[i].ctype);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}
