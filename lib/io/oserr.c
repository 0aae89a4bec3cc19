/* errno → MPQ_ERR_* at the lib/io boundary: see oserr.h. */
#include <errno.h>
#include <stddef.h>

#include "mpq/mpq.h"
#include "mpq/io/oserr.h"

int mpq_oserr_set(mpq_oserr *e, const char *call, int errnum)
{
	if (e) {
		e->errnum = errnum;
		e->call = call;
	}
	switch (errnum) {
	case ENOMEM:
	case ENOBUFS:
		return MPQ_ERR_NOMEM;
	case ENODEV:
	case ENXIO:
	case ENOENT:
	case EADDRNOTAVAIL:
		return MPQ_ERR_NOT_FOUND;
	case EINVAL:
	case EMSGSIZE:
	case EAFNOSUPPORT:
		return MPQ_ERR_INVALID_ARGUMENT;
	default:
		return MPQ_ERR_INTERNAL;
	}
}
