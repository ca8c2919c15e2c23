/* The configuration schema: every key of fedenumd.conf and of the federation definition, with
 * its type, default, range and one line of documentation. config.c parses from it, the
 * defaults come from it, and tests/conf/test_schema.c checks docs/configuration.md against it.
 * Add a key here first. */
#include "conf_int.h"

#include <stdlib.h>
#include <string.h>

#define F(field) offsetof(struct fe_conf, field), sizeof(((struct fe_conf *)0)->field)
#define NONE     0, 0

/* clang-format off */
static const struct fe_conf_key schema[] = {
	/* ---- fedenumd.conf ---- */
	{FE_CONF_NODE, "federation", FE_CONF_OWN, "none", 0, 0, NONE,
	 "path of the federation definition"},
	{FE_CONF_NODE, "server", FE_CONF_GROUP, "none", 0, 0, NONE, "listeners and limits"},
	{FE_CONF_NODE, "server.listen", FE_CONF_LISTEN, "[\"127.0.0.1@5300\"]", 0, 0, F(listen),
	 "UDP and TCP listen addresses"},
	{FE_CONF_NODE, "server.workers", FE_CONF_INT, "0", 0, 1024, F(workers),
	 "query threads; 0: one per core"},
	{FE_CONF_NODE, "server.udp-max-payload", FE_CONF_INT, "1232", FE_WIRE_UDP_MIN, 4096,
	 F(udp_max_payload), "our EDNS UDP payload size"},
	{FE_CONF_NODE, "server.tcp-idle-timeout-ms", FE_CONF_INT, "10000", 100, 3600000,
	 F(tcp_idle_timeout_ms), "close an idle or stalled TCP connection after this long"},
	{FE_CONF_NODE, "server.tcp-max-clients", FE_CONF_INT, "1000", 1, 1000000,
	 F(tcp_max_clients), "open TCP connections, whole server"},
	{FE_CONF_NODE, "server.tcp-max-pipeline", FE_CONF_INT, "100", 1, 65535,
	 F(tcp_max_pipeline), "unsent answers queued per connection"},
	{FE_CONF_NODE, "server.tcp-max-out-bytes", FE_CONF_INT, "262144", 131072, 1073741824,
	 F(tcp_max_out_bytes), "unsent answer bytes per connection"},
	{FE_CONF_NODE, "server.tls-listen", FE_CONF_OWN, "[]", 0, 0, NONE,
	 "DNS over TLS (RFC 7858) listen addresses; none: no TLS listener"},
	{FE_CONF_NODE, "server.tls-cert", FE_CONF_PATH, "none", 0, 0, F(tls_cert),
	 "PEM certificate chain of the TLS listeners"},
	{FE_CONF_NODE, "server.tls-key", FE_CONF_PATH, "none", 0, 0, F(tls_key),
	 "PEM private key of tls-cert; refused when readable by group or others"},
	{FE_CONF_NODE, "server.view-tsig-keys", FE_CONF_OWN, "[]", 0, 0, NONE,
	 "TSIG key files (tsig-keygen form) that verify the views' tsig-keys"},
	{FE_CONF_NODE, "server.tls-client-ca", FE_CONF_PATH, "none", 0, 0, F(tls_client_ca),
	 "PEM CA file: TLS clients must present a certificate it verifies"},
	{FE_CONF_NODE, "store", FE_CONF_GROUP, "none", 0, 0, NONE, "the LMDB store"},
	{FE_CONF_NODE, "store.path", FE_CONF_PATH, "/var/lib/fedenum", 0, 0, F(store_path),
	 "store directory"},
	{FE_CONF_NODE, "store.map-size-mb", FE_CONF_INT, "16384", 16, 4194304, F(map_size_mb),
	 "largest size of the store in MiB"},
	{FE_CONF_NODE, "control", FE_CONF_GROUP, "none", 0, 0, NONE, "the control socket"},
	{FE_CONF_NODE, "control.socket", FE_CONF_PATH, "/run/fedenum/control.sock", 0, 0,
	 F(control_socket), "UNIX socket for fedenumctl (mode 0660, the daemon's user)"},
	{FE_CONF_NODE, "control.timeout-ms", FE_CONF_INT, "5000", 100, 600000,
	 F(control_timeout_ms), "per connection: the request read and the response taken"},
	{FE_CONF_NODE, "control.max-clients", FE_CONF_INT, "16", 1, 1024,
	 F(control_max_clients), "open control connections"},
	{FE_CONF_NODE, "control.listen", FE_CONF_STRING, "none", 0, 0, F(control_listen),
	 "ADDR@PORT for remote administration over TCP with mutual TLS; none: off"},
	{FE_CONF_NODE, "control.tls-cert", FE_CONF_PATH, "none", 0, 0, F(control_tls_cert),
	 "PEM certificate chain of the remote control listener"},
	{FE_CONF_NODE, "control.tls-key", FE_CONF_PATH, "none", 0, 0, F(control_tls_key),
	 "PEM private key of control.tls-cert; refused when readable by group or others"},
	{FE_CONF_NODE, "control.tls-client-ca", FE_CONF_PATH, "none", 0, 0,
	 F(control_tls_client_ca), "PEM CA: every remote client certificate must verify against it"},
	{FE_CONF_NODE, "control.tls-clients", FE_CONF_OWN, "none", 0, 0, NONE,
	 "certificate names allowed to administer remotely; none: any the CA verifies"},
	{FE_CONF_NODE, "metrics", FE_CONF_GROUP, "none", 0, 0, NONE, "the Prometheus endpoint"},
	{FE_CONF_NODE, "metrics.listen", FE_CONF_STRING, "none", 0, 0, F(metrics_listen),
	 "ADDR@PORT of the HTTP endpoint GET /metrics; none: off"},
	{FE_CONF_NODE, "xfr", FE_CONF_GROUP, "none", 0, 0, NONE,
	 "zone transfer: TSIG keys, secondaries, primaries, receive limits"},
	{FE_CONF_NODE, "xfr.tsig-keys", FE_CONF_OWN, "none", 0, 0, NONE,
	 "TSIG key files (tsig-keygen form); the first signs NOTIFY"},
	{FE_CONF_NODE, "xfr.notify", FE_CONF_OWN, "none", 0, 0, NONE,
	 "secondaries (ADDR@PORT): NOTIFY, and the only ones that may transfer"},
	{FE_CONF_NODE, "xfr.secondary", FE_CONF_OWN, "none", 0, 0, NONE,
	 "zones this node is a secondary of (APEX@ADDR@PORT of their primary)"},
	{FE_CONF_NODE, "xfr.secondary-tls", FE_CONF_OWN, "none", 0, 0, NONE,
	 "zones this node is a secondary of over TLS (APEX@ADDR@PORT[@NAME])"},
	{FE_CONF_NODE, "xfr.catalogs", FE_CONF_OWN, "none", 0, 0, NONE,
	 "catalog zones (RFC 9432) this node consumes (APEX@ADDR@PORT of their primary)"},
	{FE_CONF_NODE, "xfr.catalog-max-members", FE_CONF_INT, "10000", 1, 1000000,
	 F(xfr_catalog_max_members), "member zones one catalog may list; more: refused"},
	{FE_CONF_NODE, "xfr.tls-ca-file", FE_CONF_PATH, "none", 0, 0, F(xfr_tls_ca_file),
	 "PEM CA that signs the TLS primaries' certificates"},
	{FE_CONF_NODE, "xfr.tls-cert-file", FE_CONF_PATH, "none", 0, 0, F(xfr_tls_cert_file),
	 "PEM client certificate shown to TLS primaries"},
	{FE_CONF_NODE, "xfr.tls-key-file", FE_CONF_PATH, "none", 0, 0, F(xfr_tls_key_file),
	 "its PEM private key; refused when readable by group or others"},
	{FE_CONF_NODE, "xfr.max-transfer-bytes", FE_CONF_INT, "4294967296", 65536,
	 1099511627776LL, F(xfr_max_transfer_bytes), "octets of one transfer in"},
	{FE_CONF_NODE, "xfr.max-records", FE_CONF_INT, "50000000", 1, 1000000000,
	 F(xfr_max_records), "records of one transfer in"},
	{FE_CONF_NODE, "xfr.max-rrset-records", FE_CONF_INT, "100000", 1, 1000000000,
	 F(xfr_max_rrset_records), "records of one RRset in a transferred zone"},
	{FE_CONF_NODE, "xfr.in-max-time-ms", FE_CONF_INT, "600000", 1000, 86400000,
	 F(xfr_in_max_time_ms), "longest refresh of a secondary zone"},
	{FE_CONF_NODE, "xfr.max-transfers-in", FE_CONF_INT, "4", 1, 256, F(xfr_max_transfers_in),
	 "refreshes of secondary zones running at once"},
	{FE_CONF_NODE, "xfr.notify-rate", FE_CONF_INT, "10", 1, 10000, F(xfr_notify_rate),
	 "NOTIFYs taken per second from one primary"},
	{FE_CONF_NODE, "xfr.max-transfers", FE_CONF_INT, "16", 1, 1024, F(xfr_max_transfers),
	 "transfers running at once"},
	{FE_CONF_NODE, "xfr.max-time-ms", FE_CONF_INT, "600000", 1000, 86400000,
	 F(xfr_max_time_ms), "longest transfer"},
	{FE_CONF_NODE, "signing", FE_CONF_GROUP, "none", 0, 0, NONE,
	 "member-side signing: keys and the zones this node creates (zone import)"},
	{FE_CONF_NODE, "signing.key-dir", FE_CONF_PATH, "none", 0, 0, F(signing_key_dir),
	 "the member's keys (private keys mode 0600); none: the node signs nothing"},
	{FE_CONF_NODE, "signing.nsec3", FE_CONF_BOOL, "true", 0, 0, F(signing_nsec3),
	 "NSEC3 with RFC 9276 parameters; false: NSEC"},
	{FE_CONF_NODE, "signing.validity-days", FE_CONF_INT, "14", 2, 365,
	 F(signing_validity_days), "signature lifetime"},
	{FE_CONF_NODE, "signing.refresh-days", FE_CONF_INT, "7", 1, 364, F(signing_refresh_days),
	 "re-sign a zone whose signatures expire within this many days"},
	{FE_CONF_NODE, "signing.ttl", FE_CONF_INT, "3600", 0, 2147483647, F(signing_ttl),
	 "TTL of the SOA, NS and NAPTR records of imported zones"},
	{FE_CONF_NODE, "signing.ns", FE_CONF_OWN, "none", 0, 0, NONE,
	 "NS targets of zones the node creates (array of names; the first is the SOA MNAME)"},
	{FE_CONF_NODE, "signing.soa-rname", FE_CONF_STRING, "none", 0, 0, F(signing_soa_rname),
	 "SOA RNAME of zones the node creates; none: hostmaster.<first NS's domain>"},
	{FE_CONF_NODE, "signing.soa-refresh", FE_CONF_INT, "3600", 1, 2147483647,
	 F(signing_soa_refresh), "SOA REFRESH of created zones"},
	{FE_CONF_NODE, "signing.soa-retry", FE_CONF_INT, "600", 1, 2147483647,
	 F(signing_soa_retry), "SOA RETRY of created zones"},
	{FE_CONF_NODE, "signing.soa-expire", FE_CONF_INT, "1209600", 1, 2147483647,
	 F(signing_soa_expire), "SOA EXPIRE of created zones"},
	{FE_CONF_NODE, "signing.soa-minimum", FE_CONF_INT, "300", 0, 2147483647,
	 F(signing_soa_minimum), "SOA MINIMUM (negative caching TTL) of created zones"},
	{FE_CONF_NODE, "log", FE_CONF_GROUP, "none", 0, 0, NONE, "logging"},
	{FE_CONF_NODE, "log.level", FE_CONF_LEVEL, "info", 0, 0, F(log_level), "log verbosity"},
	{FE_CONF_NODE, "user", FE_CONF_OWN, "none", 0, 0, NONE,
	 "drop to this user after binding"},
	{FE_CONF_NODE, "group", FE_CONF_OWN, "the user's primary group", 0, 0, NONE,
	 "and to this group"},
	/* ---- the federation definition ---- */
	{FE_CONF_FEDERATION, "name", FE_CONF_OWN, "none", 0, 0, NONE, "the federation's name"},
	{FE_CONF_FEDERATION, "trust-anchors", FE_CONF_OWN, "none", 0, 0, NONE,
	 "files of DS or DNSKEY records"},
	{FE_CONF_FEDERATION, "validation", FE_CONF_GROUP, "none", 0, 0, NONE,
	 "how zones are validated"},
	{FE_CONF_FEDERATION, "validation.nsec3-max-iterations", FE_CONF_INT, "50", 0, 2500,
	 F(nsec3_max_iterations), "NSEC3 iterations above this reject a zone (RFC 9276)"},
	{FE_CONF_FEDERATION, "validation.zonemd-required", FE_CONF_BOOL, "false", 0, 0,
	 F(zonemd_required), "a zone needs a verifiable ZONEMD"},
	{FE_CONF_FEDERATION, "validation.forbid-opt-out", FE_CONF_BOOL, "false", 0, 0,
	 F(forbid_opt_out), "any NSEC3 opt-out rejects a zone"},
	{FE_CONF_FEDERATION, "clients", FE_CONF_OWN, "none", 0, 0, NONE,
	 "address prefixes admitted to query"},
	{FE_CONF_FEDERATION, "members", FE_CONF_OWN, "none", 0, 0, NONE, "the federation's members"},
	{FE_CONF_FEDERATION, "members.name", FE_CONF_OWN, "none", 0, 0, NONE, "unique name"},
	{FE_CONF_FEDERATION, "members.role", FE_CONF_OWN, "none", 0, 0, NONE,
	 "registry or member"},
	{FE_CONF_FEDERATION, "members.prefixes", FE_CONF_OWN, "none", 0, 0, NONE,
	 "E.164 prefixes"},
	{FE_CONF_FEDERATION, "members.domains", FE_CONF_OWN, "none", 0, 0, NONE,
	 "entry-point domains"},
	{FE_CONF_FEDERATION, "members.primary", FE_CONF_OWN, "none", 0, 0, NONE,
	 "the member's primary"},
	{FE_CONF_FEDERATION, "members.tsig-key", FE_CONF_OWN, "none", 0, 0, NONE, "TSIG key name"},
	{FE_CONF_FEDERATION, "members.tsig-secret-file", FE_CONF_OWN, "none", 0, 0, NONE,
	 "file holding the TSIG secret"},
	{FE_CONF_FEDERATION, "members.peers", FE_CONF_OWN, "none", 0, 0, NONE,
	 "members it has peering agreements with; absent: every member"},
	{FE_CONF_FEDERATION, "members.suspended", FE_CONF_OWN, "false", 0, 0, NONE,
	 "routes to or in this member's zones are a policy cause (member-suspended)"},
	{FE_CONF_FEDERATION, "members.border", FE_CONF_OWN, "none", 0, 0, NONE,
	 "border element names (I-BCF/SBC): topology hiding of the member's other names"},
	{FE_CONF_FEDERATION, "zones", FE_CONF_OWN, "none", 0, 0, NONE, "the zones this node serves"},
	{FE_CONF_FEDERATION, "zones.apex", FE_CONF_OWN, "none", 0, 0, NONE, "the zone's apex"},
	{FE_CONF_FEDERATION, "zones.member", FE_CONF_OWN, "none", 0, 0, NONE, "the owning member"},
	{FE_CONF_FEDERATION, "zones.file", FE_CONF_OWN, "none", 0, 0, NONE, "the master file"},
	{FE_CONF_FEDERATION, "views", FE_CONF_OWN, "none", 0, 0, NONE,
	 "client groups of the policy engine"},
	{FE_CONF_FEDERATION, "views.name", FE_CONF_OWN, "none", 0, 0, NONE, "unique name"},
	{FE_CONF_FEDERATION, "views.member", FE_CONF_OWN, "none", 0, 0, NONE,
	 "the member whose agreements apply; absent: every member"},
	{FE_CONF_FEDERATION, "views.clients", FE_CONF_OWN, "none", 0, 0, NONE,
	 "source address prefixes"},
	{FE_CONF_FEDERATION, "views.tsig-keys", FE_CONF_OWN, "none", 0, 0, NONE,
	 "TSIG key names; the query's TSIG must verify with one (server.view-tsig-keys)"},
	{FE_CONF_FEDERATION, "views.foreign-proofs", FE_CONF_OWN, "true", 0, 0, NONE,
	 "NSEC/NSEC3 proofs of other members' zones given to this view"},
	{FE_CONF_FEDERATION, "views.tls-clients", FE_CONF_OWN, "none", 0, 0, NONE,
	 "verified TLS client certificate names (DNS SAN or CN), as an alternative to tsig-keys"},
	{FE_CONF_FEDERATION, "views.queries-per-second", FE_CONF_INT, "0", 0, 10000000,
	 NONE, "query budget of the view, whole server; 0: none"},
	{FE_CONF_FEDERATION, "views.over-budget", FE_CONF_OWN, "refused", 0, 0, NONE,
	 "what a query over the budget gets: refused or drop"},
	{FE_CONF_FEDERATION, "policy", FE_CONF_OWN, "none", 0, 0, NONE,
	 "the routing policy"},
	{FE_CONF_FEDERATION, "policy.bgcf", FE_CONF_OWN, "none", 0, 0, NONE,
	 "sip:HOST[:PORT] of the BGCF (action bgcf)"},
	{FE_CONF_FEDERATION, "policy.transit", FE_CONF_OWN, "none", 0, 0, NONE,
	 "sip:HOST[:PORT] of the transit (action transit)"},
	{FE_CONF_FEDERATION, "policy.outside", FE_CONF_OWN, "refused", 0, 0, NONE,
	 "names outside the federation's roots: refused or nxdomain"},
	{FE_CONF_FEDERATION, "policy.rules", FE_CONF_OWN, "none", 0, 0, NONE,
	 "cause to action rules, the first match wins"},
	{FE_CONF_FEDERATION, "policy.rules.causes", FE_CONF_OWN, "none", 0, 0, NONE,
	 "the causes the rule applies to"},
	{FE_CONF_FEDERATION, "policy.rules.action", FE_CONF_OWN, "none", 0, 0, NONE,
	 "nxdomain, bgcf, transit, pstn, refused, servfail or pass"},
	{FE_CONF_FEDERATION, "policy.rules.prefixes", FE_CONF_OWN, "none", 0, 0, NONE,
	 "E.164 prefixes; absent: every number"},
	{FE_CONF_FEDERATION, "policy.rules.views", FE_CONF_OWN, "none", 0, 0, NONE,
	 "views; absent: every view"},
	{FE_CONF_FEDERATION, "policy.rate-limit", FE_CONF_OWN, "none", 0, 0, NONE,
	 "response rate limiting per client prefix (RRL, UDP); present: on"},
	{FE_CONF_FEDERATION, "policy.rate-limit.responses-per-second", FE_CONF_INT, "100", 1,
	 10000000, F(abuse.rrl_rate), "responses a second per prefix and response class"},
	{FE_CONF_FEDERATION, "policy.rate-limit.slip", FE_CONF_INT, "2", 0, 10,
	 F(abuse.rrl_slip), "every Nth limited response sent truncated (TC=1); 0: none"},
	{FE_CONF_FEDERATION, "policy.rate-limit.window", FE_CONF_INT, "15", 1, 3600,
	 F(abuse.rrl_window_s), "seconds of debt a flood accumulates"},
	{FE_CONF_FEDERATION, "policy.rate-limit.ipv4-prefix", FE_CONF_INT, "24", 8, 32,
	 F(abuse.rrl_v4), "IPv4 client prefix length"},
	{FE_CONF_FEDERATION, "policy.rate-limit.ipv6-prefix", FE_CONF_INT, "56", 16, 128,
	 F(abuse.rrl_v6), "IPv6 client prefix length"},
	{FE_CONF_FEDERATION, "policy.rate-limit.exempt-views", FE_CONF_OWN, "none", 0, 0, NONE,
	 "views not rate limited"},
	{FE_CONF_FEDERATION, "policy.harvesting", FE_CONF_OWN, "none", 0, 0, NONE,
	 "harvesting detection per client prefix; present: on"},
	{FE_CONF_FEDERATION, "policy.harvesting.window", FE_CONF_INT, "300", 10, 86400,
	 F(abuse.hv_window_s), "seconds over which a prefix's numbers are counted"},
	{FE_CONF_FEDERATION, "policy.harvesting.distinct-numbers", FE_CONF_INT, "200", 10, 4000,
	 F(abuse.hv_distinct), "distinct numbers from which the miss and sequence shares count"},
	{FE_CONF_FEDERATION, "policy.harvesting.max-distinct", FE_CONF_INT, "2000", 10, 4000,
	 F(abuse.hv_max_distinct), "distinct numbers that are harvesting whatever they were"},
	{FE_CONF_FEDERATION, "policy.harvesting.nxdomain-percent", FE_CONF_INT, "50", 1, 100,
	 F(abuse.hv_nx_pct), "share of misses that is harvesting"},
	{FE_CONF_FEDERATION, "policy.harvesting.sequential-percent", FE_CONF_INT, "30", 1, 100,
	 F(abuse.hv_seq_pct), "share of sequential numbers that is harvesting"},
	{FE_CONF_FEDERATION, "policy.harvesting.hold", FE_CONF_INT, "600", 1, 86400,
	 F(abuse.hv_hold_s), "seconds a harvesting prefix stays throttled"},
	{FE_CONF_FEDERATION, "policy.harvesting.action", FE_CONF_OWN, "refused", 0, 0, NONE,
	 "what a throttled prefix gets: refused or drop"},
	{FE_CONF_FEDERATION, "policy.harvesting.ipv4-prefix", FE_CONF_INT, "24", 8, 32,
	 F(abuse.hv_v4), "IPv4 client prefix length"},
	{FE_CONF_FEDERATION, "policy.harvesting.ipv6-prefix", FE_CONF_INT, "56", 16, 128,
	 F(abuse.hv_v6), "IPv6 client prefix length"},
	{FE_CONF_FEDERATION, "policy.harvesting.exempt-views", FE_CONF_OWN, "none", 0, 0, NONE,
	 "views never throttled"},
	{FE_CONF_FEDERATION, "policy.on-demand", FE_CONF_OWN, "none", 0, 0, NONE,
	 "on-demand peering: resolve member zones this node does not hold; present: on"},
	{FE_CONF_FEDERATION, "policy.on-demand.prefixes", FE_CONF_OWN, "none", 0, 0, NONE,
	 "E.164 prefixes whose numbers may be resolved on demand"},
	{FE_CONF_FEDERATION, "policy.on-demand.views", FE_CONF_OWN, "none", 0, 0, NONE,
	 "views whose queries may be resolved on demand; absent: every view"},
	{FE_CONF_FEDERATION, "policy.on-demand.servers", FE_CONF_OWN, "none", 0, 0, NONE,
	 "ADDR@PORT of the registry's name servers"},
	{FE_CONF_FEDERATION, "policy.on-demand.port", FE_CONF_INT, "53", 1, 65535,
	 F(od.port), "port of the members' name servers named by the registry's glue"},
	{FE_CONF_FEDERATION, "policy.on-demand.max-pending", FE_CONF_INT, "1000", 1, 100000,
	 F(od.max_pending), "queries waiting for an on-demand resolution, whole node"},
	{FE_CONF_FEDERATION, "policy.on-demand.max-per-client", FE_CONF_INT, "32", 1, 100000,
	 F(od.max_per_client), "queries waiting per client address"},
	{FE_CONF_FEDERATION, "policy.on-demand.timeout-ms", FE_CONF_INT, "2000", 100, 60000,
	 F(od.timeout_ms), "longest wait for one resolution"},
	{FE_CONF_FEDERATION, "policy.on-demand.max-ttl", FE_CONF_INT, "3600", 1, 604800,
	 F(od.max_ttl_s), "longest time an answer is kept in the on-demand cache"},
	{FE_CONF_FEDERATION, "policy.on-demand.cache-entries", FE_CONF_INT, "100000", 16,
	 100000000, F(od.cache_entries), "answers kept in the on-demand cache at most"},
};
/* clang-format on */

const struct fe_conf_key *fe_conf_schema(size_t *n)
{
	*n = FE_ARRAY_LEN(schema);
	return schema;
}

const struct fe_conf_key *fe__conf_key(enum fe_conf_file file, const char *name)
{
	for (size_t i = 0; i < FE_ARRAY_LEN(schema); i++)
		if (schema[i].file == file && strcmp(schema[i].name, name) == 0)
			return &schema[i];
	return NULL;
}

size_t fe__conf_children(enum fe_conf_file file, const char *group, const char **out, size_t cap)
{
	size_t n = 0, gl = group ? strlen(group) : 0;
	for (size_t i = 0; i < FE_ARRAY_LEN(schema) && n + 1 < cap; i++) {
		const char *name = schema[i].name;
		if (schema[i].file != file)
			continue;
		if (group) {
			if (strncmp(name, group, gl) != 0 || name[gl] != '.')
				continue;
			name += gl + 1;
		}
		if (strchr(name, '.') == NULL)
			out[n++] = name;
	}
	out[n] = NULL;
	return n;
}

static void *field(struct fe_conf *c, const struct fe_conf_key *k)
{
	return (char *)c + k->offset;
}

void fe__conf_store_int(struct fe_conf *c, const struct fe_conf_key *k, unsigned long long v)
{
	void *p = field(c, k);
	switch (k->size) {
	case 2: {
		uint16_t x = (uint16_t)v;
		memcpy(p, &x, 2);
		break;
	}
	case 4: {
		uint32_t x = (uint32_t)v;
		memcpy(p, &x, 4);
		break;
	}
	case 8: {
		uint64_t x = (uint64_t)v;
		memcpy(p, &x, 8);
		break;
	}
	default:
		break;
	}
}

void fe_conf_init(struct fe_conf *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < FE_ARRAY_LEN(schema); i++) {
		const struct fe_conf_key *k = &schema[i];
		if (k->type == FE_CONF_INT)
			fe__conf_store_int(c, k, strtoull(k->def, NULL, 10));
		else if (k->type == FE_CONF_BOOL)
			*(bool *)field(c, k) = strcmp(k->def, "true") == 0;
		else if (k->type == FE_CONF_LEVEL)
			(void)fe_log_level_parse(k->def, (enum fe_log_level *)field(c, k));
	}
}

int fe__conf_string_defaults(struct fe_conf *c)
{
	const struct fe_conf_key *k = fe__conf_key(FE_CONF_NODE, "store.path");
	char **path = (char **)field(c, k);
	if (*path == NULL && (*path = strdup(k->def)) == NULL)
		return FE_ENOMEM;
	k = fe__conf_key(FE_CONF_NODE, "control.socket");
	path = (char **)field(c, k);
	if (*path == NULL && (*path = strdup(k->def)) == NULL)
		return FE_ENOMEM;
	if (c->nlisten == 0) {
		/* ["127.0.0.1@5300"]: the one address between the quotes */
		k = fe__conf_key(FE_CONF_NODE, "server.listen");
		char addr[64];
		const char *q = strchr(k->def, '"');
		size_t len = q ? strcspn(q + 1, "\"") : 0;
		if (len == 0 || len >= sizeof(addr))
			return FE_EINVAL;
		memcpy(addr, q + 1, len);
		addr[len] = '\0';
		free(c->listen);
		c->listen = calloc(1, sizeof(*c->listen));
		if (c->listen == NULL)
			return FE_ENOMEM;
		if (fe_server_listen_parse(addr, c->listen) != FE_OK)
			return FE_EINVAL;
		c->nlisten = 1;
	}
	return FE_OK;
}
