/* The module file system: one directory per tag under --fs (USER, FOAT), +UDWNFILE with its '>'
 * prompt (appending when the file exists), +ULSTFILE, +UDELFILE, +URDFILE, +UFACTORY, and the
 * simulator's own +USIMXRECV that hands the line to the Xmodem receiver. */
#include "msim_handlers.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FS_CAPACITY (32u << 20) /* what +ULSTFILE=1 counts free space against */
#define NAME_MAX_AT 248
#define FOAT_NAME   "updatePackage.bin"

static bool tag_ok(const char *tag)
{
	return !strcmp(tag, "USER") || !strcmp(tag, "FOAT");
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n > NAME_MAX_AT || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (name[i] == '/' || (unsigned char)name[i] < 0x20 || name[i] == '"')
			return false;
	return true;
}

/* Whatever name it is given, the FOAT area keeps one package, "updatePackage.bin" (FW app note
 * Table 12: +UDWNFILE="delta",...,"FOAT" is then listed as "updatePackage.bin"). */
int msim_fs_path(const struct msim *m, const char *tag, const char *name, char *out, size_t len)
{
	int k;

	if (!m->cfg.fs_dir || !tag_ok(tag) || !name_ok(name))
		return -1;
	if (!strcmp(tag, "FOAT"))
		name = FOAT_NAME;
	k = snprintf(out, len, "%s/%s/%s", m->cfg.fs_dir, tag, name);
	return k > 0 && (size_t)k < len ? 0 : -1;
}

int msim_fs_write(struct msim *m, const char *tag, const char *name, const void *data, size_t len,
                  bool append)
{
	char path[4096], dir[4096];
	FILE *f;
	bool ok;

	if (msim_fs_path(m, tag, name, path, sizeof(path)) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/%s", m->cfg.fs_dir, tag);
	mkdir(m->cfg.fs_dir, 0755);
	mkdir(dir, 0755);
	f = fopen(path, append ? "ab" : "wb");
	if (!f)
		return -1;
	ok = fwrite(data, 1, len, f) == len;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

static void rm_dir_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[4096 + 512];

	while (d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		unlink(p);
	}
	if (d)
		closedir(d);
}

/* At a reboot: a pending +UFACTORY is applied (the file system, NVM but the version). */
void msim_fs_reset(struct msim *m)
{
	char dir[4096];

	if (m->factory_fs == 2 && m->cfg.fs_dir) {
		snprintf(dir, sizeof(dir), "%s/USER", m->cfg.fs_dir);
		rm_dir_files(dir);
	}
	if (m->factory_nvm == 2) {
		char version[sizeof(m->nvm.version)];

		memcpy(version, m->nvm.version, sizeof(version));
		msim_nvm_defaults(&m->nvm);
		memcpy(m->nvm.version, version, sizeof(version));
		msim_nvm_changed(m);
	}
	m->factory_fs = m->factory_nvm = 0;
}

/* "name" (param i) and an optional "tag" (param i + 1, default USER) */
static int name_tag(const struct msim_cmd *c, int i, char *name, char *tag)
{
	if (msim_at_str(c, i, name, MSIM_STR_MAX) != 0 || !name_ok(name))
		return -1;
	snprintf(tag, 16, "USER");
	if (msim_at_has(c, i + 1) && (msim_at_str(c, i + 1, tag, 16) != 0 || !tag_ok(tag)))
		return -1;
	return 0;
}

static void udwnfile_done(struct msim *m, bool complete)
{
	if (!complete) {
		msim_error(m, MSIM_CME_UNKNOWN); /* the host stopped before <size> bytes */
		return;
	}
	if (msim_fs_write(m, m->raw.tag, m->raw.name, m->raw.buf, m->raw.want, true) != 0) {
		msim_error(m, MSIM_CME_MEMORY_FULL);
		return;
	}
	msim_ok(m);
}

/* AT+UDWNFILE="<name>",<size>[,"<tag>"] -> '>' prompt, <size> bytes -> OK */
int msim_h_udwnfile(struct msim *m, const struct msim_cmd *c)
{
	long size;

	if (c->kind != MSIM_AT_SET || msim_at_str(c, 0, m->raw.name, sizeof(m->raw.name)) != 0 ||
	    !name_ok(m->raw.name) || msim_at_int(c, 1, 1, FS_CAPACITY, &size) != 0)
		return MSIM_CME_BAD_PARAM;
	snprintf(m->raw.tag, sizeof(m->raw.tag), "USER");
	if (msim_at_has(c, 2) &&
	    (msim_at_str(c, 2, m->raw.tag, sizeof(m->raw.tag)) != 0 || !tag_ok(m->raw.tag)))
		return MSIM_CME_BAD_PARAM;
	msim_out_raw(m, "\r\n>", 3);
	msim_expect_raw(m, (size_t)size, 10000 + (unsigned)(size / 10), udwnfile_done);
	return MSIM_LATER;
}

static long file_size(const struct msim *m, const char *tag, const char *name)
{
	char path[4096];
	struct stat st;

	if (msim_fs_path(m, tag, name, path, sizeof(path)) != 0 || stat(path, &st) != 0)
		return -1;
	return (long)st.st_size;
}

static void list_tag(struct msim *m, const char *tag)
{
	char dir[4096], line[MSIM_LINE_MAX];
	size_t k = (size_t)snprintf(line, sizeof(line), "+ULSTFILE: ");
	bool first = true;
	DIR *d;
	struct dirent *e;

	snprintf(dir, sizeof(dir), "%s/%s", m->cfg.fs_dir ? m->cfg.fs_dir : ".", tag);
	d = m->cfg.fs_dir ? opendir(dir) : NULL;
	while (d && (e = readdir(d))) {
		size_t n = strlen(e->d_name);

		if (e->d_name[0] == '.' || k + n + 4 >= sizeof(line))
			continue;
		k += (size_t)snprintf(line + k, sizeof(line) - k, "%s\"%s\"", first ? "" : ",",
		                      e->d_name);
		first = false;
	}
	if (d)
		closedir(d);
	msim_line_bytes(m, line, k);
}

static long used_bytes(const struct msim *m)
{
	char dir[4096];
	long sum = 0;
	const char *tags[] = {"USER", "FOAT"};

	for (int t = 0; t < 2 && m->cfg.fs_dir; t++) {
		DIR *d;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "%s/%s", m->cfg.fs_dir, tags[t]);
		d = opendir(dir);
		while (d && (e = readdir(d))) {
			long s = e->d_name[0] == '.' ? -1 : file_size(m, tags[t], e->d_name);
			sum += s > 0 ? s : 0;
		}
		if (d)
			closedir(d);
	}
	return sum;
}

/* AT+ULSTFILE[=0[,"<tag>"]] lists; =1 free bytes; =2,"<name>"[,"<tag>"] a file's size */
int msim_h_ulstfile(struct msim *m, const struct msim_cmd *c)
{
	long op = 0, size;
	char name[MSIM_STR_MAX], tag[16] = "USER";

	if (c->kind == MSIM_AT_SET && msim_at_int(c, 0, 0, 2, &op) != 0)
		return MSIM_CME_BAD_PARAM;
	if (op == 0) {
		if (msim_at_has(c, 1) && (msim_at_str(c, 1, tag, sizeof(tag)) != 0 || !tag_ok(tag)))
			return MSIM_CME_BAD_PARAM;
		list_tag(m, tag);
	} else if (op == 1) {
		msim_line(m, "+ULSTFILE: %ld", (long)FS_CAPACITY - used_bytes(m));
	} else {
		if (name_tag(c, 1, name, tag) != 0)
			return MSIM_CME_BAD_PARAM;
		size = file_size(m, tag, name);
		if (size < 0)
			return MSIM_CME_NOT_FOUND;
		msim_line(m, "+ULSTFILE: %ld", size);
	}
	return 0;
}

/* AT+UDELFILE="<name>"[,"<tag>"] */
int msim_h_udelfile(struct msim *m, const struct msim_cmd *c)
{
	char name[MSIM_STR_MAX], tag[16], path[4096];

	if (c->kind != MSIM_AT_SET || name_tag(c, 0, name, tag) != 0)
		return MSIM_CME_BAD_PARAM;
	/* without a tag, the FW app note's AT+UDELFILE="updatePackage.bin" reaches the package */
	if (!msim_at_has(c, 1) && file_size(m, tag, name) < 0 && !strcmp(name, FOAT_NAME))
		snprintf(tag, sizeof(tag), "FOAT");
	if (msim_fs_path(m, tag, name, path, sizeof(path)) != 0 || unlink(path) != 0)
		return MSIM_CME_NOT_FOUND;
	return 0;
}

/* AT+URDFILE="<name>"[,"<tag>"] -> +URDFILE: "<name>",<size>,"<data>" (small files only) */
int msim_h_urdfile(struct msim *m, const struct msim_cmd *c)
{
	char name[MSIM_STR_MAX], tag[16], path[4096], line[MSIM_LINE_MAX];
	size_t k, n;
	FILE *f;

	if (c->kind != MSIM_AT_SET || name_tag(c, 0, name, tag) != 0 ||
	    msim_fs_path(m, tag, name, path, sizeof(path)) != 0)
		return MSIM_CME_BAD_PARAM;
	f = fopen(path, "rb");
	if (!f)
		return MSIM_CME_NOT_FOUND;
	k = (size_t)snprintf(line, sizeof(line), "+URDFILE: \"%s\",", name);
	n = fread(line + k + 16, 1, sizeof(line) - k - 17, f);
	if (!feof(f)) {
		fclose(f);
		return MSIM_CME_NOT_SUPPORTED; /* larger than the simulator reads in one line */
	}
	fclose(f);
	{
		char head[24];
		int h = snprintf(head, sizeof(head), "%zu,\"", n);

		memmove(line + k + (size_t)h, line + k + 16, n);
		memcpy(line + k, head, (size_t)h);
		k += (size_t)h + n;
	}
	line[k++] = '"';
	msim_line_bytes(m, line, k);
	return 0;
}

/* AT+UFACTORY=<fs>,<nvm>: 2,x deletes the USER files, x,2 restores NVM, at the next reboot */
int msim_h_ufactory(struct msim *m, const struct msim_cmd *c)
{
	long fs, nvm;

	if (c->kind != MSIM_AT_SET || msim_at_int(c, 0, 0, 2, &fs) != 0 ||
	    msim_at_int(c, 1, 0, 2, &nvm) != 0)
		return MSIM_CME_BAD_PARAM;
	m->factory_fs = (int)fs;
	m->factory_nvm = (int)nvm;
	return 0;
}

/* AT+USIMXRECV="<name>"[,<size>[,"<tag>"]]: not a u-blox command. The Xmodem receiver (the
 * module's FOAT receiver) takes the line: 'C's, then NAKs, as after +UFWUPD; the received file is
 * kept (trimmed to <size> when given, since Xmodem pads the last block), then
 * +USIMXRECV: <result>,<bytes>,<blocks>,<bad blocks> and OK or ERROR. */
int msim_h_usimxrecv(struct msim *m, const struct msim_cmd *c)
{
	char name[MSIM_STR_MAX], tag[16] = "USER";
	long size = -1;

	if (c->kind != MSIM_AT_SET || msim_at_str(c, 0, name, sizeof(name)) != 0 ||
	    !name_ok(name) || (msim_at_has(c, 1) && msim_at_int(c, 1, 0, 64L << 20, &size) != 0))
		return MSIM_CME_BAD_PARAM;
	if (msim_at_has(c, 2) && (msim_at_str(c, 2, tag, sizeof(tag)) != 0 || !tag_ok(tag)))
		return MSIM_CME_BAD_PARAM;
	msim_xmodem_start(m, name, tag, size);
	return MSIM_LATER;
}
