/* Every harness defines this entry point (libFuzzer's contract). */
#ifndef FUOTA_FUZZ_H
#define FUOTA_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
