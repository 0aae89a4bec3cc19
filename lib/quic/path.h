/*
 * One path of a connection (multipath draft-21 §3): its path ID, 4-tuple,
 * its own 1-RTT packet number space, RTT estimator, congestion controller and
 * pacer, the CIDs of its path ID in both directions, its validation state and
 * counters. Path 0 is the path of the handshake; without multipath it is the
 * only one (RFC 9000 behaviour, migration included).
 */
#ifndef MPQ_PATH_H
#define MPQ_PATH_H

#include <stdbool.h>
#include <stdint.h>

#include "mpq/conn.h"
#include "quic/cc/cc.h"
#include "quic/cids.h"
#include "quic/ecn.h"
#include "quic/pacer.h"
#include "quic/pktns.h"
#include "quic/pmtud.h"
#include "quic/rtt.h"

enum mpq_path_state {
	MPQ_PATH_UNUSED = 0,
	MPQ_PATH_VALIDATING, /* opened, PATH_CHALLENGE not yet answered */
	MPQ_PATH_ACTIVE,
	MPQ_PATH_ABANDONED, /* PATH_ABANDON sent or received: kept 3 PTO for late packets */
	MPQ_PATH_FAILED,    /* validation or delivery failed */
};

typedef struct mpq_conn_path {
	uint32_t id;
	int state;
	bool backup; /* PATH_STATUS_BACKUP in force */
	mpq_path tuple;

	mpq_pktns ns; /* 1-RTT packet number space */
	mpq_rtt rtt;
	mpq_cc_any cc;
	uint64_t first_rtt_sample_time;
	mpq_pacer pacer;
	uint32_t pto_count;
	mpq_ecn_path ecn;  /* our marks on this path (Initial and Handshake: path 0) */
	int ecn_logged;	   /* the ECN state qlog last showed */
	int qlog_cc_state; /* the congestion state qlog last showed */
	size_t bytes_in_flight;
	uint64_t next_send_time;       /* the pacer holds the next packet until then; 0 = none */
	uint8_t probe;		       /* ack-eliciting packets a PTO asks for on this path */
	mpq_pmtud pmtud;	       /* its largest datagram (pmtud.size), discovered */
	uint64_t largest_dgram_sent;   /* PMTU probes aside */
	uint64_t largest_pkt_received; /* a 1-RTT packet fills the rest of its datagram */

	/* Multipath life cycle (conn_mpath.c). */
	bool abandon_pending; /* PATH_ABANDON to (re)send */
	bool abandon_sent;
	uint64_t abandon_code;
	uint64_t abandon_deadline; /* state released 3 PTO after abandoning */
	bool released;		   /* packet number space freed; the ID stays used */
	uint64_t pinged_silent_rx; /* last_rx_time + 1 when PINGed for silence; 0: never */
	bool status_pending;	   /* PATH_STATUS_* to (re)send */
	uint64_t status_seq_tx;
	uint64_t status_seq_rx; /* highest PATH_STATUS sequence seen + 1 */

	/* Address validation (RFC 9000 §8): the 3x limit until proven. */
	bool validated;
	uint64_t bytes_rx;
	uint64_t bytes_tx;

	/* Path validation and migration (conn_path.c). */
	mpq_path prev_tuple;
	bool migrating;
	uint8_t challenge[8];
	bool challenge_pending;
	unsigned challenge_sends;
	uint64_t challenge_deadline;
	uint64_t validation_deadline;
	uint8_t response[8];
	bool response_pending;
	mpq_path response_tuple;
	/* What we may send to response_tuple when it is not the path's: 3x
	 * the packet that carried the challenge (RFC 9000 §8.2.1, §9.3). */
	size_t response_budget;

	uint64_t last_rx_time;	  /* when a packet last arrived on this path */
	uint64_t last_acked_time; /* when an ACK last acknowledged a packet sent on it */

	/* Counters for the API, --json and qlog. */
	uint64_t bytes_sent, bytes_received;
	uint64_t packets_sent, packets_received, packets_lost;
} mpq_conn_path;

/* A path of |id| on |tuple|, active, with fresh recovery state. Returns 0,
 * MPQ_ERR_INVALID_ARGUMENT or MPQ_ERR_NOMEM. */
int mpq_conn_path_init(mpq_conn_path *p, uint32_t id, const mpq_path *tuple, const mpq_settings *s,
		       const struct mpq_cc_ops *cc, uint64_t ts);
void mpq_conn_path_free(mpq_conn_path *p);
/* IP and UDP header bytes under each datagram to |tuple|'s peer. */
uint32_t mpq_path_udp_overhead(const mpq_path *tuple);
/* The congestion controller follows pmtud.size (RFC 9002 §7.2). */
void mpq_conn_path_set_size(mpq_conn_path *p);

#endif
