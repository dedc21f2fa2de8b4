/* fuota-modem: the SARA-R5 firmware update from the command line (issue 11), over the update
 * manager of cellular/include/fuota/sara_fw.h.
 *
 *   fuota-modem [--tty PATH] [--baud N] [--state FILE] [--log FILE] [--json] COMMAND ...
 *
 * Exit codes: 0 done / ok; 1 the update failed (the status says why; the old firmware runs);
 * 2 usage; 3 not finished (the module is still downloading, validating or installing: run
 * `resume`); 4 refused (a second transfer over an install, nothing pending, ...); 5 the port or
 * the module failed; 6 the state file is not a complete state file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuota_modem.h"

static int usage(void)
{
	fputs("usage: fuota-modem [--tty PATH] [--baud N] [--state FILE] [--log FILE] [--json]\n"
	      "                   [--greeting TEXT|--no-greeting] CMD\n"
	      "  status                      the state file (never touches the modem)\n"
	      "  log                         the AT log\n"
	      "  update --method foat --package FILE [--1k] [--foat-baud N]\n"
	      "  update --method http|ftp --server HOST --path PATH (--md5 HEX | --package FILE)\n"
	      "         [--user U] [--password P] [--server-port N]\n"
	      "  update --method uart --package FILE\n"
	      "  resume                      after a restart: finish, or say where it stands\n"
	      "  install                     a package already downloaded (uFOTA download only)\n"
	      "  restore                     apply the desired configuration now\n"
	      "  watch [--timeout S]         follow a uFOTA campaign to its outcome\n"
	      "  ufota enable|config MODE|ack DELAY|reject|pause|resume|cancel|progress\n"
	      "        register [--checkin]|srlt [SECONDS]\n"
	      "  rot check|update\n"
	      "  config [--mno N] [--apn CID,TYPE,APN]... [--psm TAU,ACTIVE|off] [--edrx "
	      "VALUE|off]\n"
	      "         [--urcs] [--urcs-install]   the settings restored after an update\n",
	      stderr);
	return FM_EXIT_USAGE;
}

static bool opt_val(int argc, char **argv, int *i, const char *name, const char **out)
{
	if (strcmp(argv[*i], name) != 0 || *i + 1 >= argc)
		return false;
	*out = argv[++*i];
	return true;
}

/* Global options before the command; the command and its arguments stay in o->argv. */
static int parse_globals(int argc, char **argv, struct fm_opts *o)
{
	const char *v;
	int i;

	o->tty = getenv("FUOTA_MODEM_TTY");
	o->state = getenv("FUOTA_MODEM_STATE");
	if (!o->state)
		o->state = "fuota-modem.state";
	o->baud = 115200;
	o->greeting = FM_GREETING;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (opt_val(argc, argv, &i, "--tty", &o->tty) ||
		    opt_val(argc, argv, &i, "--state", &o->state) ||
		    opt_val(argc, argv, &i, "--log", &o->log) ||
		    opt_val(argc, argv, &i, "--greeting", &o->greeting))
			continue;
		if (strcmp(argv[i], "--no-greeting") == 0)
			o->greeting = NULL;
		else if (opt_val(argc, argv, &i, "--baud", &v))
			o->baud = (uint32_t)strtoul(v, NULL, 10);
		else if (strcmp(argv[i], "--json") == 0)
			o->json = true;
		else
			return -1;
	}
	if (i == argc || o->baud == 0)
		return -1;
	if (!o->log) {
		snprintf(o->log_buf, sizeof(o->log_buf), "%s.log", o->state);
		o->log = o->log_buf;
	}
	o->argc = argc - i;
	o->argv = argv + i;
	return 0;
}

static int cmd_log(const struct fm_opts *o)
{
	char buf[4096];
	size_t n;
	FILE *f = fopen(o->log, "r");

	if (!f) {
		fprintf(stderr, "fuota-modem: %s: %s\n", o->log, strerror(errno));
		return FM_EXIT_IO;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	struct fm_opts o = {0};
	const char *cmd;

	if (parse_globals(argc, argv, &o) != 0)
		return usage();
	cmd = o.argv[0];
	if (strcmp(cmd, "status") == 0 && o.argc == 1)
		return fm_status(&o);
	if (strcmp(cmd, "log") == 0 && o.argc == 1)
		return cmd_log(&o);
	if (strcmp(cmd, "config") == 0)
		return fm_config(&o);
	if (strcmp(cmd, "update") == 0 || strcmp(cmd, "resume") == 0 ||
	    strcmp(cmd, "install") == 0 || strcmp(cmd, "watch") == 0 ||
	    strcmp(cmd, "restore") == 0 || strcmp(cmd, "ufota") == 0 || strcmp(cmd, "rot") == 0)
		return fm_modem(&o);
	return usage();
}
