/*
 * observe.c - the registry, textfile thread and endpoint every tool shares
 * (contract in observe.h).
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "http.h"
#include "kube.h"
#include "observe.h"
#include "prog.h"
#include "thread.h"

/* nap-records(5)'s types; anything else counts as "other". */
static const char *const known_types[] = {"ADDED", "BOOKMARK", "DELETED", "Disruption", "Drifted",
    "Initialized", "LaunchFailed", "LaunchRequest", "Launched", "MODIFIED", "Nominated",
    "OfferingUnavailable", "Registered", "SYNCED", "Unschedulable", NULL};

struct nap_obs {
	char *prog, *textfile;
	struct nap_metrics *m;
	struct nap_metrics_server *srv;
	struct nap_metric *read, *written, *malformed, *events, *info, *http;
	struct nap_events *ev;
	void (*on_error)(void *arg, const char *msg);
	void *arg;
	int64_t interval_ms;
	pthread_t thread;
	int have_thread, stop, failing;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static const char *
fold(const char *type)
{
	for (size_t i = 0; type && known_types[i]; i++)
		if (strcmp(known_types[i], type) == 0)
			return type;
	return "other";
}

static void
collect(void *arg)
{
	struct nap_obs *obs = arg;
	struct nap_events_stats st;
	struct nap_events *ev;

	pthread_mutex_lock(&obs->mu);
	ev = obs->ev;
	pthread_mutex_unlock(&obs->mu);
	if (!ev)
		return;
	nap_events_stats(ev, &st);
	nap_metric_set(obs->events, (double)st.posted, "posted");
	nap_metric_set(obs->events, (double)st.updated, "updated");
	nap_metric_set(obs->events, (double)st.duplicate, "duplicate");
	nap_metric_set(obs->events, (double)st.throttled, "throttled");
	nap_metric_set(obs->events, (double)st.overflow, "overflow");
	nap_metric_set(obs->events, (double)st.failed, "failed");
}

static void *
writer(void *arg)
{
	struct nap_obs *obs = arg;
	struct nap_err err;

	pthread_mutex_lock(&obs->mu);
	while (!obs->stop) {
		struct timespec at;

		nap_thread_deadline(&at, (long)obs->interval_ms);
		while (!obs->stop && pthread_cond_timedwait(&obs->cv, &obs->mu, &at) != ETIMEDOUT)
			;
		if (obs->stop)
			break;
		pthread_mutex_unlock(&obs->mu);
		if (nap_obs_flush(obs, &err) != 0) {
			if (!obs->failing && obs->on_error)
				obs->on_error(obs->arg, err.msg);
			obs->failing = 1;
		} else {
			obs->failing = 0;
		}
		pthread_mutex_lock(&obs->mu);
	}
	pthread_mutex_unlock(&obs->mu);
	return NULL;
}

struct nap_obs *
nap_obs_new(const struct nap_obs_opts *o, struct nap_err *err)
{
	struct nap_obs *obs = nap_xcalloc(1, sizeof(*obs));

	obs->prog = nap_xstrdup(o->prog ? o->prog : "nap");
	obs->textfile = o->textfile && *o->textfile ? nap_xstrdup(o->textfile) : NULL;
	obs->on_error = o->on_error;
	obs->arg = o->arg;
	obs->interval_ms = o->interval_ms > 0 ? o->interval_ms : 5000;
	pthread_mutex_init(&obs->mu, NULL);
	pthread_cond_init(&obs->cv, NULL);
	obs->m = nap_metrics_new();
	obs->read = nap_metrics_add(obs->m, NAP_METRIC_COUNTER, "nap_records_read_total",
	    "Records read, by type (\"other\": a type nap-records(5) does not list).", "type", NULL,
	    0, NULL);
	obs->written = nap_metrics_add(obs->m, NAP_METRIC_COUNTER, "nap_records_written_total",
	    "Records this tool wrote, by type (forwarded records are not counted).", "type", NULL,
	    0, NULL);
	obs->malformed = nap_metrics_add(obs->m, NAP_METRIC_COUNTER, "nap_records_malformed_total",
	    "Input lines skipped as malformed.", NULL, NULL, 0, NULL);
	obs->events = nap_metrics_add(obs->m, NAP_METRIC_COUNTER, "nap_events_total",
	    "Kubernetes Events by what became of them (posted, updated, duplicate, throttled, "
	    "overflow, failed).",
	    "result", NULL, 0, NULL);
	obs->http = nap_metrics_add(obs->m, NAP_METRIC_COUNTER, "nap_http_responses_total",
	    "Requests to the Kubernetes API (api=\"kube\") and to Azure (api=\"arm\", its token "
	    "endpoint included) by the class of their answer, or \"error\" for none.",
	    "api,code", NULL, 0, NULL);
	obs->info = nap_metrics_add(obs->m, NAP_METRIC_GAUGE, "nap_build_info",
	    "Always 1; the tool and its version as labels.", "tool,version", NULL, 0, NULL);
	nap_metric_set(obs->info, 1, obs->prog, NAP_VERSION);
	nap_metrics_on_collect(obs->m, collect, obs);
	if (o->listen && *o->listen) {
		obs->srv = nap_metrics_serve(obs->m, o->listen, err);
		if (!obs->srv)
			goto fail;
	}
	if (obs->textfile) {
		if (nap_obs_flush(obs, err) != 0)
			goto fail;
		if (nap_thread_create(&obs->thread, writer, obs) != 0) {
			nap_err_set(err, NAP_EX_SOFTWARE, "unable to start the metrics thread");
			goto fail;
		}
		obs->have_thread = 1;
	}
	return obs;
fail:
	free(obs->textfile);
	obs->textfile = NULL;
	nap_obs_free(obs);
	return NULL;
}

char *
nap_obs_textfile(const char *flag, const char *dir, const char *prog)
{
	if (flag && *flag)
		return nap_xstrdup(flag);
	if (dir && *dir)
		return nap_xasprintf("%s/%s.prom", dir, prog);
	return NULL;
}

int
nap_obs_option(struct nap_obs_opts *o, const char *name, const char *arg)
{
	while (*name == '-')
		name++;
	if (strcmp(name, "metrics-file") == 0)
		o->textfile = arg;
	else if (strcmp(name, "metrics-listen") == 0)
		o->listen = arg;
	else
		return 0;
	return 1;
}

int
nap_obs_wanted(const struct nap_obs_opts *o, const char *dir)
{
	return (o->textfile && *o->textfile) || (o->listen && *o->listen) || (dir && *dir);
}

struct nap_obs *
nap_obs_open(const struct nap_obs_opts *o, const char *dir, struct nap_err *err)
{
	struct nap_obs_opts oo = *o;
	char *file = nap_obs_textfile(o->textfile, dir, o->prog ? o->prog : "nap");
	struct nap_obs *obs;

	oo.textfile = file;
	obs = nap_obs_new(&oo, err);
	free(file);
	return obs;
}

struct nap_metrics *
nap_obs_metrics(struct nap_obs *obs)
{
	return obs ? obs->m : NULL;
}

int
nap_obs_port(const struct nap_obs *obs)
{
	return obs ? nap_metrics_server_port(obs->srv) : 0;
}

struct nap_events *
nap_obs_start_events(const struct nap_config *cfg, const char *kubeconfig, const char *context,
    const struct nap_events_opts *o, struct nap_err *err)
{
	struct nap_kube *k = nap_kube_open(cfg, kubeconfig, context, NULL, err);
	struct nap_events *e;

	if (!k)
		return NULL;
	e = nap_events_new(k, o, err);
	if (!e)
		nap_kube_free(k);
	return e;
}

void
nap_obs_events(struct nap_obs *obs, struct nap_events *e)
{
	if (!obs)
		return;
	pthread_mutex_lock(&obs->mu);
	obs->ev = e;
	pthread_mutex_unlock(&obs->mu);
}

void
nap_obs_read(struct nap_obs *obs, const char *type)
{
	if (obs)
		nap_metric_inc(obs->read, fold(type));
}

void
nap_obs_malformed(struct nap_obs *obs)
{
	if (obs)
		nap_metric_inc(obs->malformed);
}

void
nap_obs_written(struct nap_obs *obs, const char *type)
{
	if (obs)
		nap_metric_inc(obs->written, fold(type));
}

void
nap_obs_http(struct nap_obs *obs, const char *api, const struct nap_http *h)
{
	static const char *const codes[6] = {"error", "1xx", "2xx", "3xx", "4xx", "5xx"};
	unsigned long n[6];

	if (!obs || !h)
		return;
	nap_http_answers(h, n);
	for (size_t i = 0; i < 6; i++)
		if (n[i])
			nap_metric_set(obs->http, (double)n[i], api, codes[i]);
}

int
nap_obs_flush(struct nap_obs *obs, struct nap_err *err)
{
	if (!obs || !obs->textfile)
		return 0;
	return nap_metrics_write_file(obs->m, obs->textfile, err);
}

void
nap_obs_free(struct nap_obs *obs)
{
	struct nap_err err;

	if (!obs)
		return;
	if (obs->have_thread) {
		pthread_mutex_lock(&obs->mu);
		obs->stop = 1;
		pthread_cond_broadcast(&obs->cv);
		pthread_mutex_unlock(&obs->mu);
		pthread_join(obs->thread, NULL);
	}
	nap_metrics_server_free(obs->srv);
	if (obs->textfile && nap_obs_flush(obs, &err) != 0 && obs->on_error)
		obs->on_error(obs->arg, err.msg);
	nap_metrics_free(obs->m);
	pthread_mutex_destroy(&obs->mu);
	pthread_cond_destroy(&obs->cv);
	free(obs->textfile);
	free(obs->prog);
	free(obs);
}
