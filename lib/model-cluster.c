/*
 * model-cluster.c - the cluster model: every object of the kinds nap keeps,
 * updated by watch events, with the indexes the deciding tools need (see
 * model.h).
 *
 * Each kind has a dense array of object pointers (what nap_cluster_list
 * hands out) and an open-addressing index over it: an entry holds the hash
 * of the object's "namespace/name" and its place in the array, and a probe
 * confirms a match against the object's own namespace and name, so the
 * index keeps no copy of any key (16 bytes an entry, where a table of
 * copied keys cost some 150 a pod).  A deletion is O(1): the last object
 * moves into the hole and its entry is repointed.  Pods are also bucketed
 * by spec.nodeName, with the bucket's request sum kept incrementally, and Nodes and NodeClaims are indexed by providerID
 * (and NodeClaims by status.nodeName) to join the two.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "json.h"
#include "model.h"
#include "model-int.h"

struct ix_entry {
	uint64_t h;  /* nap_hash_str of "namespace/name" */
	uint32_t at; /* 0 empty, IX_TOMB deleted, else the place in list plus one */
};
#define IX_TOMB UINT32_MAX

struct kindtab {
	struct ix_entry *ix;
	size_t ixcap, ixused; /* a power of two (or 0); entries in use, tombstones too */
	void **list;	      /* struct nap_<kind> *, meta first */
	size_t n, alloc;
	uint64_t version;
};

struct bucket {
	struct nap_pod **pods;
	size_t n, alloc;
	struct nap_res req; /* non-terminal pods */
};

struct nap_cluster {
	struct kindtab k[NAP_KIND_N];
	struct nap_hash pods_by_node;  /* node name → struct bucket */
	struct nap_hash node_by_pid;   /* providerID → struct nap_node */
	struct nap_hash claim_by_pid;  /* providerID → struct nap_nodeclaim */
	struct nap_hash claim_by_node; /* status.nodeName → struct nap_nodeclaim */
	struct nap_hash shared_labels; /* label-set key → struct shared_labels */
	int keep_pod_json;	       /* keep pods' raw JSON and annotations */
	int keep_node_json;	       /* keep nodes' raw JSON and annotations */
};

static const struct nap_res zero_res;

struct nap_cluster *
nap_cluster_new(void)
{
	struct nap_cluster *c = nap_xcalloc(1, sizeof(struct nap_cluster));

	c->keep_pod_json = 1;
	c->keep_node_json = 1;
	return c;
}

/* ---- per-kind construction ---- */

static void *
obj_new(enum nap_kind k, json_object *o, struct nap_err *err)
{
	void *p = NULL;
	int rc = -1;

	switch (k) {
	case NAP_KIND_POD:
		p = nap_xmalloc(sizeof(struct nap_pod));
		rc = nap_pod_from_json(p, o, err);
		break;
	case NAP_KIND_NODE:
		p = nap_xmalloc(sizeof(struct nap_node));
		rc = nap_node_from_json(p, o, err);
		break;
	case NAP_KIND_NODECLAIM:
		p = nap_xmalloc(sizeof(struct nap_nodeclaim));
		rc = nap_nodeclaim_from_json(p, o, err);
		break;
	case NAP_KIND_NODEPOOL:
		p = nap_xmalloc(sizeof(struct nap_nodepool));
		rc = nap_nodepool_from_json(p, o, err);
		break;
	case NAP_KIND_NODECLASS:
		p = nap_xmalloc(sizeof(struct nap_nodeclass));
		rc = nap_nodeclass_from_json(p, o, err);
		break;
	case NAP_KIND_PDB:
		p = nap_xmalloc(sizeof(struct nap_pdb));
		rc = nap_pdb_from_json(p, o, err);
		break;
	case NAP_KIND_DAEMONSET:
		p = nap_xmalloc(sizeof(struct nap_daemonset));
		rc = nap_daemonset_from_json(p, o, err);
		break;
	case NAP_KIND_PVC:
		p = nap_xmalloc(sizeof(struct nap_pvc));
		rc = nap_pvc_from_json(p, o, err);
		break;
	case NAP_KIND_PV:
		p = nap_xmalloc(sizeof(struct nap_pv));
		rc = nap_pv_from_json(p, o, err);
		break;
	case NAP_KIND_STORAGECLASS:
		p = nap_xmalloc(sizeof(struct nap_storageclass));
		rc = nap_storageclass_from_json(p, o, err);
		break;
	case NAP_KIND_NAMESPACE:
		p = nap_xmalloc(sizeof(struct nap_namespace));
		rc = nap_namespace_from_json(p, o, err);
		break;
	case NAP_KIND_CSINODE:
		p = nap_xmalloc(sizeof(struct nap_csinode));
		rc = nap_csinode_from_json(p, o, err);
		break;
	case NAP_KIND_N:
		break;
	}
	if (rc != 0) {
		free(p);
		return NULL;
	}
	return p;
}

static void
obj_free(enum nap_kind k, void *p)
{
	switch (k) {
	case NAP_KIND_POD:
		nap_pod_free(p);
		break;
	case NAP_KIND_NODE:
		nap_node_free(p);
		break;
	case NAP_KIND_NODECLAIM:
		nap_nodeclaim_free(p);
		break;
	case NAP_KIND_NODEPOOL:
		nap_nodepool_free(p);
		break;
	case NAP_KIND_NODECLASS:
		nap_nodeclass_free(p);
		break;
	case NAP_KIND_PDB:
		nap_pdb_free(p);
		break;
	case NAP_KIND_DAEMONSET:
		nap_daemonset_free(p);
		break;
	case NAP_KIND_PVC:
		nap_pvc_free(p);
		break;
	case NAP_KIND_PV:
		nap_pv_free(p);
		break;
	case NAP_KIND_STORAGECLASS:
		nap_storageclass_free(p);
		break;
	case NAP_KIND_NAMESPACE:
		nap_namespace_free(p);
		break;
	case NAP_KIND_CSINODE:
		nap_csinode_free(p);
		break;
	case NAP_KIND_N:
		break;
	}
	free(p);
}

/* ---- secondary indexes ---- */

static void
bucket_add(struct nap_cluster *c, struct nap_pod *p)
{
	struct bucket *b;
	void **v;
	int added;

	if (p->node_name[0] == '\0')
		return;
	v = nap_hash_slot(&c->pods_by_node, p->node_name, &added);
	if (added)
		*v = nap_xcalloc(1, sizeof(*b));
	b = *v;
	nap_xgrow(&b->pods, &b->alloc, b->n + 1, sizeof(*b->pods));
	b->pods[b->n++] = p;
	if (!nap_pod_is_terminal(p))
		nap_res_add(&b->req, &p->requests);
}

/* A node holds about a hundred pods at most: a linear search is the cheap way. */
static void
bucket_del(struct nap_cluster *c, struct nap_pod *p)
{
	struct bucket *b;
	size_t i;

	if (p->node_name[0] == '\0')
		return;
	b = nap_hash_get(&c->pods_by_node, p->node_name);
	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		if (b->pods[i] == p)
			break;
	if (i == b->n)
		return;
	b->pods[i] = b->pods[--b->n];
	if (!nap_pod_is_terminal(p))
		nap_res_sub(&b->req, &p->requests);
	if (b->n == 0) {
		nap_hash_del(&c->pods_by_node, p->node_name);
		free(b->pods);
		free(b);
	}
}

/* ---- shared label maps ---- */

/*
 * The replicas of a workload carry identical labels, and a json-c map costs
 * about a kilobyte, so pods in the model share one map per distinct label
 * set.  The key is the map's pairs in order (the API server writes map keys
 * sorted, so equal sets give equal keys; a different order only costs a
 * second copy).
 */
struct shared_labels {
	json_object *map;
	size_t users;
};

static int
labels_key(json_object *labels, char *buf, size_t len)
{
	size_t n = 0;

	json_object_object_foreach(labels, k, v)
	{
		const char *s = json_object_get_string(v);
		size_t kl = strlen(k), sl = s ? strlen(s) : 0;

		if (n + kl + sl + 3 > len)
			return -1;
		memcpy(buf + n, k, kl);
		n += kl;
		buf[n++] = '\x01';
		memcpy(buf + n, s ? s : "", sl);
		n += sl;
		buf[n++] = '\x02';
	}
	buf[n] = '\0';
	return 0;
}

static void
labels_share(struct nap_cluster *c, struct nap_pod *p)
{
	char key[2048];
	struct shared_labels *s;
	void **v;
	int added;

	if (p->meta.labels == NULL || labels_key(p->meta.labels, key, sizeof(key)) != 0)
		return;
	v = nap_hash_slot(&c->shared_labels, key, &added);
	if (added) {
		s = *v = nap_xmalloc(sizeof(*s));
		s->map = json_object_get(p->meta.labels);
		s->users = 0;
	} else {
		s = *v;
		json_object_put(p->meta.labels);
		p->meta.labels = json_object_get(s->map);
	}
	s->users++;
}

static void
labels_unshare(struct nap_cluster *c, struct nap_pod *p)
{
	char key[2048];
	struct shared_labels *s;

	if (p->meta.labels == NULL || labels_key(p->meta.labels, key, sizeof(key)) != 0)
		return;
	s = nap_hash_get(&c->shared_labels, key);
	if (s == NULL || s->map != p->meta.labels || --s->users > 0)
		return;
	nap_hash_del(&c->shared_labels, key);
	json_object_put(s->map);
	free(s);
}

static void
index_put(struct nap_hash *h, const char *key, void *obj)
{
	if (key && *key)
		nap_hash_put(h, key, obj);
}

/* Remove key only while it still points at obj: another object may have taken it over. */
static void
index_del(struct nap_hash *h, const char *key, void *obj)
{
	if (key && *key && nap_hash_get(h, key) == obj)
		nap_hash_del(h, key);
}

static void
index_add(struct nap_cluster *c, enum nap_kind k, void *obj)
{
	if (k == NAP_KIND_POD) {
		bucket_add(c, obj);
		labels_share(c, obj);
	} else if (k == NAP_KIND_NODE)
		index_put(&c->node_by_pid, ((struct nap_node *)obj)->provider_id, obj);
	else if (k == NAP_KIND_NODECLAIM) {
		struct nap_nodeclaim *nc = obj;

		index_put(&c->claim_by_pid, nc->provider_id, obj);
		index_put(&c->claim_by_node, nc->node_name, obj);
	}
}

static void
index_remove(struct nap_cluster *c, enum nap_kind k, void *obj)
{
	if (k == NAP_KIND_POD) {
		bucket_del(c, obj);
		labels_unshare(c, obj);
	} else if (k == NAP_KIND_NODE)
		index_del(&c->node_by_pid, ((struct nap_node *)obj)->provider_id, obj);
	else if (k == NAP_KIND_NODECLAIM) {
		struct nap_nodeclaim *nc = obj;

		index_del(&c->claim_by_pid, nc->provider_id, obj);
		index_del(&c->claim_by_node, nc->node_name, obj);
	}
}

/* ---- apply ---- */

/* "ns/name" in buf, or in a copy when it does not fit (free it then); every event makes one. */
static char *
make_key(char *buf, size_t len, enum nap_kind k, const char *ns, const char *name)
{
	size_t nl, ml;

	if (!model_kind_namespaced(k) || ns == NULL)
		ns = "";
	nl = strlen(ns);
	ml = strlen(name);
	if (nl + 1 + ml >= len)
		return nap_xasprintf("%s/%s", ns, name);
	memcpy(buf, ns, nl);
	buf[nl] = '/';
	memcpy(buf + nl + 1, name, ml + 1);
	return buf;
}

/* Whether obj is the object key (make_key's "namespace/name") names. */
static int
key_matches(enum nap_kind k, const void *obj, const char *key)
{
	const struct nap_meta *m = obj;
	const char *ns = model_kind_namespaced(k) && m->ns ? m->ns : "";
	size_t nl = strlen(ns);

	return strncmp(key, ns, nl) == 0 && key[nl] == '/' && strcmp(key + nl + 1, m->name) == 0;
}

static uint64_t
key_hash(const char *key)
{
	return nap_hash_str(key, strlen(key));
}

/* The entry of the object key names (hash h), or NULL. */
static struct ix_entry *
ix_find(const struct kindtab *t, enum nap_kind k, const char *key, uint64_t h)
{
	size_t mask, i;

	if (t->ixcap == 0)
		return NULL;
	mask = t->ixcap - 1;
	for (i = h & mask; t->ix[i].at; i = (i + 1) & mask)
		if (t->ix[i].at != IX_TOMB && t->ix[i].h == h &&
		    key_matches(k, t->list[t->ix[i].at - 1], key))
			return &t->ix[i];
	return NULL;
}

/* The entry pointing at list[at]: its object's hash is h. */
static struct ix_entry *
ix_at(const struct kindtab *t, uint64_t h, size_t at)
{
	size_t mask = t->ixcap - 1, i;

	for (i = h & mask; t->ix[i].at; i = (i + 1) & mask)
		if (t->ix[i].at == at + 1)
			return &t->ix[i];
	return NULL;
}

/* Where an entry of hash h goes: the first empty or deleted one on its probe. */
static struct ix_entry *
ix_free(const struct kindtab *t, uint64_t h)
{
	size_t mask = t->ixcap - 1, i;

	for (i = h & mask; t->ix[i].at && t->ix[i].at != IX_TOMB; i = (i + 1) & mask)
		;
	return &t->ix[i];
}

/* Room for one more entry: at most half the entries in use, tombstones swept. */
static void
ix_room(struct kindtab *t)
{
	struct ix_entry *old = t->ix;
	size_t oldcap = t->ixcap, cap = t->ixcap ? t->ixcap : 64, i;

	if ((t->ixused + 1) * 2 <= t->ixcap)
		return;
	while ((t->n + 1) * 2 > cap)
		cap *= 2;
	t->ix = nap_xcalloc(cap, sizeof(*t->ix));
	t->ixcap = cap;
	t->ixused = 0;
	for (i = 0; i < oldcap; i++) {
		if (old[i].at == 0 || old[i].at == IX_TOMB)
			continue;
		*ix_free(t, old[i].h) = old[i];
		t->ixused++;
	}
	free(old);
}

static void
put_obj(struct nap_cluster *c, enum nap_kind k, const char *key, void *obj)
{
	struct kindtab *t = &c->k[k];
	uint64_t h = key_hash(key);
	struct ix_entry *e = ix_find(t, k, key, h);

	if (e) {
		index_remove(c, k, t->list[e->at - 1]);
		obj_free(k, t->list[e->at - 1]);
		t->list[e->at - 1] = obj;
	} else {
		if (t->n == t->alloc) {
			t->alloc = t->alloc ? t->alloc * 2 : 64;
			t->list = nap_xrealloc(t->list, t->alloc * sizeof(*t->list));
		}
		ix_room(t);
		e = ix_free(t, h);
		if (e->at == 0)
			t->ixused++;
		e->h = h;
		e->at = (uint32_t)(t->n + 1);
		t->list[t->n++] = obj;
	}
	index_add(c, k, obj);
	t->version++;
}

/*
 * Delete the object under key, when uid is empty or its own: 0, or 1 when a
 * live object of another uid was left alone.
 */
static int
del_obj(struct nap_cluster *c, enum nap_kind k, const char *key, const char *uid)
{
	struct kindtab *t = &c->k[k];
	struct ix_entry *e = ix_find(t, k, key, key_hash(key)), *moved;
	const struct nap_meta *m;
	size_t at, last;
	void *obj;

	if (e == NULL)
		return 0;
	obj = t->list[e->at - 1];
	/* Every kind's struct starts with its nap_meta. */
	m = obj;
	if (*uid && m->uid[0] && strcmp(m->uid, uid) != 0)
		return 1;
	at = e->at - 1;
	e->at = IX_TOMB;
	index_remove(c, k, obj);
	obj_free(k, obj);
	last = --t->n;
	if (at != last) {
		char buf[512], *mk;

		m = t->list[last];
		mk = make_key(buf, sizeof(buf), k, m->ns, m->name);
		moved = ix_at(t, key_hash(mk), last);
		if (moved) /* always: every listed object has its entry */
			moved->at = (uint32_t)(at + 1);
		if (mk != buf)
			free(mk);
		t->list[at] = t->list[last];
	}
	t->list[last] = NULL;
	t->version++;
	return 0;
}

/*
 * 1 when the stored object under this name has the event's (non-empty)
 * resourceVersion: the API server bumps it on every change, so a relist or a
 * replayed snapshot need not be parsed again.
 */
static int
unchanged(const struct nap_cluster *c, int k, json_object *object)
{
	json_object *md = nap_json_key(object, "metadata");
	const char *rv = nap_json_str(md, "resourceVersion", ""), *name;
	const struct nap_meta *m;

	if (*rv == '\0')
		return 0;
	name = nap_json_str(md, "name", NULL);
	m = name ? nap_cluster_get(c, (enum nap_kind)k, nap_json_str(md, "namespace", ""), name)
		 : NULL;
	return m && strcmp(m->rv, rv) == 0;
}

int
nap_cluster_apply(struct nap_cluster *c, const char *type, json_object *object, struct nap_err *err)
{
	const char *kind, *name, *ns;
	char buf[512], *key;
	int k, del, rc = 0;
	void *obj;

	if (type == NULL)
		return nap_err_set(err, NAP_EX_DATAERR, "event without a type");
	if (strcmp(type, "DELETED") == 0)
		del = 1;
	else if (strcmp(type, "ADDED") == 0 || strcmp(type, "MODIFIED") == 0)
		del = 0;
	else
		return nap_err_set(err, NAP_EX_DATAERR, "unknown event type \"%s\"", type);
	if (object == NULL || !json_object_is_type(object, json_type_object))
		return nap_err_set(err, NAP_EX_DATAERR, "%s event without an object", type);
	kind = nap_json_str(object, "kind", NULL);
	if (kind == NULL || *kind == '\0')
		return nap_err_set(err, NAP_EX_DATAERR, "object %s without a kind",
		    nap_json_str(object, "metadata.name", "(unnamed)"));
	k = nap_kind_lookup(kind);
	if (k < 0)
		return 1;
	if (del) {
		name = nap_json_str(object, "metadata.name", NULL);
		if (name == NULL || *name == '\0')
			return nap_err_set(
			    err, NAP_EX_DATAERR, "%s without metadata.name", nap_kind_word(k));
		ns = nap_json_str(object, "metadata.namespace", "");
		key = make_key(buf, sizeof(buf), k, *ns ? ns : "default", name);
		rc = del_obj(c, k, key, nap_json_str(object, "metadata.uid", ""));
	} else {
		const struct nap_meta *m;

		if (unchanged(c, k, object))
			return 0;
		obj = obj_new(k, object, err);
		if (obj == NULL)
			return -1;
		if ((k == NAP_KIND_POD && !c->keep_pod_json) ||
		    (k == NAP_KIND_NODE && !c->keep_node_json))
			model_meta_drop_json(obj);
		/* Every kind's struct starts with its nap_meta. */
		m = obj;
		key = make_key(buf, sizeof(buf), k, m->ns, m->name);
		put_obj(c, k, key, obj);
	}
	if (key != buf)
		free(key);
	return rc;
}

int
nap_cluster_apply_record(struct nap_cluster *c, json_object *rec, struct nap_err *err)
{
	return nap_cluster_apply(
	    c, nap_json_str(rec, "type", NULL), nap_json_key(rec, "object"), err);
}

/* ---- queries ---- */

uint64_t
nap_cluster_version(const struct nap_cluster *c, enum nap_kind k)
{
	return (unsigned)k < NAP_KIND_N ? c->k[k].version : 0;
}

size_t
nap_cluster_count(const struct nap_cluster *c, enum nap_kind k)
{
	return (unsigned)k < NAP_KIND_N ? c->k[k].n : 0;
}

void *const *
nap_cluster_list(const struct nap_cluster *c, enum nap_kind k, size_t *n)
{
	if ((unsigned)k >= NAP_KIND_N) {
		*n = 0;
		return NULL;
	}
	*n = c->k[k].n;
	return c->k[k].list;
}

void *
nap_cluster_get(const struct nap_cluster *c, enum nap_kind k, const char *ns, const char *name)
{
	char buf[512], *key;
	const struct kindtab *t;
	struct ix_entry *e;

	if ((unsigned)k >= NAP_KIND_N || name == NULL)
		return NULL;
	t = &c->k[k];
	key = make_key(buf, sizeof(buf), k, ns && *ns ? ns : "default", name);
	e = ix_find(t, k, key, key_hash(key));
	if (key != buf)
		free(key);
	return e ? t->list[e->at - 1] : NULL;
}

struct nap_pod *const *
nap_cluster_pods(const struct nap_cluster *c, size_t *n)
{
	return (struct nap_pod *const *)nap_cluster_list(c, NAP_KIND_POD, n);
}

struct nap_node *const *
nap_cluster_nodes(const struct nap_cluster *c, size_t *n)
{
	return (struct nap_node *const *)nap_cluster_list(c, NAP_KIND_NODE, n);
}

struct nap_nodeclaim *const *
nap_cluster_nodeclaims(const struct nap_cluster *c, size_t *n)
{
	return (struct nap_nodeclaim *const *)nap_cluster_list(c, NAP_KIND_NODECLAIM, n);
}

struct nap_nodepool *const *
nap_cluster_nodepools(const struct nap_cluster *c, size_t *n)
{
	return (struct nap_nodepool *const *)nap_cluster_list(c, NAP_KIND_NODEPOOL, n);
}

struct nap_nodeclass *const *
nap_cluster_nodeclasses(const struct nap_cluster *c, size_t *n)
{
	return (struct nap_nodeclass *const *)nap_cluster_list(c, NAP_KIND_NODECLASS, n);
}

struct nap_pdb *const *
nap_cluster_pdbs(const struct nap_cluster *c, size_t *n)
{
	return (struct nap_pdb *const *)nap_cluster_list(c, NAP_KIND_PDB, n);
}

struct nap_daemonset *const *
nap_cluster_daemonsets(const struct nap_cluster *c, size_t *n)
{
	return (struct nap_daemonset *const *)nap_cluster_list(c, NAP_KIND_DAEMONSET, n);
}

struct nap_pod *
nap_cluster_pod(const struct nap_cluster *c, const char *ns, const char *name)
{
	return nap_cluster_get(c, NAP_KIND_POD, ns, name);
}

struct nap_node *
nap_cluster_node(const struct nap_cluster *c, const char *name)
{
	return nap_cluster_get(c, NAP_KIND_NODE, NULL, name);
}

struct nap_nodeclaim *
nap_cluster_nodeclaim(const struct nap_cluster *c, const char *name)
{
	return nap_cluster_get(c, NAP_KIND_NODECLAIM, NULL, name);
}

struct nap_nodepool *
nap_cluster_nodepool(const struct nap_cluster *c, const char *name)
{
	return nap_cluster_get(c, NAP_KIND_NODEPOOL, NULL, name);
}

struct nap_nodeclass *
nap_cluster_nodeclass(const struct nap_cluster *c, const char *name)
{
	return nap_cluster_get(c, NAP_KIND_NODECLASS, NULL, name);
}

struct nap_pod *const *
nap_cluster_pods_on_node(const struct nap_cluster *c, const char *node, size_t *n)
{
	struct bucket *b = node ? nap_hash_get(&c->pods_by_node, node) : NULL;

	*n = b ? b->n : 0;
	return b ? b->pods : NULL;
}

const struct nap_res *
nap_cluster_node_requests(const struct nap_cluster *c, const char *node)
{
	struct bucket *b = node ? nap_hash_get(&c->pods_by_node, node) : NULL;

	return b ? &b->req : &zero_res;
}

struct nap_nodeclaim *
nap_cluster_nodeclaim_of(const struct nap_cluster *c, const struct nap_node *node)
{
	struct nap_nodeclaim *nc = NULL;

	if (node->nodeclaim[0])
		nc = nap_cluster_nodeclaim(c, node->nodeclaim);
	if (nc == NULL && node->provider_id[0])
		nc = nap_hash_get(&c->claim_by_pid, node->provider_id);
	if (nc == NULL)
		nc = nap_hash_get(&c->claim_by_node, node->meta.name);
	return nc;
}

struct nap_node *
nap_cluster_node_of(const struct nap_cluster *c, const struct nap_nodeclaim *claim)
{
	struct nap_node *n = NULL;

	if (claim->node_name[0])
		n = nap_cluster_node(c, claim->node_name);
	if (n == NULL && claim->provider_id[0])
		n = nap_hash_get(&c->node_by_pid, claim->provider_id);
	return n;
}

void
nap_cluster_free(struct nap_cluster *c)
{
	size_t pos = 0, i;
	int k;
	void *v;

	if (c == NULL)
		return;
	while (nap_hash_next(&c->pods_by_node, &pos, NULL, &v)) {
		struct bucket *b = v;

		free(b->pods);
		free(b);
	}
	nap_hash_free(&c->pods_by_node);
	pos = 0;
	while (nap_hash_next(&c->shared_labels, &pos, NULL, &v)) {
		struct shared_labels *s = v;

		json_object_put(s->map);
		free(s);
	}
	nap_hash_free(&c->shared_labels);
	nap_hash_free(&c->node_by_pid);
	nap_hash_free(&c->claim_by_pid);
	nap_hash_free(&c->claim_by_node);
	for (k = 0; k < NAP_KIND_N; k++) {
		struct kindtab *t = &c->k[k];

		for (i = 0; i < t->n; i++)
			obj_free((enum nap_kind)k, t->list[i]);
		free(t->list);
		free(t->ix);
	}
	free(c);
}

void
nap_cluster_keep_pod_json(struct nap_cluster *c, int keep)
{
	c->keep_pod_json = keep;
}

void
nap_cluster_keep_node_json(struct nap_cluster *c, int keep)
{
	c->keep_node_json = keep;
}
