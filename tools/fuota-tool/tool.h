/* Shared helpers of fuota-tool's subcommands. Every subcommand is `int cmd_X(int argc, char
 * **argv)` with argv[0] = its own name, and returns the process exit code (0 success, 1 failure of
 * the operation, 2 usage error). Errors go to stderr as "fuota-tool: <what>: <why>". */
#ifndef FUOTA_TOOL_H
#define FUOTA_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fuota/frag_lean.h"

#define TOOL_EXIT_OK    0
#define TOOL_EXIT_FAIL  1
#define TOOL_EXIT_USAGE 2

/* Subcommands (one file each). */
int cmd_frag(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_mc(int argc, char **argv);
int cmd_lw(int argc, char **argv);
int cmd_gps(int argc, char **argv);
int cmd_airtime(int argc, char **argv);

/* `fuota-tool frag` subcommands (cmd_frag.c dispatches). */
int cmd_frag_encode(int argc, char **argv);
int cmd_frag_decode(int argc, char **argv);
int cmd_frag_bench(int argc, char **argv);
int cmd_frag_lean_bench(int argc, char **argv);

/* The work of `frag encode`, shared with `frag bench` (cmd_frag_encode.c). */
struct tool_encode_opts {
	uint32_t frag_size;     /* 1..255 */
	uint64_t redundancy;    /* parity rows; ignored when use_percent */
	int use_percent;        /* 1: redundancy = ceil(percent_micro / 10^8 * nb_frag) */
	uint64_t percent_micro; /* redundancy percent in millionths of a percent */
	int version;            /* TS004 1 or 2 */
	int absolute_seed;      /* v2 seed base: 0 relative N - M, 1 absolute N */
	unsigned threads;       /* >= 1 */
	int reference;          /* 1: the straightforward frag_ref_encode (benchmark baseline) */
	int quiet;              /* 1: no warning on stderr */
	int isa;                /* enum frag_enc_isa of the kernels; 0 (AUTO): the CPU's best */
};
/* Reads input, writes the frames file output. Returns 0, 1 (failure, message printed) or 2 (bad
 * options, message printed). */
int tool_frag_encode_file(const char *input, const char *output, const struct tool_encode_opts *o);
/* Fills frames[nb_frag * frag_size ..] with the redundancy rows of the uncoded fragments at
 * frames[0 .. nb_frag * frag_size). Returns 0 or -1 (message printed). */
int tool_frag_encode_frames(const struct tool_encode_opts *o, uint32_t nb_frag, uint32_t redundancy,
                            uint8_t *frames);

/* `fuota-tool decode` per-port decoders (cmd_decode.c dispatches). Each decodes every command of
 * one FRMPayload and writes one JSON object per command to json, separated by commas (the caller
 * wraps them in an array). up: 1 = uplink (device to server), 0 = downlink; version: 1 or 2.
 * Returns 0, or -1 with err set to a message naming the command and the missing or bad field,
 * e.g. "FragSessionSetupReq: missing Descriptor (10 bytes needed, 6 left)". */
typedef int (*tool_port_decoder)(const uint8_t *p, size_t len, int up, int version, FILE *json,
                                 char *err, size_t errlen);
int tool_decode_port200(const uint8_t *p, size_t len, int up, int version, FILE *json, char *err,
                        size_t errlen);
int tool_decode_port201(const uint8_t *p, size_t len, int up, int version, FILE *json, char *err,
                        size_t errlen);
int tool_decode_port202(const uint8_t *p, size_t len, int up, int version, FILE *json, char *err,
                        size_t errlen);
int tool_decode_port203(const uint8_t *p, size_t len, int up, int version, FILE *json, char *err,
                        size_t errlen);

/* The walk of the ports whose codecs read `xxx_decode(p, len, &pos, ...)` (200, 202, 203): step
 * decodes the command at p[*pos] (advancing *pos) and prints it to json, or fails with the
 * codec's code and *e filled. tool_decode_walk puts commas between the objects and turns a
 * failure into err: MALFORMED as fuota_parse_err_format words it, UNSUPPORTED as "unknown
 * <uplink|downlink> <package> CID 0x.. at byte N". Returns 0 or -1. */
struct fuota_parse_err;
typedef int (*tool_decode_step)(const uint8_t *p, size_t len, size_t *pos, int up, int version,
                                FILE *json, struct fuota_parse_err *e);
int tool_decode_walk(const uint8_t *p, size_t len, int up, int version, const char *package,
                     tool_decode_step step, FILE *json, char *err, size_t errlen);

/* Prints "fuota-tool: <formatted>\n" to stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Parses hex (spaces and an optional 0x prefix allowed) into out[0..cap); *len = bytes written.
 * Returns 0, or -1 for odd length, a non-hex character or more than cap bytes. */
int tool_parse_hex(const char *s, uint8_t *out, size_t cap, size_t *len);
/* Parses exactly n bytes of hex. Returns 0 or -1. */
int tool_parse_hex_exact(const char *s, uint8_t *out, size_t n);
/* Writes lowercase hex of in[0..len) plus NUL into out (2 * len + 1 bytes). */
void tool_hex(const uint8_t *in, size_t len, char *out);
/* Parses an unsigned decimal (or 0x hex) integer no larger than max. Returns 0 or -1. */
int tool_parse_u64(const char *s, uint64_t max, uint64_t *v);

/* Reads a whole file into a malloc'd buffer (*data, caller frees). Returns 0 or -1 (message
 * printed). */
int tool_read_file(const char *path, uint8_t **data, size_t *len);
/* Writes a whole file (truncating). Returns 0 or -1 (message printed). */
int tool_write_file(const char *path, const uint8_t *data, size_t len);

/* The frames file written by `frag encode` and read by `frag decode` (README "Frames file"):
 * "FRG1", then u32 LE nb_frag, frag_size, redundancy, padding, then (nb_frag + redundancy) frames
 * of frag_size bytes in FragIndex order N = 1, 2, ... */
#define TOOL_FRAMES_MAGIC      "FRG1"
#define TOOL_FRAMES_HEADER_LEN 20u

struct tool_frames {
	uint32_t nb_frag;
	uint32_t frag_size;
	uint32_t redundancy;
	uint32_t padding;
	uint8_t *frames; /* (nb_frag + redundancy) * frag_size bytes, owned (free()) */
};

/* Reads and validates a frames file. Returns 0 or -1 (message printed). */
int tool_frames_read(const char *path, struct tool_frames *f);
/* Writes header + frames[0 .. (nb_frag + redundancy) * frag_size). Returns 0 or -1. */
int tool_frames_write(const char *path, const struct tool_frames *f);
/* A file read through a mapping, as it was when opened: its name, descriptor and fstat. */
struct tool_input {
	const char *name;
	int fd;
	struct stat st;
};
/* 1 if in's file changed since it was opened (size, mtime or ctime; or fstat fails), else 0.
 * A rewrite in place shows in a MAP_PRIVATE mapping's pages the process never wrote. */
int tool_input_changed(const struct tool_input *in);
/* What the tool says of an input that changed under it, after its name. */
#define TOOL_INPUT_CHANGED "changed while it was read (rewritten or truncated by another process?)"
/* The same file from two parts: data (nb_frag * frag_size bytes, the padded image) and rows
 * (redundancy * frag_size bytes). src: the file data is mapped from, or NULL; named in the
 * error if its pages go while they are written (EFAULT) or if it changed by the end of the
 * write. A regular file that fails to be written whole, or was written from a changed src, is
 * left empty, not half old and half new. Returns 0 or -1 (message printed). */
int tool_frames_write_parts(const char *path, const struct tool_frames *f, const uint8_t *data,
                            const uint8_t *rows, const struct tool_input *src);

/* lean_baseline.c: LoRaMac-node's FragDecoder algorithm written plainly (the lean-bench
 * baseline). The image is behind io's callbacks; version 1 or 2 (relative seeds). */
struct lean_base {
	struct frag_code code;
	struct frag_lean_io io;
	uint32_t m, s, max_lost, lost, last_rx, rows;
	int done; /* 1 done, -1 too many lost */
	uint16_t *missing;
	uint8_t *m2b, *pivot, *vec, *vec2, *tmp, *data;
	uint64_t *row;
};
/* Returns 0, or -1 out of memory (free with lean_base_free either way). */
int lean_base_init(struct lean_base *b, uint32_t m, uint32_t s, uint32_t max_lost,
                   const struct frag_lean_io *io, int version);
void lean_base_free(struct lean_base *b);
/* Frame N: returns 0 (more needed), 1 (done) or -1 (too many lost). */
int lean_base_process(struct lean_base *b, uint32_t n, const uint8_t *payload);

#endif
