/*
 * print.c - nap-cost's three ways of writing a report (cost.h): an aligned
 * table for people, a Cost record for programs, an SVG chart over time.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cost.h"

#define GIB (1024.0 * 1024 * 1024)

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm)) {
		snprintf(buf, len, "-");
		return;
	}
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* req / alloc as a percentage with one decimal, "-" when nothing is allocatable. */
static void
fmt_pct(int64_t req, int64_t alloc, char *buf, size_t len)
{
	if (alloc <= 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.1f", 100.0 * (double)req / (double)alloc);
}

static void
fmt_usd(const struct cost_row *r, char *buf, size_t len)
{
	if (r->unpriced == r->nodes && r->nodes)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.4f", r->usd);
}

static int
key_width(const struct cost_rows *r, const char *head)
{
	int w = (int)strlen(head);
	size_t i;

	for (i = 0; i < r->n; i++)
		if ((int)strlen(r->v[i].key) > w)
			w = (int)strlen(r->v[i].key);
	return w;
}

static void
print_group(FILE *f, const struct cost_rows *r, const char *head, int util)
{
	int w = key_width(r, head);
	size_t i;

	fprintf(f, "\n%-*s  %5s  %10s", w, head, "NODES", "$/H");
	if (util)
		fprintf(f, "  %6s  %6s", "CPU%", "MEM%");
	fputc('\n', f);
	for (i = 0; i < r->n; i++) {
		const struct cost_row *g = &r->v[i];
		char usd[32], cpu[16], mem[16];

		fmt_usd(g, usd, sizeof(usd));
		fprintf(f, "%-*s  %5d  %10s", w, g->key, g->nodes, usd);
		if (util) {
			fmt_pct(g->cpu_req, g->cpu_alloc, cpu, sizeof(cpu));
			fmt_pct(g->mem_req, g->mem_alloc, mem, sizeof(mem));
			fprintf(f, "  %6s  %6s", cpu, mem);
		}
		fputc('\n', f);
	}
}

static int
col_width(const struct cost_rows *r, size_t off, const char *head)
{
	int w = (int)strlen(head);
	size_t i;

	for (i = 0; i < r->n; i++) {
		const char *s = *(char *const *)((const char *)&r->v[i] + off);

		if ((int)strlen(s) > w)
			w = (int)strlen(s);
	}
	return w;
}

void
cost_print_table(FILE *f, const struct cost_sample *s)
{
	static const char *const heads[COST_BY_N] = {"NODEPOOL", "CAPACITY", "ZONE", "SIZE"};
	char when[32], usd[32], ratio[32];
	size_t i;
	int wn, wp, ws, wz;

	fmt_time(s->time, when, sizeof(when));
	fmt_usd(&s->all, usd, sizeof(usd));
	if (s->bound > 0 && s->all.unpriced < s->all.nodes)
		snprintf(ratio, sizeof(ratio), "%.3f", s->all.usd / s->bound);
	else
		snprintf(ratio, sizeof(ratio), "-");
	fprintf(f, "%-20s  %5s  %8s  %10s  %10s  %10s  %6s\n", "TIME", "NODES", "PODS", "$/H",
	    "BOUND $/H", "AGGR $/H", "RATIO");
	fprintf(f, "%-20s  %5d  %8.0f  %10s  %10.4f  %10.4f  %6s\n", when, s->all.nodes, s->pods,
	    usd, s->bound, s->aggregate, ratio);
	if (s->all.unpriced)
		fprintf(f,
		    "# %d node(s) of a size the catalog does not price are left out of $/H\n",
		    s->all.unpriced);
	if (s->unplaced > 0)
		fprintf(f, "# %.0f pod(s) fit no instance type and are left out of the bounds\n",
		    s->unplaced);
	if (s->bound_flags & NAP_BOUND_INEXACT)
		fprintf(
		    f, "# the bound stopped at its iteration limit: a bound, maybe not the best\n");
	for (i = 0; i < COST_BY_N; i++)
		print_group(f, &s->by[i], heads[i], i == COST_BY_POOL);
	wn = key_width(&s->nodes, "NODE");
	wp = col_width(&s->nodes, offsetof(struct cost_row, pool), "NODEPOOL");
	ws = col_width(&s->nodes, offsetof(struct cost_row, size), "SIZE");
	wz = col_width(&s->nodes, offsetof(struct cost_row, zone), "ZONE");
	fprintf(f, "\n%-*s  %-*s  %-*s  %-*s  %-9s  %10s  %6s  %6s\n", wn, "NODE", wp, "NODEPOOL",
	    ws, "SIZE", wz, "ZONE", "CAPACITY", "$/H", "CPU%", "MEM%");
	for (i = 0; i < s->nodes.n; i++) {
		const struct cost_row *r = &s->nodes.v[i];
		char cpu[16], mem[16];

		fmt_usd(r, usd, sizeof(usd));
		fmt_pct(r->cpu_req, r->cpu_alloc, cpu, sizeof(cpu));
		fmt_pct(r->mem_req, r->mem_alloc, mem, sizeof(mem));
		fprintf(f, "%-*s  %-*s  %-*s  %-*s  %-9s  %10s  %6s  %6s\n", wn, r->key, wp,
		    r->pool, ws, r->size, wz, r->zone, r->captype, usd, cpu, mem);
	}
}

/* USD rounded to 6 decimals, so that records compare equal across platforms. */
static json_object *
usd_json(double v)
{
	return json_object_new_double(round(v * 1e6) / 1e6);
}

static json_object *
util_json(int64_t req, int64_t alloc)
{
	if (alloc <= 0)
		return NULL;
	return json_object_new_double(round(1e4 * (double)req / (double)alloc) / 1e4);
}

static json_object *
row_json(const struct cost_row *r, const char *keyname, int node)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, keyname, json_object_new_string(r->key));
	if (node) {
		json_object_object_add(o, "nodePool", json_object_new_string(r->pool));
		json_object_object_add(o, "instanceType", json_object_new_string(r->size));
		json_object_object_add(o, "zone", json_object_new_string(r->zone));
		json_object_object_add(o, "capacityType", json_object_new_string(r->captype));
	} else
		json_object_object_add(o, "nodes", json_object_new_int(r->nodes));
	json_object_object_add(o, "usdPerHour", r->unpriced == r->nodes ? NULL : usd_json(r->usd));
	if (r->unpriced && !node)
		json_object_object_add(o, "unpricedNodes", json_object_new_int(r->unpriced));
	json_object_object_add(o, "cpuRequested", json_object_new_int64(r->cpu_req));
	json_object_object_add(o, "cpuAllocatable", json_object_new_int64(r->cpu_alloc));
	json_object_object_add(o, "memoryRequested", json_object_new_int64(r->mem_req));
	json_object_object_add(o, "memoryAllocatable", json_object_new_int64(r->mem_alloc));
	json_object_object_add(o, "cpuUtilization", util_json(r->cpu_req, r->cpu_alloc));
	json_object_object_add(o, "memoryUtilization", util_json(r->mem_req, r->mem_alloc));
	return o;
}

json_object *
cost_record(const struct cost_sample *s)
{
	static const char *const names[COST_BY_N] = {
	    "byNodePool", "byCapacityType", "byZone", "bySize"};
	static const char *const keys[COST_BY_N] = {
	    "nodePool", "capacityType", "zone", "instanceType"};
	json_object *o = json_object_new_object(), *a;
	char when[32];
	size_t i, j;

	json_object_object_add(o, "type", json_object_new_string("Cost"));
	fmt_time(s->time, when, sizeof(when));
	json_object_object_add(o, "time", s->time > 0 ? json_object_new_string(when) : NULL);
	json_object_object_add(o, "nodes", json_object_new_int(s->all.nodes));
	json_object_object_add(o, "unpricedNodes", json_object_new_int(s->all.unpriced));
	json_object_object_add(o, "usdPerHour", usd_json(s->all.usd));
	json_object_object_add(o, "pods", json_object_new_int64((int64_t)s->pods));
	json_object_object_add(o, "podsFitNoType", json_object_new_int64((int64_t)s->unplaced));
	json_object_object_add(o, "boundUsdPerHour", usd_json(s->bound));
	json_object_object_add(o, "aggregateBoundUsdPerHour", usd_json(s->aggregate));
	json_object_object_add(
	    o, "boundExact", json_object_new_boolean(!(s->bound_flags & NAP_BOUND_INEXACT)));
	json_object_object_add(o, "ratio",
	    s->bound > 0 ? json_object_new_double(round(1e4 * s->all.usd / s->bound) / 1e4) : NULL);
	json_object_object_add(o, "cpuUtilization", util_json(s->all.cpu_req, s->all.cpu_alloc));
	json_object_object_add(o, "memoryUtilization", util_json(s->all.mem_req, s->all.mem_alloc));
	for (i = 0; i < COST_BY_N; i++) {
		a = json_object_new_array();
		for (j = 0; j < s->by[i].n; j++)
			json_object_array_add(a, row_json(&s->by[i].v[j], keys[i], 0));
		json_object_object_add(o, names[i], a);
	}
	a = json_object_new_array();
	for (j = 0; j < s->nodes.n; j++)
		json_object_array_add(a, row_json(&s->nodes.v[j], "name", 1));
	json_object_object_add(o, "perNode", a);
	return o;
}

/* A round step for an axis spanning span in about n steps. */
static double
nice_step(double span, int n)
{
	double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;

	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

int
cost_write_svg(const char *path, const struct cost_point *s, size_t n)
{
	const double W = 800, H = 400, L = 70, R = 20, T = 40, B = 50;
	double ymax = 0, t0 = n ? (double)s[0].time : 0, t1 = t0, step, v;
	FILE *f = fopen(path, "w");
	size_t i;
	int line;

	if (!f)
		return -1;
	for (i = 0; i < n; i++) {
		ymax = fmax(ymax, fmax(s[i].usd, s[i].bound));
		t1 = fmax(t1, (double)s[i].time);
	}
	if (ymax <= 0)
		ymax = 1;
	ymax = ceil(ymax / nice_step(ymax, 5)) * nice_step(ymax, 5);
	if (t1 <= t0)
		t1 = t0 + 1;
#define X(t) (L + ((t)-t0) / (t1 - t0) * (W - L - R))
#define Y(u) (H - B - (u) / ymax * (H - T - B))
	fprintf(f,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
	    "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
	    "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
	    "<text x=\"%.0f\" y=\"24\" font-size=\"16\">Fleet $/h and its whole-pod bound</text>\n",
	    W, H, W, H, L);
	step = nice_step(ymax, 5);
	for (v = 0; v <= ymax + step / 2; v += step)
		fprintf(f,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
		    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n",
		    L, Y(v), W - R, Y(v), L - 6, Y(v) + 4, v);
	step = nice_step(t1 - t0, 6);
	for (v = 0; v <= t1 - t0 + step / 2; v += step)
		fprintf(f,
		    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888\"/>"
		    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%gs</text>\n",
		    X(t0 + v), H - B, X(t0 + v), H - B + 5, X(t0 + v), H - B + 20, v);
	fprintf(f,
	    "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
	    "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n"
	    "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">seconds since the first "
	    "sample</text>\n"
	    "<text x=\"16\" y=\"%.0f\" transform=\"rotate(-90 16 %.0f)\" "
	    "text-anchor=\"middle\">USD per hour</text>\n",
	    L, H - B, W - R, H - B, L, T, L, H - B, (L + W - R) / 2, H - 12, (T + H - B) / 2,
	    (T + H - B) / 2);
	for (line = 0; line < 2; line++) {
		fprintf(f,
		    "<polyline id=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
		    line ? "bound" : "fleet", line ? "#2a7" : "#c33");
		/* steps, not slopes: the cost holds until the next sample changes it */
		for (i = 0; i < n; i++) {
			double u = line ? s[i].bound : s[i].usd;

			if (i)
				fprintf(f, " %.1f,%.1f", X((double)s[i].time),
				    Y(line ? s[i - 1].bound : s[i - 1].usd));
			fprintf(f, "%s%.1f,%.1f", i ? " " : "", X((double)s[i].time), Y(u));
		}
		fprintf(f, "\"/>\n");
	}
	fprintf(f,
	    "<rect x=\"%.0f\" y=\"%.0f\" width=\"14\" height=\"3\" fill=\"#c33\"/>"
	    "<text x=\"%.0f\" y=\"%.0f\">fleet $/h</text>\n"
	    "<rect x=\"%.0f\" y=\"%.0f\" width=\"14\" height=\"3\" fill=\"#2a7\"/>"
	    "<text x=\"%.0f\" y=\"%.0f\">whole-pod bound</text>\n</svg>\n",
	    W - 250, 20.0, W - 232, 25.0, W - 150, 20.0, W - 132, 25.0);
#undef X
#undef Y
	if (ferror(f)) {
		fclose(f);
		errno = EIO;
		return -1;
	}
	if (fclose(f) != 0)
		return -1;
	return 0;
}
