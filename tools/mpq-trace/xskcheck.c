/* Which XDP program on an interface feeds AF_XDP: see xskcheck.h. */
#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "xskcheck.h"

/* Whether the BPF program |fd| uses an XSKMAP, i.e. can redirect to AF_XDP. */
static bool redirects_to_xsk(int fd)
{
	struct bpf_prog_info info;
	uint32_t ids[64], len = sizeof(info);

	memset(&info, 0, sizeof(info));
	info.nr_map_ids = 64;
	info.map_ids = (uint64_t)(uintptr_t)ids;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
		return false;
	for (uint32_t i = 0; i < info.nr_map_ids && i < 64; i++) {
		struct bpf_map_info mi;
		uint32_t mlen = sizeof(mi);
		int mfd = bpf_map_get_fd_by_id(ids[i]);
		bool xsk;

		if (mfd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		xsk = bpf_obj_get_info_by_fd(mfd, &mi, &mlen) == 0 &&
		      mi.type == BPF_MAP_TYPE_XSKMAP;
		close(mfd);
		if (xsk)
			return true;
	}
	return false;
}

/* The name of an XDP program on |ifname| that redirects to AF_XDP, or NULL. */
const char *trace_xsk_program(const char *ifname, char *name, size_t len)
{
	unsigned int ifindex = if_nametoindex(ifname);
	struct xdp_multiprog *mp;
	struct xdp_program *prog = NULL;
	const char *found = NULL;

	if (!ifindex)
		return NULL;
	libxdp_set_print(NULL);
	mp = xdp_multiprog__get_from_ifindex((int)ifindex);
	if (libxdp_get_error(mp))
		return NULL;
	if (xdp_multiprog__is_legacy(mp))
		prog = xdp_multiprog__main_prog(mp);
	else
		prog = xdp_multiprog__next_prog(NULL, mp);
	while (prog && !found) {
		if (redirects_to_xsk(xdp_program__fd(prog))) {
			snprintf(name, len, "%s", xdp_program__name(prog));
			found = name;
		}
		prog = xdp_multiprog__is_legacy(mp) ? NULL : xdp_multiprog__next_prog(prog, mp);
	}
	xdp_multiprog__close(mp);
	return found;
}
