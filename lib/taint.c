/*
 * taint.c - taint effects, the toleration matcher, and the taints a
 * starting node is expected to lose (see taint.h).
 */
#include <string.h>

#include "nap.h"
#include "taint.h"
#include "wellknown.h"

static const char *const effect_names[] = {
    [NAP_EFFECT_ANY] = "",
    [NAP_EFFECT_NOSCHEDULE] = "NoSchedule",
    [NAP_EFFECT_PREFERNOSCHEDULE] = "PreferNoSchedule",
    [NAP_EFFECT_NOEXECUTE] = "NoExecute",
    [NAP_EFFECT_OTHER] = "?",
};

const char *
nap_effect_name(enum nap_effect e)
{
	return (unsigned)e < NAP_ARRAY_LEN(effect_names) ? effect_names[e] : "?";
}

enum nap_effect
nap_effect_parse(const char *s)
{
	int i;

	for (i = NAP_EFFECT_ANY; i < NAP_EFFECT_OTHER; i++)
		if (strcmp(s, effect_names[i]) == 0)
			return (enum nap_effect)i;
	return NAP_EFFECT_OTHER;
}

int
nap_tolerates(const struct nap_toleration *tol, size_t n, const struct nap_taint *t)
{
	size_t i;

	for (i = 0; i < n; i++) {
		const struct nap_toleration *o = &tol[i];

		if (o->effect != NAP_EFFECT_ANY && o->effect != t->effect)
			continue;
		if (*o->key == '\0') {
			if (o->exists)
				return 1;
			continue;
		}
		if (strcmp(o->key, t->key) != 0)
			continue;
		if (o->exists || strcmp(o->value, t->value) == 0)
			return 1;
	}
	return 0;
}

int
nap_taints_tolerated(const struct nap_toleration *tol, size_t n, const struct nap_taint *taints,
    size_t ntaints, unsigned flags, const struct nap_taint **bad)
{
	size_t i;

	for (i = 0; i < ntaints; i++) {
		const struct nap_taint *t = &taints[i];

		if ((flags & NAP_TAINTS_SKIP_PREFER) && t->effect == NAP_EFFECT_PREFERNOSCHEDULE)
			continue;
		if ((flags & NAP_TAINTS_SKIP_EPHEMERAL) && nap_taint_is_ephemeral(t->key))
			continue;
		if (!nap_tolerates(tol, n, t)) {
			if (bad)
				*bad = t;
			return 0;
		}
	}
	if (bad)
		*bad = NULL;
	return 1;
}

int
nap_tolerates_all(const struct nap_toleration *tol, size_t n, const struct nap_taint *taints,
    size_t ntaints, const struct nap_taint **bad)
{
	return nap_taints_tolerated(tol, n, taints, ntaints, NAP_TAINTS_SKIP_PREFER, bad);
}

int
nap_taint_is_ephemeral(const char *key)
{
	static const char *const keys[] = {
	    NAP_TAINT_NOT_READY,
	    NAP_TAINT_UNREACHABLE,
	    NAP_TAINT_CLOUD_UNINITIALIZED,
	    NAP_TAINT_UNREGISTERED,
	};
	size_t i;

	for (i = 0; i < NAP_ARRAY_LEN(keys); i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return strncmp(key, NAP_TAINT_READINESS_PREFIX, strlen(NAP_TAINT_READINESS_PREFIX)) == 0;
}
