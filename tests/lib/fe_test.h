/* tests/lib/fe_test.h — shared test helpers: temp dirs, a real fedenumd on loopback with
 * ephemeral ports, and a DNS client (ldns) for UDP/TCP queries and raw messages.
 * Every helper cleans up after itself; daemons are killed at test exit even on failure. */
#ifndef FE_TEST_H
#define FE_TEST_H

#include <ldns/ldns.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Paths of the tree and the build (absolute). */
#define FE_TEST_SRC        FE_SOURCE_DIR
#define FE_TEST_BUILD      FE_BUILD_DIR
#define FE_TEST_FEDENUMD   FE_BUILD_DIR "/fedenumd"
#define FE_TEST_FEDENUMCTL FE_BUILD_DIR "/fedenumctl"

/* Make a fresh temp dir under $TMPDIR (or /tmp) named fedenum-test-XXXXXX; @out gets the path.
 * fe_test_rmdir removes it recursively. */
void fe_test_mkdtemp(char *out, size_t cap);
void fe_test_rmdir(const char *path);

/* A fedenumd started for a test. */
struct fe_test_daemon {
	pid_t pid;
	char dir[256];      /* its temp dir (db/ inside) */
	char log_path[300]; /* stderr of the daemon */
	char host[64];      /* "127.0.0.1" */
	uint16_t port;      /* bound port (UDP and TCP) */
	bool owns_dir;
};

/* Start fedenumd with --listen 127.0.0.1@0 --db <dir>/db --ready-file <dir>/ready
 * --control <dir>/control.sock (left out when @argv has its own --control) plus @argv
 * (NULL-terminated extra args, e.g. "--zone", path, NULL). If @dir is non-NULL the daemon uses
 * that directory (kept on stop) instead of a fresh temp dir, so a restart reuses the store.
 * Waits up to 120 s for the ready file; returns 0, or -1 (the daemon log is printed). */
int fe_test_daemon_start(struct fe_test_daemon *d, const char *dir, const char *const *argv);
/* The same with --listen @listen ("127.0.0.2@5300") instead of 127.0.0.1@0: host and port
 * are then that address's (a test's nodes on their own loopback addresses). */
int fe_test_daemon_start_at(struct fe_test_daemon *d, const char *dir, const char *listen,
                            const char *const *argv);
/* SIGTERM, wait up to 10 s (then SIGKILL); returns the exit status (or -1). Removes the temp
 * dir when it owns it. */
int fe_test_daemon_stop(struct fe_test_daemon *d);
/* SIGKILL and reap; keeps the dir. */
void fe_test_daemon_kill9(struct fe_test_daemon *d);
/* true while the process exists. */
bool fe_test_daemon_alive(struct fe_test_daemon *d);
/* Count of lines in the daemon log containing @needle. */
int fe_test_daemon_log_count(struct fe_test_daemon *d, const char *needle);

/* Start another server: fork, stdout and stderr to @log, exec @argv[0] from PATH, else from
 * /usr/sbin; the child dies with the test. Returns its pid (-1: fork failed). */
pid_t fe_test_spawn(const char *log, const char *const *argv);
/* The server clause of an NSD secondary in @dir, on 127.0.0.1@@port: its files in @dir, its
 * log @dir/nsd.log, @extra server options (lines, may be NULL), no remote control. The
 * caller adds its key, tls-auth and zone clauses. */
void fe_test_nsd_conf_server(FILE *f, uint16_t port, const char *dir, const char *extra);
/* Stop a child process (another server): SIGTERM, up to 5 s, then SIGKILL; reaped, *pid set
 * to -1. Nothing when *pid <= 0. */
void fe_test_stop_pid(pid_t *pid);
/* Wait up to @wait_s seconds until the daemon log has @n lines containing @needle. */
bool fe_test_daemon_wait_log(struct fe_test_daemon *d, const char *needle, int n, int wait_s);
/* Wait up to @wait_s seconds until `kdig +short` at 127.0.0.1@@port for @name @type prints a
 * line containing @expect (a grep pattern). */
bool fe_test_wait_answer(uint16_t port, const char *name, const char *type, const char *expect,
                         int wait_s);
/* A TSIG key file in tsig-keygen form (hmac-sha256) at @path. 0 or -1. */
int fe_test_write_tsig_key(const char *path, const char *name, const char *secret);

/* Query flags. */
#define FE_TQ_TCP    0x1u
#define FE_TQ_DO     0x2u
#define FE_TQ_NOEDNS 0x4u
#define FE_TQ_CD     0x8u

/* Send one query and return the parsed answer (caller frees with ldns_pkt_free), or NULL on
 * timeout (2 s) or unparseable answer. @bufsize is the EDNS buffer (0 → 1232). */
ldns_pkt *fe_test_query(const char *host, uint16_t port, const char *name, uint16_t type,
                        unsigned flags, uint16_t bufsize);

/* Raw exchange: send @req over UDP, wait up to @timeout_ms for one datagram. Returns its
 * length, 0 on timeout, -1 on error. */
ssize_t fe_test_udp_raw(const char *host, uint16_t port, const uint8_t *req, size_t len,
                        uint8_t *resp, size_t cap, int timeout_ms);
/* TCP connect to the daemon; returns the fd or -1. */
int fe_test_tcp_connect(const char *host, uint16_t port);
/* Write all of @buf; 0 or -1. */
int fe_test_write_all(int fd, const void *buf, size_t len);
/* Read one length-prefixed message within @timeout_ms: returns its length, 0 when the peer
 * closed the connection, -1 on timeout/error. */
ssize_t fe_test_tcp_read_msg(int fd, uint8_t *buf, size_t cap, int timeout_ms);
/* Wait until the peer closes (read returns 0 or ECONNRESET) within @timeout_ms. */
bool fe_test_wait_closed(int fd, int timeout_ms);

/* Send @req (an HTTP request) to 127.0.0.1:@port and read the whole response into @out
 * (NUL-terminated), until the server closes or 5 s pass without data. Returns its length
 * (0: cannot connect). */
size_t fe_test_http(uint16_t port, const char *req, char *out, size_t cap);
/* The value of the sample @name ("fedenum_x_total{a=\"b\"}") on a Prometheus text page;
 * -1 when absent. */
long long fe_test_metric(const char *page, const char *name);

/* Build a query message with ldns: returns the wire length written into @out (0 on error). */
size_t fe_test_make_query(const char *name, uint16_t type, unsigned flags, uint16_t bufsize,
                          uint8_t *out, size_t cap);

/* Run a shell command (via /bin/sh -c), return its exit status (-1 if it could not run). */
/* A port free for both TCP and UDP on 127.0.0.1, for servers that cannot report an ephemeral
 * port they bound (knotd, nsd). 0 when none was found in 50 tries. */
uint16_t fe_test_free_port(void);

int fe_test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Counter @name from the last line of the log @log_path that contains @marker (e.g.
 * "counters (SIGUSR1): "), where counters are written " name=value". -1 when the file, such a
 * line or the counter in it is missing. */
long long fe_test_log_counter(const char *log_path, const char *marker, const char *name);

#endif
