/*
 * watch.c - watch streams: each open watch has a filter (resource,
 * namespace, label and field selectors) and a buffer of encoded events the
 * HTTP side drains.  Every stored change is serialised once and appended to
 * every matching watch; a change that makes an object enter or leave a
 * selector arrives as ADDED or DELETED, as the real API server sends it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "json.h"
#include "prog.h"

/* A watcher this far behind is cut off, as the API server drops slow ones. */
#define WATCH_MAX_PENDING (64u << 20)
#define BOOKMARK_EVERY 60.0

struct sim_watch {
	struct sim_watch *prev, *next;
	struct sim *sim;
	int res;
	char *ns;
	struct sim_lsel *lsel;
	struct sim_fsel *fsel;
	int bookmarks;
	double deadline, next_bookmark;
	char *buf;
	size_t len, off, alloc;
	int ended; /* 1 = end cleanly when drained, 2 = cut off */
	int started;
	void *conn;
	void (*wake)(void *conn);
	int waiting;
	int dirty;
	int table; /* events carry Tables (kubectl get -w) */
	int headers_sent;
};

static void append(struct sim_watch *w, const char *s, size_t n);

void
sim_watch_set_table(struct sim_watch *w)
{
	w->table = 1;
}

/* One event as a one-row Table; column definitions only in the first. */
static void
append_table_event(struct sim_watch *w, const char *type, json_object *obj)
{
	json_object *items = json_object_new_array(), *t, *ev;
	const char *s;
	size_t n;

	json_object_array_add(items, json_object_get(obj));
	t = sim_table_of(w->res, items, nap_json_str(obj, "metadata.resourceVersion", ""), NULL);
	json_object_put(items);
	if (w->headers_sent)
		json_object_object_add(t, "columnDefinitions", json_object_new_array());
	w->headers_sent = 1;
	ev = json_object_new_object();
	json_object_object_add(ev, "type", json_object_new_string(type));
	json_object_object_add(ev, "object", t);
	s = nap_json_line(ev, &n);
	append(w, s, n);
	append(w, "\n", 1);
	json_object_put(ev);
}

static int
matches(const struct sim_watch *w, json_object *obj)
{
	const char *ns;

	if (!obj)
		return 0;
	if (w->ns) {
		ns = nap_json_str(obj, "metadata.namespace", "");
		if (strcmp(ns, w->ns))
			return 0;
	}
	return sim_lsel_match(w->lsel, obj) && sim_fsel_match(w->fsel, obj);
}

static void
wake(struct sim_watch *w)
{
	if (w->waiting && w->wake) {
		w->waiting = 0;
		w->wake(w->conn);
	}
}

static void
append(struct sim_watch *w, const char *s, size_t n)
{
	if (w->ended)
		return;
	if (w->len - w->off + n > WATCH_MAX_PENDING) {
		w->ended = 2;
		wake(w);
		return;
	}
	if (w->off && w->off == w->len)
		w->off = w->len = 0;
	nap_xgrow(&w->buf, &w->alloc, w->len + n + 1, 1);
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	/* Woken in sim_watch_flush: one resume per batch, not per event. */
	w->dirty = 1;
	w->sim->watch_dirty = 1;
}

/*
 * Resuming a parked connection costs system calls (an eventfd write, epoll
 * changes); under a write storm it dominated.  Events are appended at once
 * and the parked watchers woken at most every FLUSH_EVERY, which bounds the
 * added fan-out latency.
 */
#define FLUSH_EVERY 0.001

double
sim_watch_flush(struct sim *sim, int force)
{
	struct sim_watch *w;
	double now = sim_now(sim);

	if (!sim->watch_dirty)
		return -1;
	if (!force && now - sim->watch_flushed < FLUSH_EVERY)
		return sim->watch_flushed + FLUSH_EVERY;
	sim->watch_dirty = 0;
	sim->watch_flushed = now;
	for (w = sim->watches; w; w = w->next)
		if (w->dirty) {
			w->dirty = 0;
			wake(w);
		}
	return -1;
}

static void
append_event(struct sim_watch *w, const char *type, json_object *obj)
{
	size_t n;
	const char *s = nap_json_line(obj, &n);
	char head[64];
	int hn;

	if (w->table && strcmp(type, "ERROR")) {
		append_table_event(w, type, obj);
		return;
	}
	hn = snprintf(head, sizeof(head), "{\"type\":\"%s\",\"object\":", type);

	append(w, head, (size_t)hn);
	append(w, s, n);
	append(w, "}\n", 2);
}

/* Lines built once per change and shared by every watch. */
struct lines {
	char *s[3];
	size_t n[3];
};

static const char *
line_for(struct lines *l, int type, json_object *obj, size_t *n)
{
	if (!l->s[type]) {
		size_t on;
		const char *os = nap_json_line(obj, &on);

		l->s[type] = nap_xasprintf(
		    "{\"type\":\"%s\",\"object\":%.*s}\n", sim_ev_names[type], (int)on, os);
		l->n[type] = strlen(l->s[type]);
	}
	*n = l->n[type];
	return l->s[type];
}

static void
deliver(struct sim_watch *w, const struct sim_event *ev, struct lines *l)
{
	int now = matches(w, ev->obj), before;
	int type = ev->type;
	const char *s;
	size_t n;

	if (ev->type == SIM_EV_MODIFIED) {
		before = matches(w, ev->old);
		if (!now && !before)
			return;
		if (now && !before)
			type = SIM_EV_ADDED;
		else if (!now)
			type = SIM_EV_DELETED;
	} else if (!now) {
		return;
	}
	if (w->table) {
		append_table_event(w, sim_ev_names[type], ev->obj);
		return;
	}
	s = line_for(l, type, ev->obj, &n);
	append(w, s, n);
}

void
sim_watch_event(struct sim *sim, const struct sim_event *ev)
{
	struct lines l = {{NULL, NULL, NULL}, {0, 0, 0}};
	struct sim_watch *w;
	int i;

	for (w = sim->watches; w; w = w->next)
		if (w->started && w->res == ev->res)
			deliver(w, ev, &l);
	for (i = 0; i < 3; i++)
		free(l.s[i]);
}

struct sim_watch *
sim_watch_new(struct sim *sim, int res, const char *ns, struct sim_lsel *lsel,
    struct sim_fsel *fsel, int bookmarks, double timeout)
{
	struct sim_watch *w = nap_xcalloc(1, sizeof(*w));

	w->sim = sim;
	w->res = res;
	w->ns = ns && *ns ? nap_xstrdup(ns) : NULL;
	w->lsel = lsel;
	w->fsel = fsel;
	w->bookmarks = bookmarks;
	w->deadline = sim_now(sim) + timeout;
	w->next_bookmark = sim_now(sim) + BOOKMARK_EVERY;
	w->next = sim->watches;
	if (sim->watches)
		sim->watches->prev = w;
	sim->watches = w;
	return w;
}

static void
send_status_error(struct sim_watch *w, int code, const char *reason, const char *msg)
{
	json_object *st = json_object_new_object();

	json_object_object_add(st, "kind", json_object_new_string("Status"));
	json_object_object_add(st, "apiVersion", json_object_new_string("v1"));
	json_object_object_add(st, "metadata", json_object_new_object());
	json_object_object_add(st, "status", json_object_new_string("Failure"));
	json_object_object_add(st, "message", json_object_new_string(msg));
	json_object_object_add(st, "reason", json_object_new_string(reason));
	json_object_object_add(st, "code", json_object_new_int(code));
	append_event(w, "ERROR", st);
	json_object_put(st);
	w->ended = 1;
}

int
sim_watch_start(struct sim *sim, struct sim_watch *w, const char *rvs, struct nap_err *err)
{
	unsigned long long rv;
	char *end;
	size_t i;

	w->started = 1;
	if (!rvs || !*rvs || !strcmp(rvs, "0")) {
		struct sim_table *t = sim_table(sim, w->res);

		for (i = 0; i < t->n; i++)
			if (matches(w, t->v[i].obj))
				append_event(w, "ADDED", t->v[i].obj);
		return 0;
	}
	rv = strtoull(rvs, &end, 10);
	if (*end || end == rvs)
		return sim_err_status(err, 400, "invalid resource version: %s", rvs);
	if (rv < sim->horizon) {
		char msg[128];

		snprintf(
		    msg, sizeof(msg), "too old resource version: %llu (%llu)", rv, sim->horizon);
		if (sim->opts.watch_410_http)
			return sim_err_status(err, 410, "%s", msg);
		send_status_error(w, 410, "Expired", msg);
		return 0;
	}
	for (i = 0; i < sim->hist_n; i++) {
		const struct sim_event *ev = &sim->hist[(sim->hist_start + i) % sim->hist_cap];
		struct lines l = {{NULL, NULL, NULL}, {0, 0, 0}};
		int k;

		if (ev->rv <= rv || ev->res != w->res)
			continue;
		deliver(w, ev, &l);
		for (k = 0; k < 3; k++)
			free(l.s[k]);
	}
	return 0;
}

static void
bookmark(struct sim *sim, struct sim_watch *w)
{
	const struct sim_rdesc *d = &sim_rdescs[w->res];
	char line[512];
	int n;

	n = snprintf(line, sizeof(line),
	    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s%s%s\","
	    "\"metadata\":{\"resourceVersion\":\"%llu\"}}}\n",
	    d->kind, d->group, *d->group ? "/" : "", d->version, sim->rv);
	append(w, line, (size_t)n);
}

/* The end of a watch-list's initial events (sendInitialEvents=true). */
void
sim_watch_initial_end(struct sim *sim, struct sim_watch *w)
{
	const struct sim_rdesc *d = &sim_rdescs[w->res];
	char line[640];
	int n;

	n = snprintf(line, sizeof(line),
	    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"%s\",\"apiVersion\":\"%s%s%s\","
	    "\"metadata\":{\"resourceVersion\":\"%llu\",\"annotations\":"
	    "{\"k8s.io/initial-events-end\":\"true\"}}}}\n",
	    d->kind, d->group, *d->group ? "/" : "", d->version, sim->rv);
	append(w, line, (size_t)n);
}

void
sim_watch_tick(struct sim *sim)
{
	struct sim_watch *w;
	double now = sim_now(sim);

	for (w = sim->watches; w; w = w->next) {
		if (w->ended)
			continue;
		if (now >= w->deadline) {
			if (w->bookmarks)
				bookmark(sim, w);
			w->ended = 1;
			wake(w);
		} else if (w->bookmarks && now >= w->next_bookmark) {
			bookmark(sim, w);
			w->next_bookmark = now + BOOKMARK_EVERY;
		}
	}
}

void
sim_watch_drop_all(struct sim *sim)
{
	struct sim_watch *w;

	for (w = sim->watches; w; w = w->next) {
		w->ended = 2;
		wake(w);
	}
}

void
sim_watch_close_all(struct sim *sim)
{
	struct sim_watch *w;

	for (w = sim->watches; w; w = w->next) {
		if (!w->ended)
			w->ended = 1;
		wake(w);
	}
}

long
sim_watch_read(struct sim_watch *w, char *buf, size_t max)
{
	size_t n = w->len - w->off;

	if (w->ended == 2)
		return -2;
	if (n == 0)
		return w->ended ? -1 : 0;
	if (n > max)
		n = max;
	memcpy(buf, w->buf + w->off, n);
	w->off += n;
	return (long)n;
}

void
sim_watch_attach(struct sim_watch *w, void *conn, void (*wakefn)(void *conn))
{
	w->conn = conn;
	w->wake = wakefn;
}

void
sim_watch_set_waiting(struct sim_watch *w, int on)
{
	w->waiting = on;
}

void
sim_watch_free(struct sim *sim, struct sim_watch *w)
{
	if (!w)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else if (sim->watches == w)
		sim->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	sim_lsel_free(w->lsel);
	sim_fsel_free(w->fsel);
	free(w->ns);
	free(w->buf);
	free(w);
}
