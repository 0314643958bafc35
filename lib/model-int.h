/*
 * model-int.h - helpers shared by the lib/model-*.c files only; not part of
 * the library's interface.  Same conventions as model.h: strings returned
 * are the caller's, lists are filled completely or left empty on error.
 */
#ifndef NAP_MODEL_INT_H
#define NAP_MODEL_INT_H

#include "model.h"

/* Room for "<word> <namespace>/<name>" in messages. */
#define MODEL_WHO 320

char *model_str(json_object *obj, const char *path); /* "" when absent */
char *model_str_or_null(json_object *obj, const char *path);
int model_strv(json_object *arr, char ***out, size_t *n, const char *what, struct nap_err *err);
void model_strv_free(char **v, size_t n);

/*
 * Scan obj once and point each key's dst at its value (NULL when absent):
 * json-c compares every probed key with strcmp, so on hot paths one pass
 * over the object beats a lookup per field.
 */
struct model_key {
	const char *name;
	json_object **dst;
};
void model_scan(json_object *obj, const struct model_key *keys, size_t n);
const char *model_jstr(json_object *v, const char *def);
int64_t model_jint(json_object *v, int64_t def);

int model_meta(struct nap_meta *m, json_object *obj, int namespaced, const char *word, char *who,
    size_t wholen, struct nap_err *err);
void model_meta_free(struct nap_meta *m);
/*
 * The same with ns, name, uid and rv in *pool (pods), and no "who" (a pod
 * formats its own when it has an error to name it in); released by
 * model_meta_free_pooled.
 */
int model_meta_pooled(struct nap_meta *m, json_object *obj, int namespaced, const char *word,
    struct nap_strpool **pool, struct nap_err *err);
void model_meta_free_pooled(struct nap_meta *m);
/* Release raw and the annotations (labels stay): what a cluster does to pods. */
void model_meta_drop_json(struct nap_meta *m);

void model_conds(json_object *arr, struct nap_cond **out, size_t *n);
void model_conds_free(struct nap_cond *c, size_t n);

int model_taints(
    json_object *arr, struct nap_taint **out, size_t *n, const char *what, struct nap_err *err);
void model_taints_free(struct nap_taint *t, size_t n);
/*
 * Toleration strings go to the pod's pool (well-known keys are shared static
 * strings); free the array with model_tolerations_free.  A list that is
 * exactly the API server's admission default (not-ready and unreachable,
 * Exists, NoExecute, 300 s) is one static array all such pods share: treat
 * it as read-only.
 */
int model_tolerations(json_object *arr, struct nap_toleration **out, size_t *n,
    struct nap_strpool **pool, struct nap_err *err);
void model_tolerations_free(struct nap_toleration *t);
/* Whether t is that shared admission default: for tests. */
int model_tolerations_shared(const struct nap_toleration *t);

/* A copy of s in the pool ("" shares one static byte); freed with the pool. */
char *model_pool_dup(struct nap_strpool **pool, const char *s);
void model_pool_free(struct nap_strpool *pool);
/*
 * Copy the pool's strings into one block of their exact size and point
 * *fields[i] at the copies, when the pool holds more than one block and
 * fields name every string in it (the pool grows by doubling, so a pod's
 * strings otherwise sit in two or three blocks with up to half of the last
 * one unused).  Returns the new block's bytes, or NULL when it left the
 * pool as it was.  Fields pointing outside the pool (static strings) are
 * left alone.
 */
char *model_pool_pack(struct nap_strpool **pool, char **const *fields, size_t n);
/* The bytes the pool holds (headers included) and its block count: for tests. */
size_t model_pool_size(const struct nap_strpool *pool, size_t *blocks);

int model_duration_field(
    json_object *obj, const char *path, int64_t def, int64_t *out, struct nap_err *err);

int model_kind_namespaced(enum nap_kind k);

/* FNV-style hashes: of a JSON value's content (NULL hashes as null), of a string. */
uint64_t model_json_hash(json_object *o, uint64_t h);
uint64_t model_str_hash(const char *s, uint64_t h);
uint64_t model_bytes_hash(const void *p, size_t n, uint64_t h);

/* Pod spec parsing, shared by Pod and the DaemonSet template. */
int model_pod_spec(struct nap_pod *p, json_object *spec, struct nap_err *err);
void model_pod_spec_free(struct nap_pod *p);

/* nodeSelectorTerms[] → one nap_reqs per term (matchExpressions). */
int model_node_terms(json_object *terms, struct nap_reqs **out, size_t *n, struct nap_err *err);
void model_reqs_array_free(struct nap_reqs *r, size_t n);

#endif
