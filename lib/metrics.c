/*
 * metrics.c - the registry, the text exposition format and the textfile
 * writer (contract in metrics.h).  The HTTP server is in metrics-http.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <unistd.h>

#include "hash.h"
#include "metrics.h"

const double nap_metrics_default_buckets[11] = {
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

struct series {
	char **values;		    /* one per label name */
	char *key;		    /* values joined with \x1f, for sorting and the hash */
	double value;		    /* counter, gauge; histogram: sum */
	unsigned long long *counts; /* histogram: per bucket (not cumulative), +Inf last */
	unsigned long long count;
};

struct nap_metric {
	struct nap_metrics *reg;
	enum nap_metric_type type;
	char *name, *help;
	char **labels;
	size_t nlabels;
	double *buckets;
	size_t nbuckets;
	struct nap_hash by_key; /* key -> struct series */
};

struct nap_metrics {
	pthread_mutex_t mu;
	struct {
		void (*fn)(void *arg);
		void *arg;
	} collect[4];
	size_t ncollect;
	struct nap_metric **fams;
	size_t n, alloc;
};

struct nap_metrics *
nap_metrics_new(void)
{
	struct nap_metrics *m = nap_xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->mu, NULL);
	return m;
}

static void
series_free(struct series *s, size_t nlabels)
{
	for (size_t i = 0; i < nlabels; i++)
		free(s->values[i]);
	free(s->values);
	free(s->key);
	free(s->counts);
	free(s);
}

static void
family_clear(struct nap_metric *f)
{
	size_t pos = 0;
	const char *k;
	void *v;

	while (nap_hash_next(&f->by_key, &pos, &k, &v))
		series_free(v, f->nlabels);
	nap_hash_free(&f->by_key);
	nap_hash_init(&f->by_key);
}

void
nap_metrics_free(struct nap_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++) {
		struct nap_metric *f = m->fams[i];

		family_clear(f);
		nap_hash_free(&f->by_key);
		for (size_t j = 0; j < f->nlabels; j++)
			free(f->labels[j]);
		free(f->labels);
		free(f->buckets);
		free(f->name);
		free(f->help);
		free(f);
	}
	free(m->fams);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

static int
name_ok(const char *s, int colon)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
			(*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':')))
			return 0;
	return 1;
}

static void
free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Split "a,b" into names; -1 and err on a bad one. */
static int
split_labels(const char *metric, const char *labels, char ***out, size_t *n, struct nap_err *err)
{
	char *copy, *save = NULL, *tok;

	*out = NULL;
	*n = 0;
	if (!labels || !*labels)
		return 0;
	copy = nap_xstrdup(labels);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int bad =
		    !name_ok(tok, 0) || strncmp(tok, "__", 2) == 0 || (strcmp(tok, "le") == 0);

		for (size_t i = 0; !bad && i < *n; i++)
			bad = strcmp((*out)[i], tok) == 0;
		if (bad) {
			nap_err_set(err, NAP_EX_SOFTWARE,
			    "metric %s: bad or repeated label name \"%s\"", metric, tok);
			free(copy);
			free_names(*out, *n);
			*out = NULL;
			*n = 0;
			return -1;
		}
		*out = nap_xrealloc(*out, (*n + 1) * sizeof(**out));
		(*out)[(*n)++] = nap_xstrdup(tok);
	}
	free(copy);
	return 0;
}

struct nap_metric *
nap_metrics_add(struct nap_metrics *m, enum nap_metric_type type, const char *name,
    const char *help, const char *labels, const double *buckets, size_t nbuckets,
    struct nap_err *err)
{
	struct nap_metric *f;
	char **names;
	size_t n;

	if (!m)
		return NULL;
	if (!name || !name_ok(name, 1)) {
		nap_err_set(err, NAP_EX_SOFTWARE, "bad metric name \"%s\"", name ? name : "");
		return NULL;
	}
	if (split_labels(name, labels, &names, &n, err) != 0)
		return NULL;
	if (type == NAP_METRIC_HISTOGRAM) {
		if (!buckets) {
			buckets = nap_metrics_default_buckets;
			nbuckets = NAP_ARRAY_LEN(nap_metrics_default_buckets);
		}
		for (size_t i = 0; i < nbuckets; i++)
			if (!isfinite(buckets[i]) || (i && buckets[i] <= buckets[i - 1])) {
				free_names(names, n);
				nap_err_set(err, NAP_EX_SOFTWARE,
				    "metric %s: buckets must be finite and increasing", name);
				return NULL;
			}
	} else {
		nbuckets = 0;
	}
	pthread_mutex_lock(&m->mu);
	for (size_t i = 0; i < m->n; i++) {
		int same;

		f = m->fams[i];
		if (strcmp(f->name, name) != 0)
			continue;
		same = f->type == type && f->nlabels == n;
		for (size_t j = 0; same && j < n; j++)
			same = strcmp(f->labels[j], names[j]) == 0;
		pthread_mutex_unlock(&m->mu);
		free_names(names, n);
		if (same)
			return f;
		nap_err_set(err, NAP_EX_SOFTWARE,
		    "metric %s is already registered with another type or labels", name);
		return NULL;
	}
	f = nap_xcalloc(1, sizeof(*f));
	f->reg = m;
	f->type = type;
	f->name = nap_xstrdup(name);
	f->help = nap_xstrdup(help ? help : "");
	f->labels = names;
	f->nlabels = n;
	if (nbuckets) {
		f->buckets = nap_xmalloc(nbuckets * sizeof(*f->buckets));
		memcpy(f->buckets, buckets, nbuckets * sizeof(*f->buckets));
	}
	f->nbuckets = nbuckets;
	nap_hash_init(&f->by_key);
	nap_xgrow(&m->fams, &m->alloc, m->n + 1, sizeof(*m->fams));
	m->fams[m->n++] = f;
	pthread_mutex_unlock(&m->mu);
	return f;
}

/* The series for the label values in ap; called with the mutex held. */
static struct series *
series_get(struct nap_metric *f, va_list ap)
{
	const char **vals = f->nlabels ? nap_xcalloc(f->nlabels, sizeof(*vals)) : NULL;
	struct series *s;
	size_t len = 0, at = 0;
	char *key;

	for (size_t i = 0; i < f->nlabels; i++) {
		vals[i] = va_arg(ap, const char *);
		if (!vals[i])
			vals[i] = "";
		len += strlen(vals[i]) + 1;
	}
	key = nap_xmalloc(len + 1);
	for (size_t i = 0; i < f->nlabels; i++) {
		size_t l = strlen(vals[i]);

		memcpy(key + at, vals[i], l);
		at += l;
		key[at++] = '\x1f';
	}
	key[at] = '\0';
	s = nap_hash_get(&f->by_key, key);
	if (s) {
		free(key);
		free(vals);
		return s;
	}
	s = nap_xcalloc(1, sizeof(*s));
	s->key = key;
	s->values = f->nlabels ? nap_xcalloc(f->nlabels, sizeof(*s->values)) : NULL;
	for (size_t i = 0; i < f->nlabels; i++)
		s->values[i] = nap_xstrdup(vals[i]);
	if (f->type == NAP_METRIC_HISTOGRAM)
		s->counts = nap_xcalloc(f->nbuckets + 1, sizeof(*s->counts));
	nap_hash_put(&f->by_key, key, s);
	free(vals);
	return s;
}

static void
update(struct nap_metric *f, enum nap_metric_type want, double v, va_list ap)
{
	struct series *s;

	if (!f || (f->type != want && !(want == NAP_METRIC_GAUGE && f->type == NAP_METRIC_COUNTER)))
		return;
	if (want == NAP_METRIC_COUNTER && !(v >= 0))
		return;
	pthread_mutex_lock(&f->reg->mu);
	s = series_get(f, ap);
	switch (want) {
	case NAP_METRIC_COUNTER:
		s->value += v;
		break;
	case NAP_METRIC_GAUGE:
		s->value = v;
		break;
	case NAP_METRIC_HISTOGRAM: {
		size_t i = 0;

		while (i < f->nbuckets && !(v <= f->buckets[i]))
			i++;
		s->counts[i]++;
		s->count++;
		s->value += v;
		break;
	}
	}
	pthread_mutex_unlock(&f->reg->mu);
}

void
nap_metric_inc(struct nap_metric *f, ...)
{
	va_list ap;

	va_start(ap, f);
	update(f, NAP_METRIC_COUNTER, 1, ap);
	va_end(ap);
}

void
nap_metric_add(struct nap_metric *f, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	update(f, NAP_METRIC_COUNTER, v, ap);
	va_end(ap);
}

void
nap_metric_set(struct nap_metric *f, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	update(f, NAP_METRIC_GAUGE, v, ap);
	va_end(ap);
}

void
nap_metric_observe(struct nap_metric *f, double v, ...)
{
	va_list ap;

	va_start(ap, v);
	update(f, NAP_METRIC_HISTOGRAM, v, ap);
	va_end(ap);
}

void
nap_metric_reset(struct nap_metric *f)
{
	if (!f)
		return;
	pthread_mutex_lock(&f->reg->mu);
	family_clear(f);
	pthread_mutex_unlock(&f->reg->mu);
}

void
nap_metric_remove(struct nap_metric *f, ...)
{
	struct series *s;
	va_list ap;

	if (!f)
		return;
	pthread_mutex_lock(&f->reg->mu);
	va_start(ap, f);
	s = series_get(f, ap);
	va_end(ap);
	nap_hash_del(&f->by_key, s->key);
	series_free(s, f->nlabels);
	pthread_mutex_unlock(&f->reg->mu);
}

void
nap_metrics_on_collect(struct nap_metrics *m, void (*fn)(void *arg), void *arg)
{
	if (!m || !fn)
		return;
	pthread_mutex_lock(&m->mu);
	if (m->ncollect < NAP_ARRAY_LEN(m->collect)) {
		m->collect[m->ncollect].fn = fn;
		m->collect[m->ncollect].arg = arg;
		m->ncollect++;
	}
	pthread_mutex_unlock(&m->mu);
}

double
nap_metric_value(struct nap_metric *f, ...)
{
	struct series *s;
	va_list ap;
	double v;

	if (!f)
		return 0;
	pthread_mutex_lock(&f->reg->mu);
	va_start(ap, f);
	s = series_get(f, ap);
	va_end(ap);
	v = f->type == NAP_METRIC_HISTOGRAM ? (double)s->count : s->value;
	pthread_mutex_unlock(&f->reg->mu);
	return v;
}

/* ---- rendering ---- */

struct buf {
	char *p;
	size_t len, alloc;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	nap_xgrow(&b->p, &b->alloc, b->len + n + 1, 1);
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* s escaped: always \\ and \n; \" too inside label values. */
static void
put_escaped(struct buf *b, const char *s, int quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(b, "\\\\");
		else if (*s == '\n')
			puts_(b, "\\n");
		else if (quote && *s == '"')
			puts_(b, "\\\"");
		else
			put(b, s, 1);
	}
}

static void
format_value(double v, char *out, size_t size)
{
	if (isnan(v))
		snprintf(out, size, "NaN");
	else if (isinf(v))
		snprintf(out, size, "%sInf", v > 0 ? "+" : "-");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(out, size, "%.0f", v);
	else {
		/* The shortest form that reads back as v: 0.1, not 0.10000000000000001. */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(out, size, "%.*g", prec, v);
			if (strtod(out, NULL) == v)
				break;
		}
	}
}

static void
put_value(struct buf *b, double v)
{
	char num[64];

	format_value(v, num, sizeof(num));
	puts_(b, num);
}

/* name{l1="v1",...[,le="x"]} */
static void
put_series_name(struct buf *b, const struct nap_metric *f, const struct series *s,
    const char *suffix, const char *le)
{
	puts_(b, f->name);
	puts_(b, suffix);
	if (!f->nlabels && !le)
		return;
	puts_(b, "{");
	for (size_t i = 0; i < f->nlabels; i++) {
		if (i)
			puts_(b, ",");
		puts_(b, f->labels[i]);
		puts_(b, "=\"");
		put_escaped(b, s->values[i], 1);
		puts_(b, "\"");
	}
	if (le) {
		if (f->nlabels)
			puts_(b, ",");
		puts_(b, "le=\"");
		puts_(b, le);
		puts_(b, "\"");
	}
	puts_(b, "}");
}

static void
render_series(struct buf *b, const struct nap_metric *f, const struct series *s)
{
	if (f->type != NAP_METRIC_HISTOGRAM) {
		put_series_name(b, f, s, "", NULL);
		puts_(b, " ");
		put_value(b, s->value);
		puts_(b, "\n");
		return;
	}
	{
		unsigned long long cum = 0;
		char le[64];

		for (size_t i = 0; i <= f->nbuckets; i++) {
			cum += s->counts[i];
			if (i < f->nbuckets)
				format_value(f->buckets[i], le, sizeof(le));
			else
				snprintf(le, sizeof(le), "+Inf");
			put_series_name(b, f, s, "_bucket", le);
			puts_(b, " ");
			put_value(b, (double)cum);
			puts_(b, "\n");
		}
		put_series_name(b, f, s, "_sum", NULL);
		puts_(b, " ");
		put_value(b, s->value);
		puts_(b, "\n");
		put_series_name(b, f, s, "_count", NULL);
		puts_(b, " ");
		put_value(b, (double)s->count);
		puts_(b, "\n");
	}
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(
	    (*(struct nap_metric *const *)a)->name, (*(struct nap_metric *const *)b)->name);
}

/* Label values compare one by one, so "a" < "a\x1fb" does not depend on the separator. */
static int
by_labels(const void *a, const void *b, void *arg)
{
	const struct series *x = *(struct series *const *)a, *y = *(struct series *const *)b;
	const size_t *n = arg;

	for (size_t i = 0; i < *n; i++) {
		int c = strcmp(x->values[i], y->values[i]);

		if (c)
			return c;
	}
	return 0;
}

static const char *const type_names[] = {"counter", "gauge", "histogram"};

char *
nap_metrics_render(struct nap_metrics *m, size_t *len)
{
	struct buf b = {NULL, 0, 0};
	struct nap_metric **fams;

	size_t ncollect;

	put(&b, "", 0);
	if (!m) {
		if (len)
			*len = 0;
		return b.p;
	}
	pthread_mutex_lock(&m->mu);
	ncollect = m->ncollect;
	pthread_mutex_unlock(&m->mu);
	/* set once before the threads start, only read after */
	for (size_t i = 0; i < ncollect; i++)
		m->collect[i].fn(m->collect[i].arg);
	pthread_mutex_lock(&m->mu);
	fams = nap_xcalloc(m->n + 1, sizeof(*fams));
	memcpy(fams, m->fams, m->n * sizeof(*fams));
	qsort(fams, m->n, sizeof(*fams), by_name);
	for (size_t i = 0; i < m->n; i++) {
		struct nap_metric *f = fams[i];
		size_t n = nap_hash_count(&f->by_key), k = 0, pos = 0;
		struct series **ss = nap_xcalloc(n + 1, sizeof(*ss));
		const char *key;
		void *v;

		puts_(&b, "# HELP ");
		puts_(&b, f->name);
		puts_(&b, " ");
		put_escaped(&b, f->help, 0);
		puts_(&b, "\n# TYPE ");
		puts_(&b, f->name);
		puts_(&b, " ");
		puts_(&b, type_names[f->type]);
		puts_(&b, "\n");
		while (nap_hash_next(&f->by_key, &pos, &key, &v))
			ss[k++] = v;
		qsort_r(ss, k, sizeof(*ss), by_labels, &f->nlabels);
		if (!k && !f->nlabels) {
			struct series zero = {NULL, NULL, 0, NULL, 0};

			zero.counts = nap_xcalloc(f->nbuckets + 1, sizeof(*zero.counts));
			render_series(&b, f, &zero);
			free(zero.counts);
		}
		for (size_t j = 0; j < k; j++)
			render_series(&b, f, ss[j]);
		free(ss);
	}
	pthread_mutex_unlock(&m->mu);
	free(fams);
	if (len)
		*len = b.len;
	return b.p;
}

int
nap_metrics_write_file(struct nap_metrics *m, const char *path, struct nap_err *err)
{
	size_t len, off = 0;
	char *text = nap_metrics_render(m, &len);
	char *tmp = nap_xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd, e = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		e = errno;
		goto fail;
	}
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			e = w < 0 ? errno : EIO;
			break;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) != 0)
		e = errno;
	if (e)
		unlink(tmp);
fail:
	free(text);
	free(tmp);
	if (e)
		return nap_err_set(
		    err, NAP_EX_IOERR, "unable to write metrics file %s: %s", path, strerror(e));
	return 0;
}
