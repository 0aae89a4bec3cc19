/*
 * Connection IDs of one path ID (RFC 9000 §5.1; multipath draft-21 gives each
 * path ID its own sequence space): the ones we issued to the peer and the
 * ones the peer issued to us, with their sequence numbers and stateless reset
 * tokens, what is waiting to be announced (NEW_CONNECTION_ID) or retired
 * (RETIRE_CONNECTION_ID), and the limits on both.
 */
#ifndef MPQ_CIDS_H
#define MPQ_CIDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mpq/mpq.h"

#define MPQ_CIDS_MAX 8 /* active CIDs kept per direction and path ID */

typedef struct mpq_cid_entry {
	uint64_t seq;
	mpq_cid cid;
	uint8_t token[16];
	bool has_token;
	bool pending; /* ours: NEW_CONNECTION_ID to send; peer's: RETIRE to send */
	bool retired; /* peer's: we stopped using it, RETIRE owed or sent */
} mpq_cid_entry;

typedef struct mpq_cidset {
	mpq_cid_entry v[MPQ_CIDS_MAX];
	size_t n;
	uint64_t next_seq;	  /* ours: the next sequence number to issue */
	uint64_t retire_prior_to; /* peer's: the highest Retire Prior To seen */
	size_t in_use;		  /* peer's: index of the CID we send to */
} mpq_cidset;

/* Ours: seq 0 is the CID of the handshake. */
void mpq_cidset_init_local(mpq_cidset *s, const mpq_cid *cid, const uint8_t *token);
/* Peer's: seq 0 is the CID it chose in the handshake. */
void mpq_cidset_init_peer(mpq_cidset *s, const mpq_cid *cid);

/* Adds a new CID of ours (sequence number next_seq), pending announcement.
 * Returns the entry, or NULL when the set is full. */
mpq_cid_entry *mpq_cidset_issue(mpq_cidset *s, const mpq_cid *cid, const uint8_t token[16]);

/* The peer retired our CID |seq|: removed, and its CID copied to |out|.
 * Returns 0, MPQ_ERR_NOT_FOUND (already gone: ignore) or MPQ_ERR_PROTO (a
 * sequence number we never issued). */
int mpq_cidset_retire_local(mpq_cidset *s, uint64_t seq, mpq_cid *out);

/* A NEW_CONNECTION_ID from the peer. |limit| is our active_connection_id_limit.
 * Returns 0, MPQ_ERR_PROTO (a known sequence number with another CID or token),
 * or MPQ_ERR_CONNECTION_ID_LIMIT (more active CIDs than we allowed). Entries
 * below Retire Prior To are marked retired and pending (RETIRE frames owed);
 * the CID in use moves to one that is still valid. */
int mpq_cidset_on_new(mpq_cidset *s, uint64_t seq, uint64_t retire_prior_to, const mpq_cid *cid,
		      const uint8_t token[16], size_t limit);

/* Forgets a peer's CID once its RETIRE_CONNECTION_ID was acknowledged. */
void mpq_cidset_forget_peer(mpq_cidset *s, uint64_t seq);

/* The peer's CID we send to now. */
static inline const mpq_cid *mpq_cidset_current(const mpq_cidset *s)
{
	return &s->v[s->in_use].cid;
}

/* Switches to an unused peer CID (for a new path or after migration).
 * Returns 0 or MPQ_ERR_NOT_FOUND (none spare). */
int mpq_cidset_rotate(mpq_cidset *s);

/* Is |cid| one of the peer's stateless reset tokens? (constant time per entry) */
bool mpq_cidset_is_reset_token(const mpq_cidset *s, const uint8_t token[16]);

mpq_cid_entry *mpq_cidset_find(mpq_cidset *s, uint64_t seq);

#endif
