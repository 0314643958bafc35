/*
 * t-yaml.c - lib/yaml: the typing rules (data cases in tests/fixtures/yaml:
 * NAME.yaml and NAME.want, a JSON array of the documents or "error: MSG"),
 * limits and positions, and every real manifest under $NAP_SHARED
 * (default ../shared): the fixtures/{karpenter,aks-docs,kube} files, whose
 * index.tsv says which ones are broken as published and where.  (Its
 * reference pages (*.md) carry no yaml block with a NodePool or an
 * AKSNodeClass; the markdown extractor is checked on blocks.md.)
 */
#include "nap.h"
#include "tap.h"
#include "util.h"
#include "yaml.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names in dir ending in suffix; NULL when dir cannot be opened. */
static char **
list_dir(const char *dir, const char *suffix, size_t *np)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **v = NULL;
	size_t n = 0, alloc = 0, sl = strlen(suffix), l;

	*np = 0;
	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL) {
		l = strlen(e->d_name);
		if (l <= sl || strcmp(e->d_name + l - sl, suffix) != 0)
			continue;
		nap_xgrow(&v, &alloc, n + 1, sizeof(*v));
		v[n++] = nap_xstrdup(e->d_name);
	}
	closedir(d);
	qsort(v, n, sizeof(*v), cmp_str);
	*np = n;
	if (v == NULL)
		v = nap_xcalloc(1, sizeof(*v));
	return v;
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
run_data_cases(const char *dir)
{
	char **names, *path, *buf, *want, *nl;
	json_object *docs, *exp;
	struct nap_err err;
	size_t n, i, len;
	int rc;

	names = list_dir(dir, ".yaml", &n);
	if (names == NULL || n == 0) {
		TAP_OK(0, "the data cases in %s are there", dir);
		free_list(names, n);
		return;
	}
	for (i = 0; i < n; i++) {
		path = nap_xasprintf("%s/%s", dir, names[i]);
		buf = test_slurp(path, &len);
		free(path);
		path = nap_xasprintf("%s/%.*s.want", dir, (int)(strlen(names[i]) - 5), names[i]);
		want = test_slurp(path, NULL);
		free(path);
		if (buf == NULL || want == NULL) {
			TAP_OK(0, "%s and its .want file can be read", names[i]);
			free(buf);
			free(want);
			continue;
		}
		docs = NULL;
		rc = nap_yaml_load(buf, len, names[i], &docs, &err);
		if (strncmp(want, "error: ", 7) == 0) {
			nl = strchr(want, '\n');
			if (nl != NULL)
				*nl = '\0';
			if (!TAP_OK(rc == -1 && err.code == NAP_EX_DATAERR &&
				    strcmp(err.msg, want + 7) == 0,
				"%s is refused with \"%s\"", names[i], want + 7))
				printf("#   got rc %d: %s\n", rc, rc < 0 ? err.msg : "");
		} else {
			exp = json_tokener_parse(want);
			if (!TAP_OK(rc == 0 && exp != NULL && json_object_equal(docs, exp),
				"%s loads as its .want file says", names[i]))
				printf("#   got %s\n",
				    rc == 0 ? json_object_to_json_string(docs) : err.msg);
			json_object_put(exp);
		}
		json_object_put(docs);
		free(buf);
		free(want);
	}
	free_list(names, n);
}

static json_object *
load1(const char *text, int flags, struct nap_err *err)
{
	json_object *docs = NULL, *d;

	if (nap_yaml_load_ex(text, strlen(text), "t.yaml", flags, &docs, err) < 0)
		return NULL;
	if (json_object_array_length(docs) < 1) {
		json_object_put(docs);
		return NULL;
	}
	d = json_object_get(json_object_array_get_idx(docs, 0));
	json_object_put(docs);
	return d;
}

static void
test_special_floats(void)
{
	struct nap_err err;
	json_object *d = load1("[.nan, .NaN, .inf, +.Inf, -.INF, -.inf]", 0, &err);
	json_object *v;
	size_t i;
	int ok = d != NULL && json_object_array_length(d) == 6;

	for (i = 0; ok && i < 6; i++) {
		v = json_object_array_get_idx(d, i);
		ok = json_object_is_type(v, json_type_double);
	}
	TAP_OK(ok, ".nan, .inf and -.inf are floats");
	TAP_OK(ok && isnan(json_object_get_double(json_object_array_get_idx(d, 1))),
	    ".NaN is not a number");
	TAP_OK(ok && json_object_get_double(json_object_array_get_idx(d, 3)) == INFINITY,
	    "+.Inf is positive infinity");
	TAP_OK(ok && json_object_get_double(json_object_array_get_idx(d, 4)) == -INFINITY,
	    "-.INF is negative infinity");
	json_object_put(d);
}

static void
test_number_types(void)
{
	struct nap_err err;
	json_object *d =
	    load1("{i: 1, f: 1.0, e: 1e3, u: 18446744073709551615, q: \"1\"}", 0, &err);
	json_object *v;

	TAP_OK(d != NULL, "a flow mapping of numbers loads");
	if (d == NULL)
		return;
	TAP_OK(json_object_object_get_ex(d, "i", &v) && json_object_is_type(v, json_type_int),
	    "1 is an integer");
	TAP_OK(json_object_object_get_ex(d, "f", &v) && json_object_is_type(v, json_type_double),
	    "1.0 is a float");
	TAP_OK(json_object_object_get_ex(d, "e", &v) && json_object_is_type(v, json_type_double) &&
		json_object_get_double(v) == 1000.0,
	    "1e3 is the float 1000");
	TAP_OK(json_object_object_get_ex(d, "u", &v) && json_object_get_uint64(v) == UINT64_MAX,
	    "18446744073709551615 keeps every digit as an unsigned integer");
	TAP_OK(json_object_object_get_ex(d, "q", &v) && json_object_is_type(v, json_type_string),
	    "a quoted \"1\" is a string");
	json_object_put(d);
}

static char *
nested(unsigned depth)
{
	char *s = nap_xmalloc(2 * (size_t)depth + 1);

	memset(s, '[', depth);
	memset(s + depth, ']', depth);
	s[2 * depth] = '\0';
	return s;
}

static void
test_limits(void)
{
	struct nap_err err;
	json_object *d;
	char *s, *big;
	size_t i, n;

	s = nested(NAP_YAML_MAX_DEPTH);
	d = load1(s, 0, &err);
	TAP_OK(d != NULL, "%d nested sequences load", NAP_YAML_MAX_DEPTH);
	json_object_put(d);
	free(s);

	s = nested(NAP_YAML_MAX_DEPTH + 1);
	d = load1(s, 0, &err);
	TAP_OK(d == NULL && strstr(err.msg, "nesting deeper than") != NULL,
	    "%d nested sequences are refused", NAP_YAML_MAX_DEPTH + 1);
	json_object_put(d);
	free(s);

	/* 1000 aliases of a 10-node list: 11000 nodes, well inside the cap. */
	n = 1000;
	big = nap_xmalloc(64 + n * 6);
	i = (size_t)snprintf(big, 64, "a: &x [1,2,3,4,5,6,7,8,9,10]\nb: [");
	while (n-- > 0)
		i += (size_t)snprintf(big + i, 8, "*x%s", n ? ", " : "]\n");
	d = load1(big, 0, &err);
	TAP_OK(d != NULL, "a thousand aliases of a small list load");
	json_object_put(d);
	free(big);
}

static void
test_copies(void)
{
	struct nap_err err;
	json_object *d = load1("base: &b {x: 1}\ncopy: *b\nm: {<<: *b}\n", 0, &err);
	json_object *base = NULL, *copy = NULL, *m = NULL;

	TAP_OK(d != NULL && json_object_object_get_ex(d, "base", &base) &&
		json_object_object_get_ex(d, "copy", &copy) &&
		json_object_object_get_ex(d, "m", &m),
	    "an anchored mapping, its alias and a merge load");
	if (base == NULL || copy == NULL || m == NULL) {
		json_object_put(d);
		return;
	}
	TAP_OK(base != copy, "an alias is a copy, not the anchored object");
	json_object_object_add(copy, "y", json_object_new_int(2));
	json_object_object_add(m, "z", json_object_new_int(3));
	TAP_OK(!json_object_object_get_ex(base, "y", NULL) &&
		!json_object_object_get_ex(base, "z", NULL),
	    "changing an alias or a merge leaves the anchored mapping alone");
	json_object_put(d);
}

static void
test_positions(void)
{
	struct nap_err err;
	json_object *d, *b = NULL, *m = NULL;
	unsigned line = 0, col = 0;

	d = load1(
	    "a: 1\nb:\n  c: 2\nbase: &x {k: v}\nm:\n  <<: *x\n  own: 1\n", NAP_YAML_KEYPOS, &err);
	TAP_OK(d != NULL, "a document loads with key positions");
	if (d == NULL)
		return;
	TAP_OK(nap_yaml_key_pos(d, "b", &line, &col) == 0 && line == 2 && col == 1,
	    "a top-level key reports its line and column");
	json_object_object_get_ex(d, "b", &b);
	TAP_OK(nap_yaml_key_pos(b, "c", &line, &col) == 0 && line == 3 && col == 3,
	    "a nested key reports its own line and column");
	json_object_object_get_ex(d, "m", &m);
	TAP_OK(nap_yaml_key_pos(m, "k", &line, &col) == 0 && line == 4 && col == 11,
	    "a merged key reports where its source wrote it");
	TAP_OK(nap_yaml_key_pos(m, "own", &line, &col) == 0 && line == 7,
	    "an explicit key next to a merge reports its own line");
	TAP_OK(nap_yaml_key_pos(d, "nope", &line, &col) == -1, "an absent key has no position");
	json_object_put(d);

	d = load1("a: 1\n", 0, &err);
	TAP_OK(d != NULL && nap_yaml_key_pos(d, "a", &line, &col) == -1,
	    "without NAP_YAML_KEYPOS no positions are kept");
	json_object_put(d);
}

static void
test_edges(void)
{
	struct nap_err err;
	json_object *docs = (json_object *)&err; /* a sentinel that must survive errors */
	json_object *d;
	int fd;

	TAP_IS_INT(nap_yaml_load("a: [", 4, NULL, &docs, &err), -1, "broken yaml returns -1");
	TAP_OK(docs == (json_object *)&err, "a failed load leaves *docs_array alone");
	TAP_OK(strncmp(err.msg, "<input>:", 8) == 0, "a NULL name reads <input> in the message");

	TAP_IS_INT(nap_yaml_load("", 0, "e", &docs, &err), 0, "empty input loads");
	TAP_IS_INT(json_object_array_length(docs), 0, "empty input has no documents");
	json_object_put(docs);

	TAP_IS_INT(nap_yaml_load("---\n# nothing\n...\n", 17, "e", &docs, &err), 0,
	    "a stream of one empty document loads");
	TAP_IS_INT(json_object_array_length(docs), 0, "an empty document is skipped");
	json_object_put(docs);

	d = load1("a: 1\r\nb: two\r\n", 0, &err);
	TAP_OK(
	    d != NULL && strcmp(json_object_get_string(json_object_object_get(d, "b")), "two") == 0,
	    "CRLF line ends load like LF");
	json_object_put(d);

	d = load1("\xef\xbb\xbf"
		  "a: 1\n",
	    0, &err);
	TAP_OK(d != NULL && json_object_object_get_ex(d, "a", NULL),
	    "a UTF-8 byte-order mark is skipped");
	json_object_put(d);

	fd = open("tests/fixtures/yaml/err-duplicate.yaml", O_RDONLY);
	if (fd >= 0 && dup2(fd, STDIN_FILENO) == STDIN_FILENO) {
		TAP_IS_INT(nap_yaml_load_file("-", &docs, &err), -1, "\"-\" reads standard input");
		TAP_IS_STR(err.msg, "<stdin>:3:1: duplicate key \"a\"",
		    "standard input is <stdin> in messages");
	} else {
		TAP_OK(0, "a fixture can be put on standard input");
	}
	if (fd >= 0)
		close(fd);

	TAP_IS_INT(nap_yaml_load_file("/nonexistent/nap.yaml", &docs, &err), -1,
	    "a missing file cannot be loaded");
	TAP_IS_INT(err.code, NAP_EX_IOERR, "a missing file is an I/O error");
	TAP_OK(strstr(err.msg, "/nonexistent/nap.yaml") != NULL, "the message names the file");
}

/* ---- real manifests ---- */

static int
has_kind(const char *text, const char *kind)
{
	const char *p = text;
	size_t kl = strlen(kind);

	while ((p = strstr(p, "kind:")) != NULL) {
		p += 5;
		while (*p == ' ')
			p++;
		if (strncmp(p, kind, kl) == 0 &&
		    (p[kl] == '\n' || p[kl] == ' ' || p[kl] == '\r' || p[kl] == '\0'))
			return 1;
	}
	return 0;
}

/*
 * Every ```yaml block of a markdown file holding a NodePool or AKSNodeClass
 * must load; returns how many there were, or -1 when the file is absent.
 */
static int
run_markdown(const char *path)
{
	char *md = test_slurp(path, NULL), *line, *next, *block = NULL;
	size_t blen = 0, balloc = 0, indent = 0, ll;
	unsigned long lineno = 0, start = 0;
	struct nap_err err;
	json_object *docs;
	int in = 0, found = 0;

	if (md == NULL) {
		TAP_OK(0, "%s is readable " TEST_SHARED_HINT, path);
		return -1;
	}
	/* Line by line, keeping blank lines: block scalars need them. */
	for (line = md; *line != '\0'; line = next) {
		size_t ind;
		const char *t;

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		else
			next = line + strlen(line);
		ind = strspn(line, " ");
		t = line + ind;

		lineno++;
		if (!in && (strncmp(t, "```", 3) == 0 || strncmp(t, "~~~", 3) == 0) &&
		    (strncasecmp(t + 3, "yaml", 4) == 0 || strncasecmp(t + 3, "yml", 3) == 0)) {
			in = 1;
			indent = ind;
			blen = 0;
			start = lineno + 1;
			continue;
		}
		if (!in)
			continue;
		if (strncmp(t, "```", 3) == 0 || strncmp(t, "~~~", 3) == 0) {
			in = 0;
			nap_xgrow(&block, &balloc, blen + 1, 1);
			block[blen] = '\0';
			if (has_kind(block, "NodePool") || has_kind(block, "AKSNodeClass")) {
				found++;
				docs = NULL;
				if (!TAP_OK(nap_yaml_load(block, blen, path, &docs, &err) == 0,
					"the yaml block at %s line %lu loads", path, start))
					printf("#   %s\n", err.msg);
				json_object_put(docs);
			}
			continue;
		}
		ll = strlen(line);
		if (ind >= indent) {
			line += indent;
			ll -= indent;
		}
		nap_xgrow(&block, &balloc, blen + ll + 2, 1);
		memcpy(block + blen, line, ll);
		blen += ll;
		block[blen++] = '\n';
	}
	if (found == 0)
		TAP_OK(0, "%s has a yaml block with a NodePool or AKSNodeClass", path);
	free(block);
	free(md);
	return found;
}

struct idx {
	char *file;
	char *validation;
};

/* index.tsv: the first column is the file, the last the validation note. */
static struct idx *
read_index(const char *dir, size_t *np)
{
	char *path = nap_xasprintf("%s/index.tsv", dir), *text = test_slurp(path, NULL);
	char *line, *save = NULL, *tab, *last;
	struct idx *v = NULL;
	size_t n = 0, alloc = 0;

	free(path);
	*np = 0;
	if (text == NULL)
		return NULL;
	for (line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		tab = strchr(line, '\t');
		last = strrchr(line, '\t');
		if (tab == NULL || strncmp(line, "file\t", 5) == 0)
			continue;
		nap_xgrow(&v, &alloc, n + 1, sizeof(*v));
		v[n].file = nap_xstrndup(line, (size_t)(tab - line));
		v[n].validation = nap_xstrdup(last + 1);
		n++;
	}
	free(text);
	*np = n;
	return v;
}

static void
run_fixture_dir(const char *shared, const char *sub)
{
	char *dir = nap_xasprintf("%s/fixtures/%s", shared, sub), *path;
	char **names;
	struct idx *idx;
	size_t n, ni, i, j, ndocs;
	struct nap_err err;
	json_object *docs;
	const char *val, *at;
	unsigned wl, wc;
	char want[64];
	int rc;

	names = list_dir(dir, ".yaml", &n);
	if (names == NULL) {
		TAP_OK(0, "%s is readable " TEST_SHARED_HINT, dir);
		free(dir);
		return;
	}
	idx = read_index(dir, &ni);
	for (i = 0; i < n; i++) {
		val = NULL;
		for (j = 0; j < ni; j++)
			if (strcmp(idx[j].file, names[i]) == 0)
				val = idx[j].validation;
		path = nap_xasprintf("%s/%s", dir, names[i]);
		docs = NULL;
		rc = nap_yaml_load_file(path, &docs, &err);
		if (val != NULL && strstr(val, "INVALID") != NULL) {
			/* "... at line L col C", where the published file breaks */
			at = strstr(val, " at line ");
			wl = wc = 0;
			if (at == NULL || sscanf(at, " at line %u col %u", &wl, &wc) != 2) {
				TAP_OK(0, "index.tsv says where %s/%s breaks", sub, names[i]);
			} else {
				snprintf(want, sizeof(want), ":%u:%u: ", wl, wc);
				if (!TAP_OK(rc == -1 && strncmp(err.msg, path, strlen(path)) == 0 &&
					    strncmp(err.msg + strlen(path), want, strlen(want)) ==
						0,
					"%s/%s, broken as published, fails at line %u column %u",
					sub, names[i], wl, wc))
					printf("#   got %s\n", rc < 0 ? err.msg : "success");
			}
		} else if (val != NULL && strstr(val, " doc") != NULL) {
			at = strstr(val, "(");
			ndocs = at != NULL ? strtoul(at + 1, NULL, 10) : 0;
			if (!TAP_OK(rc == 0 && json_object_array_length(docs) == ndocs,
				"%s/%s loads as %zu document%s", sub, names[i], ndocs,
				ndocs == 1 ? "" : "s"))
				printf("#   got %s\n",
				    rc < 0 ? err.msg : json_object_to_json_string(docs));
		} else {
			if (!TAP_OK(rc == 0 && json_object_array_length(docs) > 0, "%s/%s loads",
				sub, names[i]))
				printf("#   got %s\n", rc < 0 ? err.msg : "no documents");
		}
		json_object_put(docs);
		free(path);
	}
	for (j = 0; j < ni; j++) {
		free(idx[j].file);
		free(idx[j].validation);
	}
	free(idx);
	free_list(names, n);
	free(dir);
}

static void
test_known_kinds(const char *shared)
{
	char *path = nap_xasprintf("%s/fixtures/karpenter/azure-default_nodepool.yaml", shared);
	struct nap_err err;
	json_object *docs = NULL, *d;
	struct stat st;

	if (stat(path, &st) < 0) {
		TAP_OK(0, "%s is readable " TEST_SHARED_HINT, path);
		free(path);
		return;
	}
	TAP_OK(nap_yaml_load_file(path, &docs, &err) == 0 && json_object_array_length(docs) == 1,
	    "the Azure provider's default NodePool loads as one document");
	d = docs != NULL ? json_object_array_get_idx(docs, 0) : NULL;
	TAP_IS_STR(d != NULL ? json_object_get_string(json_object_object_get(d, "kind")) : NULL,
	    "NodePool", "its kind is NodePool");
	json_object_put(docs);
	free(path);
}

int
main(void)
{
	const char *shared = test_shared();

	run_data_cases("tests/fixtures/yaml");
	TAP_IS_INT(run_markdown("tests/fixtures/yaml/blocks.md"), 2,
	    "the markdown extractor finds the NodePool and AKSNodeClass blocks of blocks.md");
	test_special_floats();
	test_number_types();
	test_limits();
	test_copies();
	test_positions();
	test_edges();

	run_fixture_dir(shared, "karpenter");
	run_fixture_dir(shared, "aks-docs");
	run_fixture_dir(shared, "kube");
	test_known_kinds(shared);
	return tap_done();
}
