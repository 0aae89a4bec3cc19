#include "noise_initial.h"

size_t noise_initial(uint8_t *buf, mpq_rand_fn rand, void *rand_ud)
{
	size_t n = 0;
	rand(buf, NOISE_INITIAL_LEN, rand_ud);
	buf[n] = (uint8_t)(0xc0 | (buf[n] & 0x0f)); /* long header, fixed bit, Initial */
	n++;
	buf[n++] = 0, buf[n++] = 0, buf[n++] = 0, buf[n++] = 1;
	buf[n++] = 8;
	n += 8; /* random DCID */
	buf[n++] = 8;
	n += 8;	      /* random SCID */
	buf[n++] = 0; /* no token */
	size_t left = NOISE_INITIAL_LEN - n - 2;
	buf[n++] = (uint8_t)(0x40 | left >> 8);
	buf[n++] = (uint8_t)left;
	return NOISE_INITIAL_LEN;
}
