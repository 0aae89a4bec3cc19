/*
 * The tools' layer over an application's connection callbacks. The hq
 * client and server install their callbacks with their own context as
 * mpq_callbacks.user_data, which every callback shares, so the tool cannot
 * get its own data into the keylog callback. tool_callbacks_wrap moves the
 * application's callbacks aside and installs forwarders whose user_data is a
 * struct tool_callbacks: the key log and an optional handshake hook go to
 * the tool (and announced addresses, to both), everything else to the
 * application as before. Path events are printed, one line each on stderr
 * when the tool is verbose, and handed to the tool's path_event hook.
 */
#ifndef MPQ_TOOL_CALLBACKS_H
#define MPQ_TOOL_CALLBACKS_H

#include <stdbool.h>
#include <stdint.h>

#include "keylog.h"
#include "mpq/conn.h"

/* One path event (mpq_callbacks.path_*). */
struct tool_path_event {
	const char *what; /* "validated", "backup", "available", "failed", "abandoned" */
	uint32_t path_id;
	bool remote;	    /* backup, available, abandoned: the peer did it (else we did) */
	uint64_t error;	    /* abandoned: the PATH_ABANDON error code */
	const char *reason; /* failed: "validation" or "idle" */
	char local[64];	    /* validated: the path's addresses */
	char peer[64];
};

struct tool_callbacks {
	mpq_callbacks app;	    /* the application's callbacks and user_data */
	struct tool_keylog *keylog; /* may be NULL */
	/* Called when the handshake completes, before the application's hook. */
	int (*handshake_completed)(mpq_conn *conn, void *tool);
	/* Client: the server announced |addr| (ADD_ADDRESS); may be NULL. */
	int (*address_added)(mpq_conn *conn, const mpq_addr *addr, void *tool);
	/* Each path event, after its line; may be NULL. */
	void (*path_event)(mpq_conn *conn, const struct tool_path_event *ev, void *tool);
	const int *verbose; /* non-zero: a line per path event on stderr; may be NULL */
	void *tool;
};

/* Moves |cb| into |w->app| and points |cb| at forwarders (user_data = |w|),
 * with rand = tool_rand and keylog into |w->keylog|. Set |w|'s other fields
 * before or after; |w| must outlive every connection made with |cb|. */
void tool_callbacks_wrap(mpq_callbacks *cb, struct tool_callbacks *w);

#endif
