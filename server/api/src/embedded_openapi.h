/* The OpenAPI document (server/openapi.json), compiled into the API by
 * server/api/CMakeLists.txt. NUL-terminated text. */
#ifndef FUOTA_SERVER_EMBEDDED_OPENAPI_H
#define FUOTA_SERVER_EMBEDDED_OPENAPI_H

extern const char *const embedded_openapi;

#endif
