/*
 * metrics.h - Prometheus metrics: counters, gauges and histograms with
 * labels, rendered in the text exposition format 0.0.4, written as a
 * node_exporter textfile-collector file or served over HTTP.
 *
 * A registry (struct nap_metrics) owns its families; a family (struct
 * nap_metric) is one metric name with fixed label names and owns its
 * series, one per distinct tuple of label values, created on first use.
 * Label values are passed as varargs, exactly as many as the family has
 * label names, each a string (NULL counts as "").
 *
 * Output is deterministic: families sorted by name, series by their label
 * values, HELP text escaped (\\ and \n), label values escaped (\\, \" and
 * \n), numbers printed exactly (integers without a fraction, +Inf, -Inf,
 * NaN).  A labelled family with no series yet prints only HELP and TYPE; an
 * unlabelled one prints its zero.
 *
 * Threads: every call takes the registry's mutex, so a server thread may
 * render while the tool updates.
 *
 * Errors: registering a bad name (not [a-zA-Z_:][a-zA-Z0-9_:]*), a bad label
 * name, or a name already taken with another type or labels returns NULL
 * and fills err (NAP_EX_SOFTWARE: these are constants in the code).
 * Registering the same name with the same type and labels returns the
 * existing family.  Updates never fail; a NULL family is ignored, so a tool
 * may run with metrics off by not creating a registry.
 */
#ifndef NAP_METRICS_H
#define NAP_METRICS_H

#include <stddef.h>

#include "nap.h"

enum nap_metric_type {
	NAP_METRIC_COUNTER,
	NAP_METRIC_GAUGE,
	NAP_METRIC_HISTOGRAM,
};

struct nap_metrics;
struct nap_metric;

struct nap_metrics *nap_metrics_new(void);
void nap_metrics_free(struct nap_metrics *m);

/*
 * Register a family.  labels: label names, comma-separated ("reason,nodepool"),
 * or NULL / "" for none.  buckets: a histogram's upper bounds, strictly
 * increasing and finite (the +Inf bucket is implied), nbuckets of them; NULL
 * means nap_metrics_default_buckets.  m NULL returns NULL without error.
 */
struct nap_metric *nap_metrics_add(struct nap_metrics *m, enum nap_metric_type type,
    const char *name, const char *help, const char *labels, const double *buckets, size_t nbuckets,
    struct nap_err *err);

/* Prometheus' default buckets: .005 .01 .025 .05 .1 .25 .5 1 2.5 5 10. */
extern const double nap_metrics_default_buckets[11];

/* Counters: add v (v < 0 and NaN are ignored: a counter only goes up). */
void nap_metric_inc(struct nap_metric *f, ...);
void nap_metric_add(struct nap_metric *f, double v, ...);
/* Gauges: set to v.  Counters too, to copy a count kept elsewhere. */
void nap_metric_set(struct nap_metric *f, double v, ...);
/* Histograms: one observation. */
void nap_metric_observe(struct nap_metric *f, double v, ...);
/*
 * Gauges: forget every series, so a gauge recomputed from the whole state
 * (pods by phase) does not keep label values that no longer occur.
 */
void nap_metric_reset(struct nap_metric *f);
/* Forget one series (a pod that is gone), if it exists. */
void nap_metric_remove(struct nap_metric *f, ...);
/* The value of a series (counter, gauge; a histogram's count), 0 if none. */
double nap_metric_value(struct nap_metric *f, ...);

/*
 * Add fn(arg) to run before each rendering, outside the registry's lock, so
 * that values kept elsewhere (a queue's length) can be copied in; up to 4 a
 * registry, added before any thread renders.  It may run on the server's
 * thread.
 */
void nap_metrics_on_collect(struct nap_metrics *m, void (*fn)(void *arg), void *arg);

/* The whole registry in the text format; caller frees, *len its length. */
char *nap_metrics_render(struct nap_metrics *m, size_t *len);

/*
 * Write the text format to path through a temporary file in the same
 * directory (path + ".tmp.PID", which the textfile collector ignores) renamed
 * over it, so a reader never sees half a file.  Mode 0644.  -1 and err
 * (NAP_EX_IOERR, naming the file) when it cannot.
 */
int nap_metrics_write_file(struct nap_metrics *m, const char *path, struct nap_err *err);

/*
 * Serve GET /metrics on addr from a thread of libmicrohttpd: "HOST:PORT",
 * "[V6]:PORT" or ":PORT"/"PORT" (then 127.0.0.1: loopback unless asked).
 * Port 0 takes a free one (see nap_metrics_server_port).  Other paths are
 * 404, other methods 405.  NULL and err (NAP_EX_USAGE for a bad address,
 * NAP_EX_UNAVAILABLE when it cannot listen).
 */
struct nap_metrics_server;
struct nap_metrics_server *nap_metrics_serve(
    struct nap_metrics *m, const char *addr, struct nap_err *err);
int nap_metrics_server_port(const struct nap_metrics_server *s);
/* The address it listens on, without the port ("127.0.0.1", "::1"). */
const char *nap_metrics_server_host(const struct nap_metrics_server *s);
/* Stop serving (waits for a scrape in progress); NULL is fine. */
void nap_metrics_server_free(struct nap_metrics_server *s);

#endif
