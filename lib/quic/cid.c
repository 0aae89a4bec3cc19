/* Connection IDs we issue: see cid.h for the layout. */
#include <string.h>

#include "quic/cid.h"
#include "quic/crypto_algs.h"

void mpq_cid_new(mpq_cid *cid, uint8_t worker_id, mpq_rand_fn rand, void *rand_ud)
{
	cid->len = MPQ_CID_LEN;
	rand(cid->data, MPQ_CID_LEN, rand_ud);
	/* Config rotation 0, then the self-described length of what follows. */
	cid->data[0] = (uint8_t)(MPQ_CID_LEN - 1);
	cid->data[MPQ_CID_WORKER_OFFSET] = worker_id;
}

void mpq_cid_reset_token(const uint8_t secret[MPQ_RESET_SECRET_LEN], const mpq_cid *cid,
			 uint8_t token[MPQ_RESET_TOKEN_LEN])
{
	uint8_t mac[32];
	if (mpq_crypto_hmac_sha256(secret, MPQ_RESET_SECRET_LEN, cid->data, cid->len, mac))
		memset(mac, 0, sizeof(mac)); /* out of memory only; never leak stack */
	memcpy(token, mac, MPQ_RESET_TOKEN_LEN);
}
