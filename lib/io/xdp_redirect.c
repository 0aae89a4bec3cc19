/* The whole-frame XDP program: see xdp_redirect.h. */
#include <errno.h>
#include <linux/if_link.h>
#include <stdlib.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "mpq/io/xdp_redirect.h"
#include "mpq_redirect_all.h"
#include "mpq_redirect_all.skel.h"

struct mpq_xdp_redirect {
	struct mpq_redirect_all_bpf *skel;
	int ifindex; /* attached to, 0 if not */
	mpq_xdp_mode mode;
};

void mpq_xdp_redirect_del(mpq_xdp_redirect *r)
{
	if (!r)
		return;
	if (r->ifindex)
		bpf_xdp_detach(r->ifindex,
			       r->mode == MPQ_XDP_MODE_NATIVE ? XDP_FLAGS_DRV_MODE
							      : XDP_FLAGS_SKB_MODE,
			       NULL);
	mpq_redirect_all_bpf__destroy(r->skel);
	free(r);
}

int mpq_xdp_redirect_attach(mpq_xdp_redirect **out, int ifindex, mpq_xdp_mode mode, mpq_oserr *err)
{
	static const struct {
		mpq_xdp_mode mode;
		uint32_t flags;
	} tries[] = {
		{MPQ_XDP_MODE_NATIVE, XDP_FLAGS_DRV_MODE},
		{MPQ_XDP_MODE_SKB, XDP_FLAGS_SKB_MODE},
	};
	mpq_xdp_redirect *r;
	int rv = 0, prog;

	if (!out ||
	    (mode != MPQ_XDP_MODE_AUTO && mode != MPQ_XDP_MODE_NATIVE && mode != MPQ_XDP_MODE_SKB))
		return MPQ_ERR_INVALID_ARGUMENT;
	*out = NULL;
	mpq_bpf_quiet();
	r = calloc(1, sizeof(*r));
	if (!r)
		return MPQ_ERR_NOMEM;
	r->skel = mpq_redirect_all_bpf__open_and_load();
	if (!r->skel) {
		rv = mpq_oserr_set(err, "bpf load", errno);
		free(r);
		return rv;
	}
	prog = bpf_program__fd(r->skel->progs.MPQ_REDIRECT_ALL_PROG);
	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if (mode != MPQ_XDP_MODE_AUTO && mode != tries[i].mode)
			continue;
		rv = bpf_xdp_attach(ifindex, prog, tries[i].flags, NULL);
		if (rv == 0) {
			r->ifindex = ifindex;
			r->mode = tries[i].mode;
			*out = r;
			return 0;
		}
	}
	rv = mpq_oserr_set(err, "xdp attach", -rv);
	mpq_xdp_redirect_del(r);
	return rv;
}

int mpq_xdp_redirect_set_xsk(mpq_xdp_redirect *r, uint32_t queue, int xsk_fd)
{
	int map = bpf_map__fd(r->skel->maps.MPQ_REDIRECT_ALL_MAP);
	uint32_t v = (uint32_t)xsk_fd;

	if (queue >= MPQ_REDIRECT_ALL_MAX_QUEUES)
		return MPQ_ERR_INVALID_ARGUMENT;
	if (xsk_fd < 0)
		return bpf_map_delete_elem(map, &queue) && errno != ENOENT
			       ? mpq_oserr_set(NULL, "xskmap delete", errno)
			       : 0;
	return bpf_map_update_elem(map, &queue, &v, BPF_ANY)
		       ? mpq_oserr_set(NULL, "xskmap update", errno)
		       : 0;
}

mpq_xdp_mode mpq_xdp_redirect_mode(const mpq_xdp_redirect *r)
{
	return r->mode;
}
