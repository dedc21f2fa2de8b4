/* The SQL migrations, compiled into the store by server/store/CMakeLists.txt. Each is
 * NUL-terminated text. */
#ifndef FUOTA_SERVER_EMBEDDED_H
#define FUOTA_SERVER_EMBEDDED_H

struct embedded_migration {
	int version;      /* the NNN of sql/NNN_name.sql; 0 ends the table */
	const char *name; /* file name, for logs and the version table */
	const char *sql;  /* the whole file */
};

/* Sorted by version, ended by an all-zero entry. */
extern const struct embedded_migration embedded_migrations[];

#endif
