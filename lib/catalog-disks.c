/*
 * catalog-disks.c - how many data disks a size can attach, where nap knows.
 *
 * The Azure disk CSI driver reports a node's attach limit as its size's
 * maxDataDiskCount (Resource SKUs capability MaxDataDiskCount).  The
 * catalog format has no column for it, so the facts live here, from two
 * sources, tried in this order:
 *
 *   1. sizes: the Resource SKUs records in the shared data set (the
 *      provider's test fakes for eastus, southcentralus, westcentralus),
 *      single sizes whose series page lists them apart (isolated sizes),
 *      and, at 0, sizes of a series with a rule that its pages do not
 *      list, so that the rule does not stretch to them;
 *   2. rules: per sku-series label, the "Max Remote Storage Disks" column
 *      of the series' size page in Microsoft's documentation
 *      (MicrosoftDocs/azure-compute-docs, articles/virtual-machines/sizes/
 *      <category>/<series>-series.md, read 2026-12-08), either as the rule
 *      every row follows (2 x vCPUs, at most 32) or as the table by vCPU
 *      count where the rows follow none.  Series without such a page
 *      cite another: the previous generations (D, DS, F, Fs, G, GS, Ls,
 *      NVv2)
 *      and the Msv2/Mdsv2 medium-memory sizes are read from
 *      MicrosoftDocs/azure-docs, articles/virtual-machines/
 *      sizes-previous-gen.md and msv2-mdsv2-series.md.
 *
 * A size in neither has no known count (0), and the scheduler puts no
 * attach limit on it (nap-solve(1), VOLUMES).  The vCPU count is the
 * catalog's, which for a constrained-core size is its parent's: such a
 * size has its parent's disk limits.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

struct disks {
	const char *name;
	int disks;
};

/* Sorted by name (strcmp). */
static const struct disks known[] = {
    {"Standard_A0", 1},			/* Resource SKUs data */
    {"Standard_B1s", 2},		/* Resource SKUs data */
    {"Standard_B20ms", 32},		/* Resource SKUs data */
    {"Standard_D128ds_v6", 64},		/* Resource SKUs data */
    {"Standard_D16plds_v5", 32},	/* Resource SKUs data */
    {"Standard_D2_v2", 8},		/* Resource SKUs data */
    {"Standard_D2_v3", 4},		/* Resource SKUs data */
    {"Standard_D2_v5", 4},		/* Resource SKUs data */
    {"Standard_D2as_v6", 4},		/* Resource SKUs data */
    {"Standard_D2s_v3", 4},		/* Resource SKUs data */
    {"Standard_D4s_v3", 8},		/* Resource SKUs data */
    {"Standard_D64s_v3", 32},		/* Resource SKUs data */
    {"Standard_DC8s_v3", 32},		/* Resource SKUs data */
    {"Standard_DS2_v2", 8},		/* Resource SKUs data */
    {"Standard_E104i_v5", 64},		/* memory-optimized/ev5-series.md */
    {"Standard_E104id_v5", 64},		/* memory-optimized/edv5-series.md */
    {"Standard_E104ids_v5", 64},	/* memory-optimized/edsv5-series.md */
    {"Standard_E104is_v5", 64},		/* memory-optimized/esv5-series.md */
    {"Standard_E112iads_v5", 64},	/* memory-optimized/eadsv5-series.md */
    {"Standard_E112ias_v5", 64},	/* memory-optimized/easv5-series.md */
    {"Standard_E112ibds_v5", 64},	/* memory-optimized/ebdsv5-ebsv5-series.md */
    {"Standard_E112ibs_v5", 64},	/* memory-optimized/ebdsv5-ebsv5-series.md */
    {"Standard_E192ids_v6", 64},	/* memory-optimized/edsv6-series.md */
    {"Standard_E192is_v6", 64},		/* memory-optimized/esv6-series.md */
    {"Standard_E4d_v5", 8},		/* Resource SKUs data */
    {"Standard_E64i_v3", 32},		/* memory-optimized/ev3-esv3-series.md */
    {"Standard_E64is_v3", 32},		/* memory-optimized/ev3-esv3-series.md */
    {"Standard_E80ids_v4", 64},		/* memory-optimized/edsv4-series.md */
    {"Standard_E80is_v4", 64},		/* memory-optimized/esv4-series.md */
    {"Standard_F16s_v2", 32},		/* Resource SKUs data */
    {"Standard_M416bs_v3", 0},		/* not on mbsv3: no count */
    {"Standard_M416s_10_v2", 0},	/* not on mv2 or msv2-mdsv2: no count */
    {"Standard_M416s_9_v2", 0},		/* not on mv2 or msv2-mdsv2: no count */
    {"Standard_M8-2ms", 8},		/* Resource SKUs data */
    {"Standard_NC12s_v3", 24},		/* gpu-accelerated/ncv3-series.md */
    {"Standard_NC16as_T4_v3", 32},	/* Resource SKUs data */
    {"Standard_NC24ads_A100_v4", 8},	/* Resource SKUs data */
    {"Standard_NC24rs_v3", 32},		/* gpu-accelerated/ncv3-series.md */
    {"Standard_NC24s_v3", 32},		/* gpu-accelerated/ncv3-series.md */
    {"Standard_NC40ads_H100_v5", 8},	/* gpu-accelerated/ncadsh100v5-series.md */
    {"Standard_NC48ads_A100_v4", 16},	/* gpu-accelerated/nca100v4-series.md */
    {"Standard_NC6s_v3", 12},		/* Resource SKUs data */
    {"Standard_NC80adis_H100_v5", 16},	/* gpu-accelerated/ncadsh100v5-series.md */
    {"Standard_NC96ads_A100_v4", 32},	/* gpu-accelerated/nca100v4-series.md */
    {"Standard_ND40rs_v2", 32},		/* gpu-accelerated/ndv2-series.md */
    {"Standard_ND96amsr_A100_v4", 32},	/* gpu-accelerated/ndma100v4-series.md */
    {"Standard_ND96asr_v4", 32},	/* gpu-accelerated/ndasra100v4-series.md */
    {"Standard_ND96isr_H100_v5", 32},	/* gpu-accelerated/ndh100v5-series.md */
    {"Standard_ND96isr_H200_v5", 16},	/* gpu-accelerated/nd-h200-v5-series.md */
    {"Standard_ND96isr_MI300X_v5", 16}, /* gpu-accelerated/ndmi300xv5-series.md */
    {"Standard_NV12ads_A10_v5", 4},	/* gpu-accelerated/nvadsa10v5-series.md */
    {"Standard_NV12ads_V710_v5", 6},	/* gpu-accelerated/nvadsv710-v5-series.md */
    {"Standard_NV18ads_A10_v5", 8},	/* gpu-accelerated/nvadsa10v5-series.md */
    {"Standard_NV24ads_V710_v5", 12},	/* gpu-accelerated/nvadsv710-v5-series.md */
    {"Standard_NV28adms_V710_v5", 14},	/* gpu-accelerated/nvadsv710-v5-series.md */
    {"Standard_NV36adms_A10_v5", 32},	/* gpu-accelerated/nvadsa10v5-series.md */
    {"Standard_NV36ads_A10_v5", 16},	/* gpu-accelerated/nvadsa10v5-series.md */
    {"Standard_NV4ads_V710_v5", 2},	/* gpu-accelerated/nvadsv710-v5-series.md */
    {"Standard_NV6ads_A10_v5", 4},	/* gpu-accelerated/nvadsa10v5-series.md */
    {"Standard_NV72ads_A10_v5", 32},	/* gpu-accelerated/nvadsa10v5-series.md */
    {"Standard_NV8ads_V710_v5", 4},	/* gpu-accelerated/nvadsv710-v5-series.md */
};

/* Disks by exact vCPU count; the last step also holds for every larger count. */
struct step {
	int vcpus, disks;
};

/* Intel and Arm v6 (Dsv6, Ddsv6, Dpsv6, Esv6, Lsv4, ...): 8, 12, 24, 48, then 64. */
static const struct step v6[] = {{2, 8}, {4, 12}, {8, 24}, {16, 48}, {20, 48}, {32, 64}, {0, 0}};
/* AMD D and E v7 (Dasv7, Dadsv7, Easv7, ...): 10, 12, 26, 48, then 64. */
static const struct step amd7[] = {{2, 10}, {4, 12}, {8, 26}, {16, 48}, {32, 64}, {0, 0}};
/* F v7 (Fasv7, Famsv7, ...), one vCPU a core: the AMD v7 counts at half the vCPUs. */
static const struct step f7[] = {{1, 10}, {2, 12}, {4, 26}, {8, 48}, {16, 64}, {0, 0}};
/* FX v2 (FXmsv2, FXmdsv2), one vCPU a core: 8, 12, 24, then 48 from 12 vCPUs, 64 from 32. */
static const struct step fx2[] = {
    {2, 8}, {4, 12}, {8, 24}, {12, 48}, {16, 48}, {24, 48}, {32, 64}, {0, 0}};
/* Bv1 (general-purpose/bv1-series.md): B1* 2, B2* 4, B4ms 8, B8ms and B12ms 16, then 32. */
static const struct step bv1[] = {
    {1, 2}, {2, 4}, {4, 8}, {8, 16}, {12, 16}, {16, 32}, {20, 32}, {0, 0}};

/* A series: either per_vcpu x vCPUs, at most most, or its steps. */
struct rule {
	const char *series;
	int per_vcpu, most;
	const struct step *steps;
};

/*
 * Sorted by series (strcmp).  The page of each, under sizes/: general-
 * purpose/ for A-D, compute-optimized/ for F, memory-optimized/ for E,
 * storage-optimized/ for L, memory-optimized/ for M; its name is the series in lower case with a
 * "-series.md" suffix (dv5-series.md), except E_v3 and Es_v3, which share
 * ev3-esv3-series.md, and Ebs_v5 and Ebds_v5, ebdsv5-ebsv5-series.md; the
 * others that differ are named.
 */
static const struct rule rules[] = {
    {"A_v2", 2, 16, NULL},     /* av2 */
    {"Am_v2", 2, 16, NULL},    /* av2 */
    {"Bals_v2", 2, 32, NULL},  /* basv2 */
    {"Bas_v2", 2, 32, NULL},   /* basv2 */
    {"Bats_v2", 2, 32, NULL},  /* basv2 */
    {"Bls", 0, 0, bv1},	       /* bv1 */
    {"Bls_v2", 2, 32, NULL},   /* bsv2 */
    {"Bms", 0, 0, bv1},	       /* bv1 */
    {"Bpls_v2", 2, 32, NULL},  /* bpsv2 */
    {"Bps_v2", 2, 32, NULL},   /* bpsv2 */
    {"Bpts_v2", 2, 32, NULL},  /* bpsv2 */
    {"Bs", 0, 0, bv1},	       /* bv1 */
    {"Bs_v2", 2, 32, NULL},    /* bsv2 */
    {"Bts_v2", 2, 32, NULL},   /* bsv2 */
    {"D", 4, 64, NULL},	       /* prev-gen */
    {"DS", 4, 64, NULL},       /* prev-gen */
    {"DS_v2", 4, 64, NULL},    /* dsv2, memory-optimized/dv2-dsv2-series-memory */
    {"D_v2", 4, 64, NULL},     /* dv2, memory-optimized/dv2-dsv2-series-memory */
    {"D_v3", 2, 32, NULL},     /* dv3 */
    {"D_v4", 2, 32, NULL},     /* dv4 */
    {"D_v5", 2, 32, NULL},     /* dv5 */
    {"Da_v4", 2, 32, NULL},    /* dav4 */
    {"Dads_v5", 2, 32, NULL},  /* dadsv5 */
    {"Dads_v6", 2, 32, NULL},  /* dadsv6 */
    {"Dads_v7", 0, 0, amd7},   /* dadsv7 */
    {"Dalds_v6", 2, 32, NULL}, /* daldsv6 */
    {"Dalds_v7", 0, 0, amd7},  /* daldsv7 */
    {"Dals_v6", 2, 32, NULL},  /* dalsv6 */
    {"Dals_v7", 0, 0, amd7},   /* dalsv7 */
    {"Das_v4", 2, 32, NULL},   /* dasv4 */
    {"Das_v5", 2, 32, NULL},   /* dasv5 */
    {"Das_v6", 2, 32, NULL},   /* dasv6 */
    {"Das_v7", 0, 0, amd7},    /* dasv7 */
    {"Dd_v4", 2, 32, NULL},    /* ddv4 */
    {"Dd_v5", 2, 32, NULL},    /* ddv5 */
    {"Dds_v4", 2, 32, NULL},   /* ddsv4 */
    {"Dds_v5", 2, 32, NULL},   /* ddsv5 */
    {"Dds_v6", 0, 0, v6},      /* ddsv6 */
    {"Dlds_v5", 2, 32, NULL},  /* dldsv5 */
    {"Dlds_v6", 0, 0, v6},     /* dldsv6 */
    {"Dls_v5", 2, 32, NULL},   /* dlsv5 */
    {"Dls_v6", 0, 0, v6},      /* dlsv6 */
    {"Dpds_v5", 2, 32, NULL},  /* dpdsv5 */
    {"Dpds_v6", 0, 0, v6},     /* dpdsv6 */
    {"Dplds_v5", 2, 32, NULL}, /* dpldsv5 */
    {"Dplds_v6", 0, 0, v6},    /* dpldsv6 */
    {"Dpls_v5", 2, 32, NULL},  /* dplsv5 */
    {"Dpls_v6", 0, 0, v6},     /* dplsv6 */
    {"Dps_v5", 2, 32, NULL},   /* dpsv5 */
    {"Dps_v6", 0, 0, v6},      /* dpsv6 */
    {"Ds_v3", 2, 32, NULL},    /* dsv3 */
    {"Ds_v4", 2, 32, NULL},    /* dsv4 */
    {"Ds_v5", 2, 32, NULL},    /* dsv5 */
    {"Ds_v6", 0, 0, v6},       /* dsv6 */
    {"ECads_v5", 2, 32, NULL}, /* ecasv5-ecadsv5, ecasccv5-ecadsccv5 */
    {"ECas_v5", 2, 32, NULL},  /* ecasv5-ecadsv5, ecasccv5-ecadsccv5 */
    {"E_v3", 2, 32, NULL},     /* ev3-esv3 */
    {"E_v4", 2, 32, NULL},     /* ev4 */
    {"E_v5", 2, 32, NULL},     /* ev5 */
    {"Ea_v4", 2, 32, NULL},    /* eav4 */
    {"Eads_v5", 2, 32, NULL},  /* eadsv5 */
    {"Eads_v6", 2, 32, NULL},  /* eadsv6 */
    {"Eads_v7", 0, 0, amd7},   /* eadsv7 */
    {"Eas_v4", 2, 32, NULL},   /* easv4 */
    {"Eas_v5", 2, 32, NULL},   /* easv5 */
    {"Eas_v6", 2, 32, NULL},   /* easv6 */
    {"Eas_v7", 0, 0, amd7},    /* easv7 */
    {"Ebds_v5", 2, 32, NULL},  /* ebdsv5-ebsv5 */
    {"Ebs_v5", 2, 32, NULL},   /* ebdsv5-ebsv5 */
    {"Ed_v4", 2, 32, NULL},    /* edv4 */
    {"Ed_v5", 2, 32, NULL},    /* edv5 */
    {"Eds_v4", 2, 32, NULL},   /* edsv4 */
    {"Eds_v5", 2, 32, NULL},   /* edsv5 */
    {"Eds_v6", 0, 0, v6},      /* edsv6 */
    {"Epds_v5", 2, 32, NULL},  /* epdsv5 */
    {"Epds_v6", 0, 0, v6},     /* epdsv6 */
    {"Eps_v5", 2, 32, NULL},   /* epsv5 */
    {"Eps_v6", 0, 0, v6},      /* epsv6 */
    {"Es_v3", 2, 32, NULL},    /* ev3-esv3 */
    {"Es_v4", 2, 32, NULL},    /* esv4 */
    {"Es_v5", 2, 32, NULL},    /* esv5 */
    {"Es_v6", 0, 0, v6},       /* esv6 */
    {"F", 4, 64, NULL},	       /* prev-gen */
    {"FXmds", 2, 32, NULL},    /* fx */
    {"FXmds_v2", 0, 0, fx2},   /* fxmdsv2 */
    {"FXms_v2", 0, 0, fx2},    /* fxmsv2 */
    {"Fads_v7", 0, 0, f7},     /* fadsv7 */
    {"Falds_v7", 0, 0, f7},    /* faldsv7 */
    {"Fals_v6", 2, 32, NULL},  /* falsv6 */
    {"Fals_v7", 0, 0, f7},     /* falsv7 */
    {"Famds_v7", 0, 0, f7},    /* famdsv7 */
    {"Fams_v6", 2, 32, NULL},  /* famsv6 */
    {"Fams_v7", 0, 0, f7},     /* famsv7 */
    {"Fas_v6", 2, 32, NULL},   /* fasv6 */
    {"Fas_v7", 0, 0, f7},      /* fasv7 */
    {"Fs", 4, 64, NULL},       /* prev-gen */
    {"Fs_v2", 2, 32, NULL},    /* fsv2 */
    {"G", 4, 64, NULL},	       /* prev-gen */
    {"GS", 4, 64, NULL},       /* prev-gen */
    {"HBrs_v2", 8, 8, NULL},   /* high-performance-compute/hbv2 */
    {"HBrs_v3", 32, 32, NULL}, /* high-performance-compute/hbv3 */
    {"HBrs_v4", 32, 32, NULL}, /* high-performance-compute/hbv4 */
    {"HBrs_v5", 32, 32, NULL}, /* high-performance-compute/hbv5 */
    {"HCrs", 4, 4, NULL},      /* high-performance-compute/hc */
    {"HXrs", 32, 32, NULL},    /* high-performance-compute/hx */
    {"Las_v3", 2, 32, NULL},   /* lasv3 */
    {"Las_v4", 2, 32, NULL},   /* lasv4 */
    {"Ls", 4, 64, NULL},       /* prev-gen */
    {"Ls_v2", 2, 32, NULL},    /* lsv2 */
    {"Ls_v3", 2, 32, NULL},    /* lsv3 */
    {"Ls_v4", 0, 0, v6},       /* lsv4 */
    {"M", 1, 64, NULL},	       /* m */
    {"Mbds_v3", 64, 64, NULL}, /* mbdsv3 */
    {"Mbs_v3", 64, 64, NULL},  /* mbsv3 */
    {"Mdms_v2", 1, 64, NULL},  /* msv2-mdsv2 */
    {"Mds_v2", 1, 64, NULL},   /* msv2-mdsv2 */
    {"Mds_v3", 64, 64, NULL},  /* mdsv3-mm, mdsv3-hm */
    {"Midms_v2", 1, 64, NULL}, /* msv2-mdsv2 */
    {"Mids_v2", 1, 64, NULL},  /* msv2-mdsv2 */
    {"Mids_v3", 64, 64, NULL}, /* mdsv3-hm */
    {"Mims_v2", 1, 64, NULL},  /* msv2-mdsv2 */
    {"Mis_v2", 1, 64, NULL},   /* msv2-mdsv2 */
    {"Mis_v3", 64, 64, NULL},  /* msv3-hm */
    {"Mls", 1, 64, NULL},      /* m */
    {"Mm", 1, 64, NULL},       /* m */
    {"Mms", 1, 64, NULL},      /* m */
    {"Mms_v2", 1, 64, NULL},   /* mv2, msv2-mdsv2 */
    {"Ms", 1, 64, NULL},       /* m */
    {"Ms_v2", 1, 64, NULL},    /* mv2, msv2-mdsv2 */
    {"Ms_v3", 64, 64, NULL},   /* msv3-mm, msv3-hm */
    {"Mts", 1, 64, NULL},      /* m */
    {"NCas_v3", 2, 32, NULL},  /* gpu-accelerated/ncast4v3 */
    {"NGads_v1", 1, 32, NULL}, /* gpu-accelerated/ngadsv620 */
    {"NVs_v2", 2, 32, NULL},   /* prev-gen */
    {"NVs_v3", 1, 32, NULL},   /* gpu-accelerated/nvv3 */
};

static int
cmp_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct disks *)elem)->name);
}

static int
cmp_series(const void *key, const void *elem)
{
	return strcmp(key, ((const struct rule *)elem)->series);
}

static int
by_steps(const struct step *st, int vcpus)
{
	size_t i;

	for (i = 0; st[i].vcpus > 0; i++)
		if (st[i].vcpus == vcpus || (st[i + 1].vcpus == 0 && vcpus > st[i].vcpus))
			return st[i].disks;
	return 0;
}

int
nap_size_max_data_disks(const char *name, const char *series, int vcpus)
{
	const struct disks *hit = NULL;
	const struct rule *r = NULL;

	if (name)
		hit = bsearch(
		    name, known, sizeof(known) / sizeof(known[0]), sizeof(known[0]), cmp_name);
	if (hit)
		return hit->disks;
	if (series)
		r = bsearch(
		    series, rules, sizeof(rules) / sizeof(rules[0]), sizeof(rules[0]), cmp_series);
	if (r == NULL || vcpus < 1)
		return 0;
	if (r->steps)
		return by_steps(r->steps, vcpus);
	return r->per_vcpu * vcpus < r->most ? r->per_vcpu * vcpus : r->most;
}

int
nap_itype_max_data_disks(const struct nap_itype *it)
{
	return it ? nap_size_max_data_disks(it->name, it->series, it->vcpus) : 0;
}
