/*
 * watch.h - the parts of nap-watch: a table of the kinds it can mirror, one
 * informer per kind (list, then watch, relist on 410) multiplexed on one
 * lib/http pool, and the --slim trimming of objects.
 *
 * The informers print records themselves (nap_emit) and die through
 * nap_die_err on what no retry can fix (401/403, bad TLS configuration, the
 * retry budget spent); main() only sets them up and drives the pool.
 */
#ifndef NAP_WATCH_H
#define NAP_WATCH_H

#include <stdint.h>

#include <json-c/json.h>

#include "hash.h"
#include "http.h"
#include "kube.h"

struct watch_kind {
	const char *name; /* as in --kinds: the resource plural */
	const char *path; /* collection path, all namespaces */
	const char *api_version;
	const char *kind;
	int by_default;
};

extern const struct watch_kind watch_kinds[];
const struct watch_kind *watch_kind_find(const char *name);

struct watch_opts {
	int once;
	int slim;
	long page_size;
	int retries;	      /* consecutive failures a kind may have */
	int64_t retry_ms;     /* ... or this long unreachable; 0 = no limit */
	long watch_timeout_s; /* 0 = 5 to 10 minutes, jittered */
};

enum watch_phase {
	PHASE_WAIT, /* idle until wake_ms, then list or watch */
	PHASE_LIST,
	PHASE_WATCH,
	PHASE_DONE, /* --once: listed */
};

struct informer {
	const struct watch_kind *def;
	const struct watch_opts *opts;
	struct nap_kube *kube;
	enum watch_phase phase;
	int need_list;	      /* next start is a (re)list */
	struct nap_hash objs; /* uid -> struct watch_obj */
	/* during a relist: "ns/name" -> uid (owned) of the objects the last list had */
	struct nap_hash relist_names;
	unsigned gen; /* list generation, to find what vanished */
	unsigned long item;   /* index of the next item in the list being read */
	char *rv;	      /* last resourceVersion seen */
	char *cont;	      /* continue token of the list in progress */
	int synced;	      /* listed at least once */
	int just_listed;      /* a list finished: SYNCED is due */
	int just_relisted;    /* no watch data since the last list */
	int gone;	      /* 410s right after a list, in a row */
	int not_served;	      /* the API server has no such resource (404) */
	struct nap_http_req *req;
	char *buf; /* watch stream bytes not yet a whole line */
	size_t len, alloc;
	int relist_now;	  /* the stream said 410 */
	int stream_error; /* the stream carried an ERROR event */
	int stream_data;  /* the stream delivered something */
	int fails;
	int64_t first_fail_ms;
	int64_t wake_ms;
	int auth_retried;
	unsigned long events;
	struct json_tokener *tok;
};

struct watch_obj {
	char *rv;
	char *ns;
	char *name;
	unsigned gen;
};

int64_t watch_now_ms(void);
void informer_init(struct informer *in, const struct watch_kind *def, const struct watch_opts *o,
    struct nap_kube *kube);
void informer_free(struct informer *in);
/* Start the next request when its time has come. */
void informer_tick(struct informer *in, int64_t now);
/* A request of this informer finished. */
void informer_done(struct informer *in, struct nap_http_req *req);

/* Release what printing records keeps between records. */
void watch_emit_free(void);

/* Drop managedFields (always) and, with slim, the fields no nap tool reads. */
void watch_trim(json_object *obj, int slim);

#endif
