/* fuotad: the FUOTA server.
 *   fuotad [-c FILE] [run]          serve the REST API until SIGTERM / SIGINT
 *   fuotad [-c FILE] migrate        apply the database migrations and exit
 *   fuotad [-c FILE] token create [--tenant ID] [--admin] [--name NAME]
 *                                   print a new API token (shown once, stored hashed)
 * The configuration file may also be named by FUOTA_CONFIG; see fuota/cfg.h for its keys. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "fuota/api.h"
#include "fuota/cbox.h"
#include "fuota/cfg.h"
#include "fuota/err.h"
#include "fuota/http.h"
#include "fuota/log.h"
#include "fuota/store.h"
#include "fuota/engine_mqtt.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: fuotad [-c FILE] [run]\n"
	           "       fuotad [-c FILE] migrate\n"
	           "       fuotad [-c FILE] token create [--tenant ID] [--admin] [--name NAME]\n");
}

static int open_store(const struct cfg *c, unsigned pool, struct store **s)
{
	char err[512];
	int applied = 0;

	if (store_open(c->db_dsn, pool, s, err, sizeof(err)) != FUOTA_OK) {
		log_msg(LOG_LVL_ERROR, "%s", err);
		return -1;
	}
	store_set_prepared(*s, c->db_prepared);
	if (store_migrate(*s, &applied) != FUOTA_OK) {
		log_msg(LOG_LVL_ERROR, "database: migrations failed");
		store_close(*s);
		*s = NULL;
		return -1;
	}
	if (applied)
		log_msg(LOG_LVL_INFO, "database: %d migration(s) applied", applied);
	return 0;
}

static int cmd_token(const struct cfg *c, int argc, char **argv)
{
	long long tenant = 1;
	const char *name = "cli";
	bool admin = false;
	char token[CBOX_TOKEN_LEN + 1], *json = NULL;
	uint8_t hash[CBOX_HASH_LEN];
	struct store *s = NULL;
	int rc = 1;

	if (argc < 1 || strcmp(argv[0], "create") != 0) {
		usage(stderr);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--admin") == 0) {
			admin = true;
		} else if (strcmp(argv[i], "--tenant") == 0 && i + 1 < argc) {
			char *end;

			tenant = strtoll(argv[++i], &end, 10);
			if (*end || tenant < 1) {
				fprintf(stderr, "fuotad: --tenant needs a positive tenant id\n");
				return 2;
			}
		} else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
			name = argv[++i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (open_store(c, 1, &s) != 0)
		return 1;
	if (cbox_token_new(token) != FUOTA_OK ||
	    cbox_token_hash(token, CBOX_TOKEN_LEN, hash) != FUOTA_OK)
		goto out;
	if (store_token_create(s, tenant, name, admin, hash, &json) != FUOTA_OK) {
		fprintf(stderr, "fuotad: cannot create the token (tenant %lld exists?)\n", tenant);
		goto out;
	}
	printf("%s\n", token);
	rc = 0;
out:
	OPENSSL_cleanse(token, sizeof(token));
	free(json);
	store_close(s);
	return rc;
}

static int cmd_run(const struct cfg *c)
{
	struct store *s = NULL;
	struct api_ctx *api = NULL;
	struct http_server *h = NULL;
	struct http_opts ho;
	struct engine_runner *engine = NULL;
	sigset_t set;
	char err[256];
	int sig = 0, rc = 1;

	/* Block the stop signals before any thread starts so that only sigwait sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (!c->have_master_key)
		log_msg(LOG_LVL_WARN, "no master key configured: device creation is refused");
	if (open_store(c, c->db_pool_size, &s) != 0)
		return 1;
	if (api_create(s, c, &api) != FUOTA_OK)
		goto out;
	/* Revocations through another instance reach this one's token cache at once. */
	if (c->token_cache_ms && api_listen_start(api, c->db_dsn) != FUOTA_OK)
		goto out;
	ho.bind = c->http_bind;
	ho.port = c->http_port;
	ho.threads = c->http_threads;
	ho.max_body = c->max_upload_bytes + 65536;
	ho.timeout_s = c->http_timeout_s;
	ho.header_timeout_s = c->http_header_timeout_s;
	ho.max_connections = c->http_max_connections;
	ho.max_connections_per_ip = c->http_max_connections_per_ip;
	ho.sse_poll_ms = c->http_sse_poll_ms;
	if (http_start(api, &ho, &h, err, sizeof(err)) != FUOTA_OK) {
		log_msg(LOG_LVL_ERROR, "%s", err);
		goto out;
	}
	log_msg(LOG_LVL_INFO, "fuotad listening on http://%s:%u (%u threads, %u db connections)",
	        c->http_bind, http_port(h), c->http_threads, c->db_pool_size);
	/* The job engine: its own thread, database connections and MQTT client. */
	if (c->engine_enabled && engine_runner_start(c, &engine) != FUOTA_OK)
		goto out;
	/* A stop signal, or an engine that must not go on (its instance id taken by another
	 * fuotad after its lock was lost): looked at every second. */
	while (sig <= 0) {
		struct timespec ts = {1, 0};

		sig = sigtimedwait(&set, NULL, &ts);
		if (sig <= 0 && engine_runner_refused(engine))
			goto out;
	}
	log_msg(LOG_LVL_INFO, "signal %d: shutting down", sig);
	rc = 0;
out:
	engine_runner_stop(engine);
	http_stop(h);
	api_destroy(api);
	store_close(s);
	if (rc == 0)
		log_msg(LOG_LVL_INFO, "fuotad stopped");
	return rc;
}

int main(int argc, char **argv)
{
	const char *path = getenv("FUOTA_CONFIG");
	struct cfg *c = calloc(1, sizeof(*c));
	char err[512];
	int i = 1, rc = 2;

	if (!c)
		return 1;
	if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		usage(stdout);
		free(c);
		return 0;
	}
	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		path = argv[2];
		i = 3;
	}
	if (cfg_load(c, path && path[0] ? path : NULL, err, sizeof(err)) != FUOTA_OK) {
		fprintf(stderr, "fuotad: %s\n", err);
		goto out;
	}
	log_setup(c->log_level, c->log_format == CFG_LOG_JSON, stderr);
	if (i >= argc || strcmp(argv[i], "run") == 0)
		rc = cmd_run(c);
	else if (strcmp(argv[i], "migrate") == 0)
		rc = 0;
	else if (strcmp(argv[i], "token") == 0)
		rc = cmd_token(c, argc - i - 1, argv + i + 1);
	else
		usage(stderr);
	if (i < argc && strcmp(argv[i], "migrate") == 0) {
		struct store *s = NULL;

		rc = open_store(c, 1, &s) == 0 ? 0 : 1;
		store_close(s);
	}
out:
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
	return rc;
}
