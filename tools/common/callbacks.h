/*
 * The tools' layer over an application's connection callbacks. The hq
 * client and server install their callbacks with their own context as
 * mpq_callbacks.user_data, which every callback shares, so the tool cannot
 * get its own data into the keylog callback. tool_callbacks_wrap moves the
 * application's callbacks aside and installs forwarders whose user_data is a
 * struct tool_callbacks: the key log and an optional handshake hook go to
 * the tool (and announced addresses, to both), everything else to the
 * application as before.
 */
#ifndef MPQ_TOOL_CALLBACKS_H
#define MPQ_TOOL_CALLBACKS_H

#include "keylog.h"
#include "mpq/conn.h"

struct tool_callbacks {
	mpq_callbacks app;	    /* the application's callbacks and user_data */
	struct tool_keylog *keylog; /* may be NULL */
	/* Called when the handshake completes, before the application's hook. */
	int (*handshake_completed)(mpq_conn *conn, void *tool);
	/* Client: the server announced |addr| (ADD_ADDRESS); may be NULL. */
	int (*address_added)(mpq_conn *conn, const mpq_addr *addr, void *tool);
	void *tool;
};

/* Moves |cb| into |w->app| and points |cb| at forwarders (user_data = |w|),
 * with rand = tool_rand and keylog into |w->keylog|. Set |w|'s other fields
 * before or after; |w| must outlive every connection made with |cb|. */
void tool_callbacks_wrap(mpq_callbacks *cb, struct tool_callbacks *w);

#endif
