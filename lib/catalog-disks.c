/*
 * catalog-disks.c - how many data disks a size can attach, where nap knows.
 *
 * The Azure disk CSI driver reports a node's attach limit as its size's
 * maxDataDiskCount (Resource SKUs capability MaxDataDiskCount).  The shared
 * Resource SKUs data gives it for these sizes only; the catalog format has
 * no column for it, so the facts live here, sorted by name.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

struct disks {
	const char *name;
	int disks;
};

static const struct disks known[] = {
    {"Standard_A0", 1},
    {"Standard_B1s", 2},
    {"Standard_B20ms", 32},
    {"Standard_D128ds_v6", 64},
    {"Standard_D16plds_v5", 32},
    {"Standard_D2_v2", 8},
    {"Standard_D2_v3", 4},
    {"Standard_D2_v5", 4},
    {"Standard_D2as_v6", 4},
    {"Standard_D2s_v3", 4},
    {"Standard_D4s_v3", 8},
    {"Standard_D64s_v3", 32},
    {"Standard_DC8s_v3", 32},
    {"Standard_DS2_v2", 8},
    {"Standard_E4d_v5", 8},
    {"Standard_F16s_v2", 32},
    {"Standard_M8-2ms", 8},
    {"Standard_NC16as_T4_v3", 32},
    {"Standard_NC24ads_A100_v4", 8},
    {"Standard_NC6s_v3", 12},
};

static int
cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct disks *)elem)->name);
}

int
nap_itype_max_data_disks(const char *name)
{
	const struct disks *hit =
	    bsearch(name, known, sizeof(known) / sizeof(known[0]), sizeof(known[0]), cmp_name);

	return hit ? hit->disks : 0;
}
