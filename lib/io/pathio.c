/* Path I/O backends by name: see pathio.h. */
#include <string.h>

#include "mpq/io/pathio.h"
#include "mpq/io/udp.h"
#include "mpq/io/xsk.h"

static const struct mpq_pathio_ops *const backends[] = {
	&mpq_pathio_udp,
	&mpq_pathio_xdp,
};

void mpq_pathio_config_default(mpq_pathio_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->struct_version = MPQ_PATHIO_CONFIG_VERSION;
	cfg->batch = 32;
	cfg->max_dgram = 2048;
	cfg->sockbuf = 4 << 20;
	cfg->gro = true;
}

const struct mpq_pathio_ops *mpq_pathio_find(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (strcmp(backends[i]->name, name) == 0)
			return backends[i];
	return NULL;
}
