/*
 * The boundary between errno and MPQ_ERR_* (STYLE.md §2.6). lib/io returns
 * MPQ_ERR_* values; the errno behind one, and the call that failed, stay on
 * the failing object in an mpq_oserr so a tool can print one clear line
 * ("bind 127.0.0.1:6121: Address already in use").
 */
#ifndef MPQ_IO_OSERR_H
#define MPQ_IO_OSERR_H

#include "mpq/mpq.h"

typedef struct mpq_oserr {
	int errnum;	  /* errno of the last failed system call, 0 if none */
	const char *call; /* what failed: "bind", "SO_BINDTODEVICE", ...; NULL if none */
} mpq_oserr;

/* Records |errnum| and |call| in |e| (which may be NULL) and returns the
 * MPQ_ERR_* value |errnum| maps to: ENOMEM, ENOBUFS → MPQ_ERR_NOMEM;
 * ENODEV, ENXIO, EADDRNOTAVAIL, ENOENT → MPQ_ERR_NOT_FOUND (no such interface or local
 * address); EINVAL, EMSGSIZE, EAFNOSUPPORT → MPQ_ERR_INVALID_ARGUMENT; anything
 * else (EADDRINUSE, EPERM, EACCES, ...) → MPQ_ERR_INTERNAL. */
MPQ_EXPORT int mpq_oserr_set(mpq_oserr *e, const char *call, int errnum);

/* Forgets the last error. */
static inline void mpq_oserr_clear(mpq_oserr *e)
{
	e->errnum = 0;
	e->call = 0;
}

#endif
