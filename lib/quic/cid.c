/* Connection IDs we issue: see cid.h for the layout. */
#include "quic/cid.h"

void mpq_cid_new(mpq_cid *cid, uint8_t worker_id, mpq_rand_fn rand, void *rand_ud)
{
	cid->len = MPQ_CID_LEN;
	rand(cid->data, MPQ_CID_LEN, rand_ud);
	/* Config rotation 0, then the self-described length of what follows. */
	cid->data[0] = (uint8_t)(MPQ_CID_LEN - 1);
	cid->data[MPQ_CID_WORKER_OFFSET] = worker_id;
}
