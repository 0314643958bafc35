/*
 * informer.c - one kind's mirror: list (paginated), watch from the list's
 * resourceVersion with bookmarks, resume from the last version seen when a
 * stream ends, relist on 410 and print the difference.
 *
 * The per-kind table uid -> resourceVersion is what makes relists exact: an
 * object listed again at the same version is not printed again, one at a new
 * version is MODIFIED, a new uid is ADDED, and a uid the new list lacks gets
 * a DELETED tombstone (apiVersion, kind, name, namespace, uid, last version:
 * the object's last state is not kept, to keep memory small).  A name the
 * relist shows under a new uid gets its old uid's tombstone just before the
 * new ADDED, so a reader never sees the live object and then its
 * predecessor's deletion; other tombstones follow the list.
 */
#include <time.h>

#include "jscan.h"
#include "json.h"
#include "prog.h"
#include "obs.h"
#include "watch.h"

#define LIST_TIMEOUT_MS 120000L
#define BACKOFF_BASE_MS 250
#define BACKOFF_MAX_MS 30000
#define NOT_SERVED_RETRY_MS 30000
#define MAX_EVENT_LINE (64u << 20)

const struct watch_kind watch_kinds[] = {
    {"pods", "/api/v1/pods", "v1", "Pod", 1},
    {"nodes", "/api/v1/nodes", "v1", "Node", 1},
    {"nodeclaims", "/apis/karpenter.sh/v1/nodeclaims", "karpenter.sh/v1", "NodeClaim", 1},
    {"nodepools", "/apis/karpenter.sh/v1/nodepools", "karpenter.sh/v1", "NodePool", 1},
    {"aksnodeclasses", "/apis/karpenter.azure.com/v1beta1/aksnodeclasses",
	"karpenter.azure.com/v1beta1", "AKSNodeClass", 1},
    {"poddisruptionbudgets", "/apis/policy/v1/poddisruptionbudgets", "policy/v1",
	"PodDisruptionBudget", 1},
    {"daemonsets", "/apis/apps/v1/daemonsets", "apps/v1", "DaemonSet", 1},
    {"namespaces", "/api/v1/namespaces", "v1", "Namespace", 0},
    {"persistentvolumeclaims", "/api/v1/persistentvolumeclaims", "v1", "PersistentVolumeClaim", 0},
    {"persistentvolumes", "/api/v1/persistentvolumes", "v1", "PersistentVolume", 0},
    {"storageclasses", "/apis/storage.k8s.io/v1/storageclasses", "storage.k8s.io/v1",
	"StorageClass", 0},
    {"csinodes", "/apis/storage.k8s.io/v1/csinodes", "storage.k8s.io/v1", "CSINode", 0},
    {NULL, NULL, NULL, NULL, 0},
};

const struct watch_kind *
watch_kind_find(const char *name)
{
	for (const struct watch_kind *k = watch_kinds; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}

int64_t
watch_now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

void
informer_init(struct informer *in, const struct watch_kind *def, const struct watch_opts *o,
    struct nap_kube *kube)
{
	memset(in, 0, sizeof(*in));
	in->def = def;
	in->opts = o;
	in->kube = kube;
	in->phase = PHASE_WAIT;
	in->need_list = 1;
	nap_hash_init(&in->objs);
	nap_hash_init(&in->relist_names);
	in->tok = json_tokener_new_ex(JSON_TOKENER_DEFAULT_DEPTH * 4);
}

static void
relist_names_free(struct informer *in)
{
	size_t pos = 0;
	const char *key;
	void *val;

	while (nap_hash_next(&in->relist_names, &pos, &key, &val))
		free(val);
	nap_hash_free(&in->relist_names);
	nap_hash_init(&in->relist_names);
}

static void
obj_free(struct watch_obj *e)
{
	free(e->rv);
	free(e->ns);
	free(e->name);
	free(e);
}

void
informer_free(struct informer *in)
{
	size_t pos = 0;
	const char *key;
	void *val;

	nap_http_req_free(in->req);
	while (nap_hash_next(&in->objs, &pos, &key, &val))
		obj_free(val);
	nap_hash_free(&in->objs);
	relist_names_free(in);
	free(in->rv);
	free(in->cont);
	free(in->buf);
	json_tokener_free(in->tok);
}

/*
 * One record object, reused: its print buffer then keeps its size across
 * records instead of growing from nothing for each one.
 */
static json_object *rec;
static char *outbuf; /* fast-path record being assembled */
static size_t outlen, outalloc;

static void
emit(const char *type, json_object *obj)
{
	if (!rec)
		rec = json_object_new_object();
	json_object_object_add(rec, "type", json_object_new_string(type));
	json_object_object_add(rec, "object", json_object_get(obj));
	nap_emit(rec);
	json_object_object_del(rec, "object");
}

void
watch_emit_free(void)
{
	json_object_put(rec);
	rec = NULL;
	free(outbuf);
	outbuf = NULL;
	outlen = outalloc = 0;
}

static void
set_rv(struct informer *in, const char *rv)
{
	if (!rv || !*rv)
		return;
	in->just_relisted = 0;
	in->gone = 0;
	free(in->rv);
	in->rv = nap_xstrdup(rv);
}

/* Fill what list items omit, drop what nobody reads. */
static void
normalise(struct informer *in, json_object *obj)
{
	if (!nap_json_key(obj, "apiVersion"))
		json_object_object_add(
		    obj, "apiVersion", json_object_new_string(in->def->api_version));
	if (!nap_json_key(obj, "kind"))
		json_object_object_add(obj, "kind", json_object_new_string(in->def->kind));
	watch_trim(obj, in->opts->slim);
}

/* Print the DELETED tombstone of uid (known as e) and forget it; frees e. */
static void
tombstone(struct informer *in, const char *uid, struct watch_obj *e)
{
	json_object *obj = json_object_new_object(), *md = json_object_new_object();

	json_object_object_add(obj, "apiVersion", json_object_new_string(in->def->api_version));
	json_object_object_add(obj, "kind", json_object_new_string(in->def->kind));
	json_object_object_add(md, "name", json_object_new_string(e->name));
	if (*e->ns)
		json_object_object_add(md, "namespace", json_object_new_string(e->ns));
	json_object_object_add(md, "uid", json_object_new_string(uid));
	json_object_object_add(md, "resourceVersion", json_object_new_string(e->rv));
	json_object_object_add(obj, "metadata", md);
	in->events++;
	emit("DELETED", obj);
	json_object_put(obj);
	obj_free(e);
}

/*
 * A relist shows ns/name under a new uid: the object of that name the last
 * list had was deleted (and this one created) meanwhile.  Its tombstone goes
 * out now, before the new ADDED.
 */
static void
replaced(struct informer *in, const char *ns, size_t nslen, const char *name, size_t namelen)
{
	char *key = nap_xasprintf("%.*s/%.*s", (int)nslen, ns, (int)namelen, name);
	char *old = nap_hash_del(&in->relist_names, key);
	struct watch_obj *e;

	free(key);
	if (old == NULL)
		return;
	/* Seen in this list already: not replaced (a name is unique at one time). */
	if ((e = nap_hash_get(&in->objs, old)) != NULL && e->gen != in->gen) {
		nap_hash_del(&in->objs, old);
		tombstone(in, old, e);
	}
	free(old);
}

/*
 * Note that uid is now at version rv.  Returns the record type to print
 * ("ADDED" for a new uid, "MODIFIED" for a new version), or NULL when this
 * exact version was printed already.
 */
static const char *
track(struct informer *in, const char *uid, size_t ulen, const char *rv, size_t rlen,
    const char *ns, size_t nslen, const char *name, size_t namelen)
{
	struct watch_obj *e = nap_hash_getn(&in->objs, uid, ulen);
	const char *type = "MODIFIED";

	if (e && strlen(e->rv) == rlen && memcmp(e->rv, rv, rlen) == 0) {
		e->gen = in->gen;
		return NULL;
	}
	if (!e) {
		char *key = nap_xstrndup(uid, ulen);

		if (nap_hash_count(&in->relist_names))
			replaced(in, ns, nslen, name, namelen);
		e = nap_xcalloc(1, sizeof(*e));
		e->ns = nap_xstrndup(ns, nslen);
		e->name = nap_xstrndup(name, namelen);
		nap_hash_put(&in->objs, key, e);
		free(key);
		type = "ADDED";
	} else {
		free(e->rv);
	}
	e->rv = nap_xstrndup(rv, rlen);
	e->gen = in->gen;
	in->events++;
	return type;
}

/* Forget uid; 1 when it was known. */
static int
untrack(struct informer *in, const char *uid, size_t ulen)
{
	char *key = nap_xstrndup(uid, ulen);
	struct watch_obj *e = nap_hash_del(&in->objs, key);

	free(key);
	if (!e)
		return 0;
	obj_free(e);
	in->events++;
	return 1;
}

static const char *
str_or_empty(json_object *obj, const char *path, size_t *len)
{
	const char *s = nap_json_str(obj, path, "");

	*len = strlen(s);
	return s;
}

/* Record obj as current; print it unless this exact version was printed. */
static void
upsert(struct informer *in, json_object *obj)
{
	size_t ul, rl, nl, ml;
	const char *uid = str_or_empty(obj, "metadata.uid", &ul);
	const char *rv = str_or_empty(obj, "metadata.resourceVersion", &rl);
	const char *ns = str_or_empty(obj, "metadata.namespace", &nl);
	const char *name = str_or_empty(obj, "metadata.name", &ml);
	const char *type;

	if (!ul) {
		nap_warn("%s: object %s without metadata.uid skipped", in->def->name, name);
		return;
	}
	type = track(in, uid, ul, rv, rl, ns, nl, name, ml);
	if (type)
		emit(type, obj);
}

static void
remove_obj(struct informer *in, json_object *obj)
{
	size_t ul;
	const char *uid = str_or_empty(obj, "metadata.uid", &ul);

	/* Unknown: already gone from our view (a relist printed its tombstone). */
	if (ul && untrack(in, uid, ul))
		emit("DELETED", obj);
}

static void
emit_fast(struct informer *in, const char *type, const struct nap_jscan_kobj *f)
{
	outlen = 0;
	nap_jscan_kobj_record(
	    f, type, in->def->api_version, in->def->kind, &outbuf, &outlen, &outalloc);
	obs_raw(type, in->def->kind, f->uid, f->ulen, outbuf, outlen);
	nap_emit_raw(outbuf, outlen);
}

/* An ADDED or MODIFIED object, or (deleted) a DELETED one, the fast way. */
static void
fast_event(struct informer *in, const struct nap_jscan_kobj *f, int deleted)
{
	const char *type;

	if (deleted) {
		if (untrack(in, f->uid, f->ulen))
			emit_fast(in, "DELETED", f);
		return;
	}
	type = track(in, f->uid, f->ulen, f->rv, f->rlen, f->ns, f->nslen, f->name, f->namelen);
	if (type)
		emit_fast(in, type, f);
}

/* After a complete list: what the list did not show is gone. */
static void
tombstones(struct informer *in)
{
	char **gone = NULL;
	const char *key;
	size_t n = 0, alloc = 0, pos = 0;
	void *val;

	relist_names_free(in);
	/* Keys are copied: deleting from the table frees its own. */
	while (nap_hash_next(&in->objs, &pos, &key, &val)) {
		struct watch_obj *e = val;

		if (e->gen != in->gen) {
			nap_xgrow(&gone, &alloc, n + 1, sizeof(*gone));
			gone[n++] = nap_xstrdup(key);
		}
	}
	for (size_t i = 0; i < n; i++) {
		tombstone(in, gone[i], nap_hash_del(&in->objs, gone[i]));
		free(gone[i]);
	}
	free(gone);
}

static int64_t
backoff_ms(int fails)
{
	int64_t d = BACKOFF_BASE_MS;

	for (int i = 1; i < fails && d < BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > BACKOFF_MAX_MS)
		d = BACKOFF_MAX_MS;
	/* Full range [d/2, d]: many watchers restarting together spread out. */
	return d / 2 + (int64_t)(rand() % (int)(d / 2 + 1));
}

static void
wait_until(struct informer *in, int64_t when)
{
	in->phase = PHASE_WAIT;
	in->wake_ms = when;
}

static void
failure(struct informer *in, struct nap_err *err)
{
	int64_t now = watch_now_ms(), delay;

	if (err->code == NAP_EX_CONFIG || err->code == NAP_EX_NOPERM)
		nap_die_err(err);
	if (in->fails == 0)
		in->first_fail_ms = now;
	in->fails++;
	if (in->fails > in->opts->retries ||
	    (in->opts->retry_ms > 0 && now - in->first_fail_ms >= in->opts->retry_ms)) {
		nap_err_prefix(err, "%s: unreachable after %d attempts", in->def->name, in->fails);
		err->code = NAP_EX_UNAVAILABLE;
		nap_die_err(err);
	}
	delay = backoff_ms(in->fails);
	/* One failure is routine (a dropped watch, a restarting server); a streak is news. */
	nap_log(in->fails == 1 ? NAP_LOG_INFO : NAP_LOG_WARNING, "%s: %s; retry in %.1fs",
	    in->def->name, err->msg, (double)delay / 1000);
	wait_until(in, now + delay);
}

static void
succeeded(struct informer *in)
{
	in->fails = 0;
	in->auth_retried = 0;
}

/* 401/403: one fresh credential after a 401, then give up. */
static void
auth_failure(struct informer *in, const struct nap_http_resp *resp, const char *what)
{
	struct nap_err err;

	if (resp->status == 401 && !in->auth_retried && nap_kube_cred_reset(in->kube)) {
		in->auth_retried = 1;
		nap_info("%s: 401, fetching a fresh credential", in->def->name);
		wait_until(in, watch_now_ms());
		return;
	}
	nap_kube_status_err(resp->status, resp->body, resp->len, what, &err);
	nap_die_err(&err);
}

/* A list from the start: index the names of what the last list had, to spot replacements. */
static void
relist_index(struct informer *in)
{
	const char *key;
	size_t pos = 0;
	void *val;

	relist_names_free(in);
	while (nap_hash_next(&in->objs, &pos, &key, &val)) {
		const struct watch_obj *e = val;
		char *nk = nap_xasprintf("%s/%s", e->ns, e->name);

		free(nap_hash_put(&in->relist_names, nk, nap_xstrdup(key)));
		free(nk);
	}
}

static void
start_list(struct informer *in)
{
	struct nap_err err;
	char lim[32], *path;

	if (!in->cont) {
		in->gen++;
		in->item = 0;
	}
	snprintf(lim, sizeof(lim), "%ld", in->opts->page_size);
	path = nap_kube_path(in->def->path, "limit", lim, "continue", in->cont, (char *)NULL);
	in->req = nap_kube_start(
	    in->kube, "GET", path, NULL, NULL, 0, NULL, in, LIST_TIMEOUT_MS, 0, &err);
	free(path);
	in->phase = PHASE_LIST;
	if (!in->cont)
		relist_index(in);
	if (!in->req)
		failure(in, &err);
}

static int on_stream(void *arg, const char *buf, size_t len);

static void
start_watch(struct informer *in)
{
	struct nap_err err;
	long t = in->opts->watch_timeout_s;
	char ts[32], *path;

	if (t <= 0)
		t = 300 + rand() % 300;
	snprintf(ts, sizeof(ts), "%ld", t);
	path = nap_kube_path(in->def->path, "watch", "1", "resourceVersion", in->rv,
	    "allowWatchBookmarks", "true", "timeoutSeconds", ts, (char *)NULL);
	in->len = 0;
	in->relist_now = in->stream_error = in->stream_data = 0;
	/* The server ends the stream at timeoutSeconds; silence well past that is a dead link. */
	in->req =
	    nap_kube_start(in->kube, "GET", path, NULL, NULL, 0, on_stream, in, 0, t + 60, &err);
	free(path);
	in->phase = PHASE_WATCH;
	in->wake_ms = watch_now_ms();
	if (!in->req)
		failure(in, &err);
}

void
informer_tick(struct informer *in, int64_t now)
{
	if (in->phase != PHASE_WAIT || now < in->wake_ms)
		return;
	if (in->need_list)
		start_list(in);
	else
		start_watch(in);
}

static json_object *
parse(struct informer *in, const char *buf, size_t len)
{
	json_object *o;

	json_tokener_reset(in->tok);
	o = json_tokener_parse_ex(in->tok, buf, (int)len);
	if (json_tokener_get_error(in->tok) != json_tokener_success) {
		json_object_put(o);
		return NULL;
	}
	/* Trailing bytes after the value mean the line held something else. */
	if (json_tokener_get_parse_end(in->tok) < len) {
		size_t end = json_tokener_get_parse_end(in->tok);

		while (end < len && (buf[end] == ' ' || buf[end] == '\r' || buf[end] == '\t'))
			end++;
		if (end < len) {
			json_object_put(o);
			return NULL;
		}
	}
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static const char *skip_ws(const char *p, const char *end);

/*
 * Past the end of the value at p, however deep: strings and brackets are
 * counted, nothing else is checked.  For stepping over an item too deep for
 * nap_jscan_value, so that one bad item costs only itself.  NULL when the
 * text ends first.
 */
static const char *
skip_value(const char *p, const char *end)
{
	size_t depth = 0;

	for (; p < end; p++) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			if (p >= end)
				return NULL;
			if (depth == 0)
				return p + 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p; /* the end of a number or literal, last in its array */
			if (--depth == 0)
				return p + 1;
		} else if (depth == 0 && (*p == ',' || *p == ' ' || *p == '\n' || *p == '\r' ||
					     *p == '\t')) {
			return p; /* the end of a number or literal */
		}
	}
	return depth == 0 ? p : NULL;
}

/*
 * What can be told of an object that will not parse, for the warning and
 * to keep the last good version: metadata's uid, name, namespace and
 * resourceVersion when they come before anything too deep to scan.
 */
struct bad_facts {
	const char *uid, *name, *ns, *rv;
	size_t ulen, namelen, nslen, rlen;
};

static void
bad_facts(const char *p, const char *end, struct bad_facts *b)
{
	struct nap_jscan_obj it, md;
	struct nap_jscan_member m, k;

	memset(b, 0, sizeof(*b));
	if (nap_jscan_object_begin(&it, p, end) != 0)
		return;
	while (nap_jscan_member(&it, &m) == 1) {
		if (!nap_jscan_key_is(&m, "metadata"))
			continue;
		if (nap_jscan_object_begin(&md, m.val, m.val + m.vallen) != 0)
			return;
		while (nap_jscan_member(&md, &k) == 1) {
			if (nap_jscan_key_is(&k, "uid"))
				nap_jscan_string(&k, &b->uid, &b->ulen);
			else if (nap_jscan_key_is(&k, "name"))
				nap_jscan_string(&k, &b->name, &b->namelen);
			else if (nap_jscan_key_is(&k, "namespace"))
				nap_jscan_string(&k, &b->ns, &b->nslen);
			else if (nap_jscan_key_is(&k, "resourceVersion"))
				nap_jscan_string(&k, &b->rv, &b->rlen);
		}
		return;
	}
}

/* " (namespace/name)", " (name)" or "" for a message. */
static void
name_of(const struct bad_facts *b, char *buf, size_t size)
{
	int nl = (int)(b->namelen > 200 ? 200 : b->namelen);
	int sl = (int)(b->nslen > 100 ? 100 : b->nslen);

	if (nl)
		snprintf(buf, size, " (%.*s%s%.*s)", sl, sl ? b->ns : "", sl ? "/" : "", nl,
		    b->name);
	else
		buf[0] = '\0';
}

static const char *
json_kind(char c)
{
	switch (c) {
	case '{':
		return "an object";
	case '[':
		return "an array";
	case '"':
		return "a string";
	case 't':
	case 'f':
		return "a boolean";
	case 'n':
		return "null";
	default:
		return "a number";
	}
}

/* Why the text at [p, end) is not an object this informer can print. */
static void
why_bad(struct informer *in, const char *p, const char *end, char *buf, size_t size)
{
	json_object *o;

	if (p >= end) {
		snprintf(buf, size, "empty");
		return;
	}
	if (*p != '{') {
		snprintf(buf, size, "not an object but %s", json_kind(*p));
		return;
	}
	json_tokener_reset(in->tok);
	o = json_tokener_parse_ex(in->tok, p, (int)(end - p));
	json_object_put(o);
	if (json_tokener_get_error(in->tok) == json_tokener_error_depth)
		snprintf(buf, size, "nested deeper than %d levels", JSON_TOKENER_DEFAULT_DEPTH * 4);
	else if (json_tokener_get_error(in->tok) != json_tokener_success)
		snprintf(buf, size, "unparsable: %s",
		    json_tokener_error_desc(json_tokener_get_error(in->tok)));
	else
		snprintf(buf, size, "unreadable");
}

/*
 * A list item nothing can be made of is skipped with a warning naming it,
 * as an informer's decoder drops one undecodable object: a single bad
 * object must not blind the whole mirror (the list would otherwise fail
 * and be retried forever).  A uid known from before keeps its last good
 * version, so no DELETED is printed for an object that still exists.
 */
static void
bad_item(struct informer *in, const char *p, const char *end, unsigned long index)
{
	struct bad_facts b;
	char why[160], who[400] = "";

	p = skip_ws(p, end);
	why_bad(in, p, end, why, sizeof(why));
	if (*p == '{')
		bad_facts(p, end, &b);
	else
		memset(&b, 0, sizeof(b));
	name_of(&b, who, sizeof(who));
	nap_warn("%s: list item %lu%s skipped: %s", in->def->name, index, who, why);
	if (b.ulen) {
		struct watch_obj *e = nap_hash_getn(&in->objs, b.uid, b.ulen);

		if (e)
			e->gen = in->gen;
	}
}

/* One list item: the fast way when it can, else through json-c. */
static void
list_item(struct informer *in, const char *p, const char *end)
{
	struct nap_jscan_kobj f;
	json_object *obj;
	unsigned long index = in->item++;

	if (!in->opts->slim && nap_jscan_kobj(p, end, &f) == 0) {
		fast_event(in, &f, 0);
		return;
	}
	obj = parse(in, p, (size_t)(end - p));
	if (!obj) {
		bad_item(in, p, end, index);
		return;
	}
	normalise(in, obj);
	upsert(in, obj);
	json_object_put(obj);
}

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* The items array at p ('['): each item handled as the scanner reaches it. */
static const char *
list_items(struct informer *in, const char *p, const char *end)
{
	const char *e;

	if (p >= end || *p != '[')
		return NULL;
	p = skip_ws(p + 1, end);
	if (p < end && *p == ']')
		return p + 1;
	for (;;) {
		e = nap_jscan_value(p, end);
		if (!e)
			e = skip_value(p, end);
		if (!e)
			return NULL;
		list_item(in, p, e);
		p = skip_ws(e, end);
		if (p < end && *p == ',') {
			p = skip_ws(p + 1, end);
			continue;
		}
		return p < end && *p == ']' ? p + 1 : NULL;
	}
}

/*
 * What the page's metadata says: the list's version, and the next page,
 * asked for at once so the server builds it while this one is handled.
 */
static void
next_page(struct informer *in, const char *rv, const char *cont)
{
	if (rv && *rv) {
		free(in->rv);
		in->rv = nap_xstrdup(rv);
	}
	free(in->cont);
	in->cont = cont && *cont ? nap_xstrdup(cont) : NULL;
	if (in->cont)
		start_list(in);
}

/*
 * A list page, in one pass: no tree of the whole page is built.  The API
 * server writes metadata before items, which lets the next page start
 * before the items are handled; the other order works too, scanned twice.
 */
static int
list_page(struct informer *in, const char *body, size_t len)
{
	const char *end = body + len, *after;
	struct nap_jscan_obj it;
	struct nap_jscan_member m, items = {0};
	char *rv = NULL, *cont = NULL;
	int r, have_md = 0, started = 0, rc = -1;

	if (nap_jscan_object_begin(&it, body, end) != 0)
		return -1;
	while ((r = nap_jscan_member_key(&it, &m)) == 1) {
		if (nap_jscan_key_is(&m, "metadata")) {
			json_object *md;

			if (nap_jscan_member_end(&it, &m, NULL) != 0 ||
			    !(md = parse(in, m.val, m.vallen)))
				goto out;
			free(rv);
			free(cont);
			rv = nap_xstrdup(nap_json_str(md, "resourceVersion", ""));
			cont = nap_xstrdup(nap_json_str(md, "continue", ""));
			json_object_put(md);
			have_md = 1;
		} else if (nap_jscan_key_is(&m, "items") && have_md && !started) {
			next_page(in, rv, cont);
			started = 1;
			if (!(after = list_items(in, m.val, end)) ||
			    nap_jscan_member_end(&it, &m, after))
				goto out;
		} else if (nap_jscan_member_end(&it, &m, NULL) != 0) {
			goto out;
		} else if (nap_jscan_key_is(&m, "items")) {
			items = m;
		}
	}
	if (r < 0)
		goto out;
	if (!started) {
		next_page(in, rv, cont);
		if (items.val && !list_items(in, items.val, items.val + items.vallen))
			goto out;
	}
	rc = 0;
out:
	free(rv);
	free(cont);
	return rc;
}

static void
list_finished(struct informer *in)
{
	tombstones(in);
	in->need_list = 0;
	in->synced = 1;
	in->just_listed = 1;
	in->just_relisted = 1;
	if (in->opts->once)
		in->phase = PHASE_DONE;
	else
		start_watch(in);
}

static void
list_done(struct informer *in, int rc, const struct nap_http_resp *resp, struct nap_err *err,
    const char *what)
{
	if (rc != 0) {
		failure(in, err);
		return;
	}
	switch (resp->status) {
	case 200:
		break;
	case 401:
	case 403:
		auth_failure(in, resp, what);
		return;
	case 404:
		/* No such resource here (a CRD not installed): an empty kind, asked again later. */
		if (!in->not_served)
			nap_warn("%s: the API server does not serve %s; treating it as empty",
			    in->def->name, in->def->path);
		in->not_served = 1;
		free(in->cont);
		in->cont = NULL;
		succeeded(in);
		tombstones(in);
		in->synced = 1;
		in->just_listed = 1;
		if (in->opts->once)
			in->phase = PHASE_DONE;
		else
			wait_until(in, watch_now_ms() + NOT_SERVED_RETRY_MS);
		return;
	case 410:
		/* The continue token expired: list again from the start. */
		nap_info("%s: list continuation expired, listing again", in->def->name);
		free(in->cont);
		in->cont = NULL;
		wait_until(in, watch_now_ms());
		return;
	default:
		nap_kube_status_err(resp->status, resp->body, resp->len, what, err);
		failure(in, err);
		return;
	}
	if (list_page(in, resp->body, resp->len) != 0) {
		/* The next page may be on its way: drop it and list again from the start. */
		nap_http_req_free(in->req);
		in->req = NULL;
		free(in->cont);
		in->cont = NULL;
		nap_err_set(err, NAP_EX_UNAVAILABLE, "%s: unparsable list", what);
		failure(in, err);
		return;
	}
	/* Only a page that parsed resets the count: one that never does ends in --retries. */
	succeeded(in);
	if (in->not_served)
		nap_info("%s: now served", in->def->name);
	in->not_served = 0;
	if (!in->cont)
		list_finished(in);
}

/*
 * The fast way for ADDED, MODIFIED and DELETED lines; -1 leaves the line to
 * the json-c path (other types, or anything the scanner will not vouch for).
 */
static int
fast_event_line(struct informer *in, const char *line, size_t len)
{
	const char *end = line + len, *type = NULL;
	struct nap_jscan_obj it;
	struct nap_jscan_member m, obj = {0};
	struct nap_jscan_kobj f;
	size_t tlen = 0;
	int r, deleted;

	if (nap_jscan_object_begin(&it, line, end) != 0)
		return -1;
	while ((r = nap_jscan_member(&it, &m)) == 1) {
		if (nap_jscan_key_is(&m, "type")) {
			if (nap_jscan_string(&m, &type, &tlen) != 0)
				return -1;
		} else if (nap_jscan_key_is(&m, "object")) {
			obj = m;
		}
	}
	if (r < 0 || !type || !obj.val)
		return -1;
	while (it.p < end && (*it.p == ' ' || *it.p == '\r' || *it.p == '\t'))
		it.p++;
	if (it.p != end)
		return -1;
	if (tlen == 7 && memcmp(type, "DELETED", 7) == 0)
		deleted = 1;
	else if ((tlen == 5 && memcmp(type, "ADDED", 5) == 0) ||
	    (tlen == 8 && memcmp(type, "MODIFIED", 8) == 0))
		deleted = 0;
	else
		return -1;
	if (nap_jscan_kobj(obj.val, obj.val + obj.vallen, &f) != 0)
		return -1;
	fast_event(in, &f, deleted);
	if (f.rlen) {
		in->just_relisted = 0;
		in->gone = 0;
		free(in->rv);
		in->rv = nap_xstrndup(f.rv, f.rlen);
	}
	return 0;
}

/*
 * A watch event that will not parse.  Resuming from the version before it
 * would only be sent it again, forever: skip it when its object's
 * resourceVersion can be read (the next watch starts past it), else
 * relist, where the object is skipped as a bad list item.
 */
static int
bad_event(struct informer *in, const char *p, const char *end)
{
	struct nap_jscan_obj it;
	struct nap_jscan_member m;
	struct bad_facts b;
	const char *obj = NULL, *obj_end = NULL;
	char why[160], who[400];

	memset(&b, 0, sizeof(b));
	if (nap_jscan_object_begin(&it, p, end) == 0) {
		while (nap_jscan_member_key(&it, &m) == 1) {
			const char *after = skip_value(skip_ws(m.val, end), end);

			if (!after || nap_jscan_member_end(&it, &m, after) != 0)
				break;
			if (nap_jscan_key_is(&m, "object")) {
				obj = skip_ws(m.val, end);
				obj_end = after;
			}
		}
	}
	if (obj) {
		why_bad(in, obj, obj_end, why, sizeof(why));
		if (*obj == '{')
			bad_facts(obj, obj_end, &b);
	} else {
		why_bad(in, p, end, why, sizeof(why));
	}
	name_of(&b, who, sizeof(who));
	if (b.rlen) {
		nap_warn("%s: watch: event for object%s at version %.*s skipped: %s",
		    in->def->name, who, (int)(b.rlen > 40 ? 40 : b.rlen), b.rv, why);
		free(in->rv);
		in->rv = nap_xstrndup(b.rv, b.rlen);
		in->just_relisted = 0;
		return 0;
	}
	nap_warn("%s: watch: event%s skipped: %s; relisting", in->def->name, who, why);
	in->relist_now = 1;
	return -1;
}

/* One watch event; -1 stops the stream. */
static int
event(struct informer *in, const char *line, size_t len)
{
	json_object *ev, *obj;
	const char *type;

	if (!in->opts->slim && fast_event_line(in, line, len) == 0)
		return 0;
	ev = parse(in, line, len);
	if (!ev)
		return bad_event(in, line, line + len);
	type = nap_json_str(ev, "type", "");
	obj = nap_json_key(ev, "object");
	if (!obj || !json_object_is_type(obj, json_type_object)) {
		nap_warn("%s: watch: %s event without an object skipped", in->def->name, type);
		json_object_put(ev);
		return 0;
	}
	if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0) {
		normalise(in, obj);
		upsert(in, obj);
		set_rv(in, nap_json_str(obj, "metadata.resourceVersion", NULL));
	} else if (strcmp(type, "DELETED") == 0) {
		normalise(in, obj);
		remove_obj(in, obj);
		set_rv(in, nap_json_str(obj, "metadata.resourceVersion", NULL));
	} else if (strcmp(type, "BOOKMARK") == 0) {
		set_rv(in, nap_json_str(obj, "metadata.resourceVersion", NULL));
	} else if (strcmp(type, "ERROR") == 0) {
		int64_t code = nap_json_int(obj, "code", 0);

		json_object_put(ev);
		if (code == 410) {
			nap_info(
			    "%s: watch: resourceVersion expired (410), relisting", in->def->name);
			in->relist_now = 1;
		} else {
			nap_warn("%s: watch: error %lld %s: %s", in->def->name, (long long)code,
			    nap_json_str(obj, "reason", ""), nap_json_str(obj, "message", ""));
			in->stream_error = 1;
		}
		return -1;
	} else {
		nap_warn("%s: watch: unknown event type \"%s\" skipped", in->def->name, type);
	}
	json_object_put(ev);
	return 0;
}

static int
on_stream(void *arg, const char *buf, size_t len)
{
	struct informer *in = arg;
	size_t start = 0;

	in->stream_data = 1;
	in->fails = 0;
	if (in->len + len > MAX_EVENT_LINE) {
		nap_warn("%s: watch: event over %u bytes, resuming", in->def->name, MAX_EVENT_LINE);
		return -1;
	}
	nap_xgrow(&in->buf, &in->alloc, in->len + len, 1);
	memcpy(in->buf + in->len, buf, len);
	/* Only the new bytes can hold a newline the old ones did not. */
	for (size_t i = in->len; i < in->len + len; i++) {
		if (in->buf[i] != '\n')
			continue;
		if (i > start && event(in, in->buf + start, i - start) != 0)
			return -1;
		start = i + 1;
	}
	in->len += len;
	if (start) {
		memmove(in->buf, in->buf + start, in->len - start);
		in->len -= start;
	}
	return 0;
}

static void
watch_done(struct informer *in, int rc, const struct nap_http_resp *resp, struct nap_err *err,
    const char *what)
{
	int64_t now = watch_now_ms();

	if (in->relist_now || (rc == 0 && resp->status == 410)) {
		in->need_list = 1;
		if (resp->status == 410)
			nap_info(
			    "%s: watch: resourceVersion expired (410), relisting", in->def->name);
		/*
		 * 410 again right after a list: the server is not settling.  Back
		 * off, growing until a watch delivers something; a list that
		 * succeeds does not reset this.
		 */
		if (in->just_relisted) {
			int64_t delay = backoff_ms(++in->gone);

			nap_warn("%s: 410 right after a list; relisting in %.1fs", in->def->name,
			    (double)delay / 1000);
			wait_until(in, now + delay);
			return;
		}
		wait_until(in, now);
		return;
	}
	if (in->stream_error) {
		nap_err_set(err, NAP_EX_UNAVAILABLE, "%s: the watch ended with an error", what);
		failure(in, err);
		return;
	}
	if (rc != 0) {
		failure(in, err);
		return;
	}
	switch (resp->status) {
	case 200:
		/* A watch that ends at once without a byte is a server refusing quietly. */
		if (!in->stream_data && now - in->wake_ms < 1000) {
			nap_err_set(err, NAP_EX_UNAVAILABLE, "%s: the watch ended at once", what);
			failure(in, err);
			return;
		}
		succeeded(in);
		wait_until(in, now);
		return;
	case 401:
	case 403:
		auth_failure(in, resp, what);
		return;
	default:
		nap_kube_status_err(resp->status, resp->body, resp->len, what, err);
		failure(in, err);
		return;
	}
}

void
informer_done(struct informer *in, struct nap_http_req *req)
{
	const struct nap_http_resp *resp;
	struct nap_err err;
	char what[160];
	int rc;

	memset(&err, 0, sizeof(err));
	rc = nap_http_result(req, &resp, &err);
	if (in->phase == PHASE_LIST) {
		snprintf(what, sizeof(what), "list %s", in->def->name);
		in->req = NULL;
		list_done(in, rc, resp, &err, what);
	} else {
		snprintf(what, sizeof(what), "watch %s", in->def->name);
		in->req = NULL;
		watch_done(in, rc, resp, &err, what);
	}
	nap_http_req_free(req);
}
