/* The blocking client of the control protocol (fedenumctl, tests): one request, one
 * response, with one deadline over connect, write and read. */
#include "ctl_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Responses are bounded too (a zone list of a very large node stays far below). */
#define MAX_RESPONSE_BYTES (64u << 20)

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
	if (err && cap) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, cap, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Wait for @events on @fd until @deadline_ms (monotonic). 1 ready, 0 timeout, -1 error. */
static int wait_fd(int fd, short events, uint64_t deadline_ms)
{
	for (;;) {
		uint64_t now = fe_time_mono_ms();
		if (now >= deadline_ms)
			return 0;
		struct pollfd p = {.fd = fd, .events = events};
		int r = poll(&p, 1, (int)(deadline_ms - now));
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -1 : r;
	}
}

int fe_ctl_call(const char *path, const char *command, json_t *args, uint32_t timeout_ms,
                json_t **response, char *err, size_t errcap)
{
	*response = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path))
		return fail(err, errcap, FE_EINVAL, "%s: path too long for a socket", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	uint64_t deadline = fe_time_mono_ms() + timeout_ms;
	json_t *req = json_pack("{s:i, s:s}", "version", FE_CTL_PROTO_VERSION, "command", command);
	if (req == NULL)
		return fail(err, errcap, FE_ENOMEM, "out of memory");
	if (args)
		json_object_set(req, "args", args);
	char *text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	char *in = NULL;
	int rc = FE_ENOMEM;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (text == NULL || fd < 0) {
		rc = fail(err, errcap, FE_EIO, "cannot make a socket: %s", strerror(errno));
		goto out;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;
		rc = e == ENOENT ? FE_ENOENT : e == EACCES || e == EPERM ? FE_EPERM : FE_EIO;
		rc = fail(err, errcap, rc, "cannot connect to the control socket %s: %s%s", path,
		          strerror(e),
		          e == ENOENT || e == ECONNREFUSED ? " (is fedenumd running with it?)"
		          : rc == FE_EPERM ? " (it is for fedenumd's user and group)"
		                           : "");
		goto out;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	size_t tlen = strlen(text), off = 0;
	text[tlen] = '\n'; /* over the NUL: written by length */
	tlen++;
	while (off < tlen) {
		ssize_t w = send(fd, text + off, tlen - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR) {
			rc = fail(err, errcap, FE_EIO, "%s: write: %s", path, strerror(errno));
			goto out;
		}
		if (wait_fd(fd, POLLOUT, deadline) <= 0) {
			rc = fail(err, errcap, FE_ETIMEOUT, "%s: no answer within %u ms", path,
			          timeout_ms);
			goto out;
		}
	}
	size_t len = 0, cap = 4096;
	in = malloc(cap);
	if (in == NULL) {
		rc = fail(err, errcap, FE_ENOMEM, "out of memory");
		goto out;
	}
	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= MAX_RESPONSE_BYTES) {
				rc = fail(err, errcap, FE_EIO, "%s: response too large", path);
				goto out;
			}
			char *n = realloc(in, cap * 2);
			if (n == NULL) {
				rc = fail(err, errcap, FE_ENOMEM, "out of memory");
				goto out;
			}
			in = n;
			cap *= 2;
		}
		ssize_t r = recv(fd, in + len, cap - len - 1, 0);
		if (r > 0) {
			len += (size_t)r;
			if (memchr(in + len - (size_t)r, '\n', (size_t)r))
				break;
			continue;
		}
		if (r == 0)
			break;
		if (errno != EAGAIN && errno != EINTR) {
			rc = fail(err, errcap, FE_EIO, "%s: read: %s", path, strerror(errno));
			goto out;
		}
		if (wait_fd(fd, POLLIN, deadline) <= 0) {
			rc = fail(err, errcap, FE_ETIMEOUT, "%s: no answer within %u ms", path,
			          timeout_ms);
			goto out;
		}
	}
	json_error_t jerr;
	*response = json_loadb(in, len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (*response == NULL || !json_is_object(*response)) {
		json_decref(*response);
		*response = NULL;
		rc = fail(err, errcap, FE_EIO, "%s: the response is not a JSON object (%s)", path,
		          len ? jerr.text : "connection closed without a response");
		goto out;
	}
	rc = FE_OK;
out:
	if (fd >= 0)
		close(fd);
	free(text);
	free(in);
	return rc;
}
