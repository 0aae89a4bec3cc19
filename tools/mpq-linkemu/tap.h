/*
 * The emulator's own capture (libpcap cannot see AF_XDP traffic, and a
 * capture on a leg cannot tell a frame the link dropped): a pcapng file
 * with four interfaces, the frames forwarded a to b and b to a at the time
 * they left, and the frames each direction dropped at the time they arrived.
 */
#ifndef MPQ_LINKEMU_TAP_H
#define MPQ_LINKEMU_TAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct emu_tap emu_tap;

/* Creates |path| (".zst": compressed); NULL with a message in err. */
emu_tap *emu_tap_open(const char *path, char *err, size_t errlen);
/* One frame of direction |dir| (0: a to b, 1: b to a) at |mono_ns|. */
void emu_tap_frame(emu_tap *t, int dir, bool dropped, uint64_t mono_ns, const void *frame,
		   size_t len);
/* 0, or -1 when a write failed at any time. */
int emu_tap_close(emu_tap *t);

#endif
