/* fe_strerror: the one table of fedenum error texts. */
#include "fedenum/util.h"

const char *fe_strerror(int err)
{
	switch (err) {
	case FE_OK:
		return "success";
	case FE_ENOMEM:
		return "out of memory";
	case FE_EINVAL:
		return "invalid argument";
	case FE_EIO:
		return "input/output error";
	case FE_ENOSPC:
		return "no space left";
	case FE_ENOENT:
		return "not found";
	case FE_EEXIST:
		return "already exists";
	case FE_EFORMAT:
		return "malformed input";
	case FE_ERANGE:
		return "above limit";
	case FE_EVERSION:
		return "unsupported version";
	case FE_ESYNTAX:
		return "syntax error";
	case FE_EAGAIN:
		return "try again";
	case FE_EBUSY:
		return "busy";
	case FE_ETIMEOUT:
		return "timed out";
	case FE_ENOTSUP:
		return "not supported";
	case FE_EPERM:
		return "not permitted";
	case FE_EVALIDATE:
		return "validation failed";
	case FE_ESERIAL:
		return "zone serial does not move forward";
	}
	return "unknown error";
}
