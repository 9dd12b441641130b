/*
 * st_auth.c — pre-shared-key authentication of a store session and the
 * hashes every transferred byte is checked against (OpenSSL libcrypto:
 * HMAC-SHA256, SHA-256, constant-time compare) and the per-frame MACs of
 * a session (st_frame_tag).
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "store.h"
#include "util/util.h"

/* The label binds a mac to this protocol and to the side that made it, so
 * the store's proof can never be replayed as the client's. */
static const char LABEL[] = "wedge-store-1 ";

const char *st_key_load(const char *path, st_key *key)
{
    size_t len = 0;
    uint8_t *b = ut_read_file(path, ST_KEY_MAX + 64, &len);
    if (!b)
        return errno == EFBIG ? "key file too large" : "cannot read key file";
    while (len && (b[len - 1] == '\n' || b[len - 1] == '\r'))
        len--;
    const char *e = NULL;
    if (len < ST_KEY_MIN)
        e = "key too short (at least 16 bytes)";
    else if (len > ST_KEY_MAX)
        e = "key too long (at most 1024 bytes)";
    else {
        memcpy(key->bytes, b, len);
        key->len = len;
    }
    OPENSSL_cleanse(b, len);
    free(b);
    return e;
}

const char *st_nonce(uint8_t *out, size_t n)
{
    while (n) {
        ssize_t k = getrandom(out, n, 0);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return "no randomness for a nonce";
        }
        out += k;
        n -= (size_t)k;
    }
    return NULL;
}

void st_auth_mac(const st_key *key, char side, const uint8_t first[ST_NONCE_LEN], const uint8_t second[ST_NONCE_LEN],
                 uint8_t mac[ST_MAC_LEN])
{
    uint8_t msg[sizeof LABEL - 1 + 1 + 2 * ST_NONCE_LEN];
    memcpy(msg, LABEL, sizeof LABEL - 1);
    msg[sizeof LABEL - 1] = (uint8_t)side;
    memcpy(msg + sizeof LABEL, first, ST_NONCE_LEN);
    memcpy(msg + sizeof LABEL + ST_NONCE_LEN, second, ST_NONCE_LEN);
    unsigned int n = ST_MAC_LEN;
    if (!HMAC(EVP_sha256(), key->bytes, (int)key->len, msg, sizeof msg, mac, &n))
        memset(mac, 0, ST_MAC_LEN); /* never matches a real mac: the session fails closed */
}

int st_auth_check(const st_key *key, char side, const uint8_t first[ST_NONCE_LEN],
                  const uint8_t second[ST_NONCE_LEN], const uint8_t mac[ST_MAC_LEN])
{
    uint8_t want[ST_MAC_LEN];
    st_auth_mac(key, side, first, second, want);
    static const uint8_t none[ST_MAC_LEN];
    return memcmp(want, none, ST_MAC_LEN) != 0 && CRYPTO_memcmp(want, mac, ST_MAC_LEN) == 0;
}

void st_session_key(const st_key *key, const uint8_t nc[ST_NONCE_LEN], const uint8_t ns[ST_NONCE_LEN],
                    uint8_t skey[ST_MAC_LEN])
{
    st_auth_mac(key, 'K', nc, ns, skey);
}

static void tag_span(void *arg, const uint8_t *p, size_t n) { st_sha_update(arg, p, n); }

/* HMAC (RFC 2104) over SHA-256 pieces, since the covered bytes are not
 * contiguous (st_frame_spans) or arrive in pieces (st_tag_begin); the key
 * is 32 bytes, below the block size. */
st_sha_ctx *st_tag_begin(const uint8_t skey[ST_MAC_LEN], char dir, uint64_t seq, const uint8_t head[ST_HEAD_SIZE])
{
    uint8_t pad[64], pre[9];
    st_sha_ctx *c = st_sha_begin();
    if (!c)
        return NULL;
    memset(pad, 0x36, sizeof pad);
    for (int i = 0; i < ST_MAC_LEN; i++)
        pad[i] ^= skey[i];
    st_sha_update(c, pad, sizeof pad);
    pre[0] = (uint8_t)dir;
    for (int i = 0; i < 8; i++)
        pre[1 + i] = (uint8_t)(seq >> (8 * i));
    st_sha_update(c, pre, sizeof pre);
    st_sha_update(c, head, ST_HEAD_SIZE);
    return c;
}

void st_tag_end(st_sha_ctx *c, const uint8_t skey[ST_MAC_LEN], uint8_t tag[ST_MAC_LEN])
{
    uint8_t pad[64], inner[ST_SHA_LEN];
    st_sha_ctx *o = c ? st_sha_begin() : NULL;
    if (!o) {
        if (c)
            st_sha_end(c, inner);
        memset(tag, 0, ST_MAC_LEN); /* a peer's real tag never matches: the session fails closed */
        return;
    }
    st_sha_end(c, inner);
    memset(pad, 0x5c, sizeof pad);
    for (int i = 0; i < ST_MAC_LEN; i++)
        pad[i] ^= skey[i];
    st_sha_update(o, pad, sizeof pad);
    st_sha_update(o, inner, sizeof inner);
    st_sha_end(o, tag);
}

void st_frame_tag(const uint8_t skey[ST_MAC_LEN], char dir, uint64_t seq, const uint8_t head[ST_HEAD_SIZE],
                  const uint8_t *payload, size_t len, uint8_t tag[ST_MAC_LEN])
{
    st_sha_ctx *c = st_tag_begin(skey, dir, seq, head);
    if (c)
        st_frame_spans((st_kind)head[5], payload, len, tag_span, c);
    st_tag_end(c, skey, tag);
}

int st_tag_equal(const uint8_t a[ST_MAC_LEN], const uint8_t b[ST_MAC_LEN])
{
    static const uint8_t none[ST_MAC_LEN];
    return CRYPTO_memcmp(a, none, ST_MAC_LEN) != 0 && CRYPTO_memcmp(a, b, ST_MAC_LEN) == 0;
}

void st_sha256(const void *p, size_t n, uint8_t out[ST_SHA_LEN]) { SHA256(p, n, out); }

st_sha_ctx *st_sha_begin(void)
{
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c && EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c);
        c = NULL;
    }
    return (st_sha_ctx *)c;
}

void st_sha_update(st_sha_ctx *c, const void *p, size_t n) { EVP_DigestUpdate((EVP_MD_CTX *)c, p, n); }

void st_sha_end(st_sha_ctx *c, uint8_t out[ST_SHA_LEN])
{
    unsigned n = ST_SHA_LEN;
    if (EVP_DigestFinal_ex((EVP_MD_CTX *)c, out, &n) != 1)
        memset(out, 0, ST_SHA_LEN);     /* matches no blob: the fetch then fails its check */
    EVP_MD_CTX_free((EVP_MD_CTX *)c);
}

void st_sha_hex(const uint8_t sha[ST_SHA_LEN], char out[2 * ST_SHA_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < ST_SHA_LEN; i++) {
        out[2 * i] = hex[sha[i] >> 4];
        out[2 * i + 1] = hex[sha[i] & 15];
    }
    out[2 * ST_SHA_LEN] = 0;
}
