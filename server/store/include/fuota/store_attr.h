/* What the store's headers share. */
#ifndef FUOTA_STORE_ATTR_H
#define FUOTA_STORE_ATTR_H

/* On every store function that returns a status: a caller that drops the code fails the build
 * (-Werror). GCC warns even through a (void) cast: handle the code, or log it. */
#define STORE_MUST_CHECK __attribute__((warn_unused_result))

#endif
