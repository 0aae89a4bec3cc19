/* The emulator's pcapng tap, on lib/io's pcapng writer. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "mpq/io/pcapng.h"
#include "tap.h"

struct emu_tap {
	mpq_pcapng *w;
	int iface[2][2];	 /* [dir][dropped] */
	int64_t real_minus_mono; /* the capture's timestamps are since the epoch */
	bool failed;
};

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

emu_tap *emu_tap_open(const char *path, char *err, size_t errlen)
{
	static const char *const names[2][2] = {{"a>b", "a>b dropped"}, {"b>a", "b>a dropped"}};
	emu_tap *t = calloc(1, sizeof(*t));
	int rc;

	if (!t || (rc = mpq_pcapng_open(&t->w, path)) < 0) {
		snprintf(err, errlen, "%s: cannot create", path);
		free(t);
		return NULL;
	}
	for (int d = 0; d < 2; d++) {
		for (int k = 0; k < 2; k++) {
			t->iface[d][k] = mpq_pcapng_add_interface(t->w, MPQ_LINKTYPE_ETHERNET,
								  names[d][k], 0);
			if (t->iface[d][k] < 0)
				t->failed = true;
		}
	}
	t->real_minus_mono = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	return t;
}

void emu_tap_frame(emu_tap *t, int dir, bool dropped, uint64_t mono_ns, const void *frame,
		   size_t len)
{
	if (t->failed)
		return;
	if (mpq_pcapng_packet(t->w, (uint32_t)t->iface[dir][dropped],
			      (uint64_t)((int64_t)mono_ns + t->real_minus_mono), frame, len,
			      len) < 0)
		t->failed = true;
}

int emu_tap_close(emu_tap *t)
{
	int rc = mpq_pcapng_close(t->w) < 0 || t->failed ? -1 : 0;

	free(t);
	return rc;
}
