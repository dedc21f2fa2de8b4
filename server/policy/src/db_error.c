#include "fuota/db_error.h"

#include <string.h>

#include "fuota/err.h"

int db_error_rc(const char *sqlstate, bool connection_ok)
{
	if (!connection_ok)
		return FUOTA_ERR_UNAVAILABLE;
	if (!sqlstate || strlen(sqlstate) != 5)
		return FUOTA_ERR_IO;
	if (strncmp(sqlstate, "08", 2) == 0 || strcmp(sqlstate, "57P01") == 0 ||
	    strcmp(sqlstate, "57P02") == 0 || strcmp(sqlstate, "57P03") == 0)
		return FUOTA_ERR_UNAVAILABLE;
	return FUOTA_ERR_IO;
}
