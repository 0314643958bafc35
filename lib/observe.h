/*
 * observe.h - what every long-running nap tool shares to be observed: one
 * metrics registry with the records counters all tools export, the textfile
 * written every few seconds from a thread (and once more at the end), the
 * optional HTTP endpoint, and the counters of a tool's events client.
 *
 * The tool keeps its own metrics in the same registry (nap_obs_metrics) and
 * decides what its records mean; this module only counts them by type
 * (nap_records_read_total, nap_records_written_total,
 * nap_records_malformed_total) with the type folded to "other" when it is
 * not one of nap-records(5)'s, so a stray stream cannot grow the series
 * without bound.
 *
 * Errors: nap_obs_new fails (NULL, err) when the endpoint cannot listen or the
 * first textfile cannot be written, so a bad path is found at start.  Later
 * write failures go to on_error (from the writer thread), once until a
 * write succeeds again.
 */
#ifndef NAP_OBSERVE_H
#define NAP_OBSERVE_H

#include <stdint.h>

#include "events.h"
#include "metrics.h"
#include "nap.h"

struct nap_obs_opts {
	const char *prog;     /* the tool, e.g. "nap-launch" */
	const char *textfile; /* path, or NULL / "" for none */
	const char *listen;   /* address for nap_metrics_serve, or NULL / "" */
	int64_t interval_ms;  /* between textfile writes; 0 = 5 s */
	void (*on_error)(void *arg, const char *msg);
	void *arg;
};

struct nap_obs;

/*
 * The textfile to write: the --metrics-file flag when given, else
 * dir/prog.prom when nap.conf(5) names metrics.textfileDirectory, else NULL.
 * Caller frees.
 */
char *nap_obs_textfile(const char *flag, const char *dir, const char *prog);

struct nap_obs *nap_obs_new(const struct nap_obs_opts *o, struct nap_err *err);
/*
 * Take --metrics-file or --metrics-listen (name as the tool's getopt gives
 * it, dashes or not; arg is kept, not copied) into o: 1 when it was one.
 */
int nap_obs_option(struct nap_obs_opts *o, const char *name, const char *arg);
/* 1 when o or dir asks for metrics at all (a textfile or an endpoint). */
int nap_obs_wanted(const struct nap_obs_opts *o, const char *dir);
/* nap_obs_new, the textfile being o's, else dir/prog.prom (see nap_obs_textfile). */
struct nap_obs *nap_obs_open(const struct nap_obs_opts *o, const char *dir, struct nap_err *err);
struct nap_metrics *nap_obs_metrics(struct nap_obs *obs);
/* The port the endpoint listens on (0: none). */
int nap_obs_port(const struct nap_obs *obs);
/*
 * An events client on a kube client of its own, made as nap_kube_open makes
 * the tool's (flags, then nap.conf, then the defaults).  NULL and err when
 * the kubeconfig cannot be used.
 */
struct nap_config;
struct nap_events *nap_obs_start_events(const struct nap_config *cfg, const char *kubeconfig,
    const char *context, const struct nap_events_opts *o, struct nap_err *err);
/* Export e's counters as nap_events_total{result} at each collection. */
void nap_obs_events(struct nap_obs *obs, struct nap_events *e);

/* A record of this type was read, or a malformed line skipped. */
void nap_obs_read(struct nap_obs *obs, const char *type);
void nap_obs_malformed(struct nap_obs *obs);
/* A record of this type was written (the tool's own, not forwarded ones). */
void nap_obs_written(struct nap_obs *obs, const char *type);

/*
 * Copy the answers h has had (nap_http_answers) into
 * nap_http_responses_total{api,code}, code "2xx" ... or "error"; on the
 * thread that drives h.
 */
struct nap_http;
void nap_obs_http(struct nap_obs *obs, const char *api, const struct nap_http *h);

/* Write the textfile now (if there is one). */
int nap_obs_flush(struct nap_obs *obs, struct nap_err *err);
/* Stop the thread and the endpoint, write the textfile a last time.  NULL is fine. */
void nap_obs_free(struct nap_obs *obs);

#endif
