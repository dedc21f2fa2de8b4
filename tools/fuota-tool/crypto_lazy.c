/* libcrypto, loaded on first use. fuota-tool's commands that need AES or CMAC (lw, mc, the MIC of
 * frag and clk commands...) call these definitions, which load libcrypto.so.3 with dlopen the first
 * time and forward to it; the link (--as-needed, tools/CMakeLists.txt) then leaves libcrypto out
 * of the executable's needed libraries, so `frag encode` and the other commands that need no
 * cryptography do not pay for mapping and relocating it at every start (1.4 ms of a 2.7 ms start,
 * measured with perf stat: 183 page faults against 48 for a plain C program). Only the functions
 * fuota_lw calls are here; a new one would simply bring libcrypto back into the link. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#include <openssl/evp.h>
#include <openssl/params.h>

/* The address of libcrypto's `name`; a tool that cannot load it cannot do what it was asked. */
static void *crypto_sym(const char *name)
{
	static void *lib;
	void *f;

	if (!lib)
		lib = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL);
	f = lib ? dlsym(lib, name) : NULL;
	if (!f) {
		fprintf(stderr, "fuota-tool: cannot load %s from libcrypto.so.3: %s\n", name,
		        dlerror());
		abort();
	}
	return f;
}

/* Defines `ret name params` forwarding `args` to libcrypto's function of the same name. */
#define FORWARD(ret, name, params, args)                     \
	ret name params                                      \
	{                                                    \
		static ret(*fn) params;                      \
		if (!fn)                                     \
			*(void **)(&fn) = crypto_sym(#name); \
		return fn args;                              \
	}

FORWARD(EVP_CIPHER_CTX *, EVP_CIPHER_CTX_new, (void), ())
FORWARD(void, EVP_CIPHER_CTX_free, (EVP_CIPHER_CTX * c), (c))
FORWARD(int, EVP_CIPHER_CTX_set_padding, (EVP_CIPHER_CTX * c, int pad), (c, pad))
FORWARD(int, EVP_CipherInit_ex,
        (EVP_CIPHER_CTX * c, const EVP_CIPHER *cipher, ENGINE *impl, const unsigned char *key,
         const unsigned char *iv, int enc),
        (c, cipher, impl, key, iv, enc))
FORWARD(int, EVP_CipherUpdate,
        (EVP_CIPHER_CTX * c, unsigned char *out, int *outl, const unsigned char *in, int inl),
        (c, out, outl, in, inl))
FORWARD(const EVP_CIPHER *, EVP_aes_128_ecb, (void), ())
FORWARD(EVP_MAC *, EVP_MAC_fetch, (OSSL_LIB_CTX * libctx, const char *alg, const char *props),
        (libctx, alg, props))
FORWARD(void, EVP_MAC_free, (EVP_MAC * mac), (mac))
FORWARD(EVP_MAC_CTX *, EVP_MAC_CTX_new, (EVP_MAC * mac), (mac))
FORWARD(void, EVP_MAC_CTX_free, (EVP_MAC_CTX * c), (c))
FORWARD(int, EVP_MAC_init,
        (EVP_MAC_CTX * c, const unsigned char *key, size_t keylen, const OSSL_PARAM params[]),
        (c, key, keylen, params))
FORWARD(int, EVP_MAC_update, (EVP_MAC_CTX * c, const unsigned char *data, size_t len),
        (c, data, len))
FORWARD(int, EVP_MAC_final, (EVP_MAC_CTX * c, unsigned char *out, size_t *outl, size_t outsize),
        (c, out, outl, outsize))
FORWARD(OSSL_PARAM, OSSL_PARAM_construct_utf8_string, (const char *key, char *buf, size_t bsize),
        (key, buf, bsize))
FORWARD(OSSL_PARAM, OSSL_PARAM_construct_end, (void), ())
