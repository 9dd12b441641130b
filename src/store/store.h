/*
 * store.h — the wedge store protocol (docs/store-protocol.md): the frames a
 * running node and a store node exchange, as pure functions (no I/O), and
 * the pre-shared-key authentication that opens a session.
 *
 * A frame is a 12-byte head (magic "WSTP", version, kind, reserved, payload
 * length) and a payload of at most ST_MAX_PAYLOAD bytes.  st_decode checks
 * every length against the bytes there are before it is used, so any bytes
 * from the network decode to a message or to one error string.
 *
 * Ownership: st_decode fills an st_msg whose pointers (names, text, raw
 * item arrays, range data) point into the caller's buffer: it lives as long
 * as that buffer.  Encoders write into a caller's buffer of the size
 * st_encoded_size reports.  Nothing here allocates.
 * Errors: one idiom: a static string naming what is wrong (never freed,
 * compared by pointer if one likes), NULL on success; encoders return 0 for
 * a message that could not be sent (too big, bad name).
 * Threads: every function is reentrant.
 */
#ifndef WEDGE_STORE_H
#define WEDGE_STORE_H

#include <stddef.h>
#include <stdint.h>

#define ST_PROTO_VERSION 3             /* 2: frames after the handshake carry a MAC; 3: a RANGES item
                                         * carries one SHA-256 per ST_CHUNK bytes */
#define ST_HEAD_SIZE 12
#define ST_MAX_PAYLOAD (64u << 20)      /* one frame: bounds what a peer makes us buffer */
#define ST_NAME_MAX 128
#define ST_TEXT_MAX 512                 /* an error frame's message */
#define ST_MAX_RANGES 65536             /* per ranges request */
#define ST_MAX_WSET (1u << 20)          /* pages in a working set (4 GiB of 4 KiB pages) */
#define ST_SHA_LEN 32
#define ST_NONCE_LEN 32
#define ST_MAC_LEN 32
#define ST_KEY_MIN 16                   /* bytes of pre-shared key, at least */
#define ST_KEY_MAX 1024
#define ST_BLOB_HEAD 44                 /* ST_BLOB payload before its bytes: hash, offset, length */
#define ST_BLOB_MAX (ST_MAX_PAYLOAD - ST_BLOB_HEAD)
#define ST_CHUNK 4096u                  /* a RANGES item carries one SHA-256 per ST_CHUNK bytes of it */

/* SHA-256s a RANGES item of len bytes carries: one per ST_CHUNK from its
 * start, the last one over what is left. */
static inline uint32_t st_chunks(uint32_t len) { return (uint32_t)(((uint64_t)len + ST_CHUNK - 1) / ST_CHUNK); }
/* Bytes of a RANGES item before its data: offset, length, zero, hashes. */
static inline uint64_t st_item_head(uint32_t len) { return 16 + (uint64_t)ST_SHA_LEN * st_chunks(len); }

typedef enum st_kind {
    ST_HELLO = 1,       /* client: version, client nonce */
    ST_CHALLENGE = 2,   /* store: server nonce, proof it knows the key */
    ST_AUTH = 3,        /* client: proof it knows the key */
    ST_OK = 4,          /* either: the request succeeded, nothing to return */
    ST_ERROR = 5,       /* store: code + one line of text */
    ST_MANIFEST_REQ = 6,/* client: name */
    ST_MANIFEST = 7,    /* store: what NAME is (hashes, sizes, memory extents) */
    ST_RANGES_REQ = 8,  /* client: byte ranges of a blob named by its SHA-256 */
    ST_RANGES = 9,      /* store: those ranges, with a SHA-256 per 4 KiB chunk */
    ST_WSET_PUT = 10,   /* client: record the working set of (name, snapshot) */
    ST_WSET_REQ = 11,   /* client: ask for it */
    ST_WSET = 12,       /* store: the pages, in first-touch order */
    ST_PUSH = 13,       /* client: a piece of a module or snapshot to publish */
    ST_BLOB_REQ = 14,   /* client: one byte range of a blob it checks whole (eager fetch) */
    ST_BLOB = 15,       /* store: those bytes, with no hash of their own */
} st_kind;

typedef enum st_code {
    ST_E_PROTO = 1,     /* malformed frame or unexpected kind */
    ST_E_VERSION = 2,   /* protocol version not spoken */
    ST_E_AUTH = 3,      /* wrong key */
    ST_E_NOTFOUND = 4,  /* no such name / blob / working set */
    ST_E_RANGE = 5,     /* a range outside its blob, or too much at once */
    ST_E_HASH = 6,      /* pushed bytes do not match their hash */
    ST_E_INTERNAL = 7,  /* the store's own I/O failed */
} st_code;

typedef enum st_blob_kind { ST_BLOB_MODULE = 0, ST_BLOB_SNAP = 1 } st_blob_kind;

typedef struct st_blob_ref {
    uint8_t sha[ST_SHA_LEN];
    uint64_t size;
} st_blob_ref;

/* A run of the snapshot's linear memory stored in the .snap file. */
typedef struct st_extent {
    uint64_t mem_off, file_off, len;
} st_extent;

typedef struct st_range {
    uint64_t off;
    uint32_t len;
    const uint8_t *data;        /* ST_RANGES only: encode reads, decode points into the frame */
} st_range;

typedef struct st_msg {
    st_kind kind;
    union {
        struct { uint32_t version; uint8_t nonce[ST_NONCE_LEN]; } hello;
        struct { uint8_t nonce[ST_NONCE_LEN]; uint8_t mac[ST_MAC_LEN]; } challenge;
        struct { uint8_t mac[ST_MAC_LEN]; } auth;
        struct { uint16_t code; uint32_t text_len; const char *text; } error;
        struct { uint32_t name_len; const char *name; } manifest_req;
        struct {
            uint32_t name_len;
            const char *name;
            st_blob_ref module;
            uint8_t has_snap;
            st_blob_ref snap;           /* zero when !has_snap */
            uint32_t mem_pages;         /* 64 KiB pages of the snapshot's memory */
            uint32_t n_extents;
            const st_extent *extents;   /* encode only; decode: st_manifest_extent */
            const uint8_t *raw;         /* decode only */
        } manifest;
        struct {
            uint8_t blob[ST_SHA_LEN];
            uint32_t count;
            const st_range *ranges;     /* encode only; decode: st_range_at */
            const uint8_t *raw;         /* decode only */
        } ranges;                       /* ST_RANGES_REQ and ST_RANGES */
        struct {
            uint32_t name_len;
            const char *name;
            uint8_t snap[ST_SHA_LEN];
            uint32_t count;             /* 0 for ST_WSET_REQ */
            const uint32_t *pages;      /* encode only; decode: st_wset_page */
            const uint8_t *raw;         /* decode only */
        } wset;                         /* ST_WSET_PUT, ST_WSET_REQ, ST_WSET (no name) */
        struct {
            uint32_t name_len;
            const char *name;
            uint8_t which;              /* st_blob_kind */
            uint8_t sha[ST_SHA_LEN];    /* of the whole blob */
            uint64_t total, off;
            uint32_t len;
            const uint8_t *data;
        } push;
        struct {
            uint8_t sha[ST_SHA_LEN];    /* of the whole blob */
            uint64_t off;
            uint32_t len;               /* 1..ST_BLOB_MAX */
            const uint8_t *data;        /* ST_BLOB only */
        } blob;                         /* ST_BLOB_REQ and ST_BLOB */
    } u;
} st_msg;

/* Frame head: kind and payload length, or an error (bad magic, version,
 * reserved bits, unknown kind, payload over ST_MAX_PAYLOAD). */
__attribute__((warn_unused_result)) const char *st_head_decode(const uint8_t head[ST_HEAD_SIZE], st_kind *kind,
                                                               uint32_t *len);

/* A whole payload of `kind` into *m (pointers into `p`). */
__attribute__((warn_unused_result)) const char *st_decode(st_kind kind, const uint8_t *p, size_t len, st_msg *m);

/* Bytes the whole frame of m takes (head included); 0 when m cannot be
 * encoded (payload over ST_MAX_PAYLOAD, bad name, too many items). */
size_t st_encoded_size(const st_msg *m);

/* Writes the frame of m into buf (cap bytes); returns its length, 0 as
 * st_encoded_size.  ST_RANGES computes each range's chunk hashes. */
__attribute__((warn_unused_result)) size_t st_encode(const st_msg *m, uint8_t *buf, size_t cap);

/* An ST_BLOB frame but its bytes (ST_HEAD_SIZE + ST_BLOB_HEAD bytes, or 0
 * as st_encode): a sender writes them, then the bytes from where they lie. */
__attribute__((warn_unused_result)) size_t st_encode_blob_head(const st_msg *m, uint8_t *buf, size_t cap);

/* An ST_RANGES frame's head and its payload's first 36 bytes (blob hash,
 * count), the whole payload being plen bytes (ST_HEAD_SIZE + 36 bytes, or
 * 0 when plen or count is out of bounds): a sender writes them, then each
 * item's head and bytes from where they lie. */
__attribute__((warn_unused_result)) size_t st_encode_ranges_head(const uint8_t blob[ST_SHA_LEN], uint32_t count,
                                                                 uint64_t plen, uint8_t *buf, size_t cap);

/* Items of decoded messages; i below the count st_decode checked. */
st_extent st_manifest_extent(const st_msg *m, uint32_t i);
st_range st_range_at(const st_msg *m, uint32_t i);                       /* ST_RANGES_REQ */
uint32_t st_wset_page(const st_msg *m, uint32_t i);
/* ST_RANGES: item i, and its chunk hashes as the store sent them
 * (st_chunks(len) of them). */
st_range st_ranges_item(const st_msg *m, uint32_t i, const uint8_t **sha);
/* The item after g (an item of a decoded ST_RANGES, not its last): walks
 * the items in order without starting from the first each time. */
st_range st_ranges_after(const st_range *g);
/* NULL when every range of a decoded ST_RANGES matches its chunk hashes. */
const char *st_ranges_verify(const st_msg *m);
/* The chunk hashes of len bytes (st_chunks(len) of them) into out. */
void st_chunk_hashes(const uint8_t *data, uint32_t len, uint8_t *out);
/* NULL when data (len bytes) matches the chunk hashes sha, else why. */
const char *st_chunks_verify(const uint8_t *sha, const uint8_t *data, uint32_t len);

/* Calls fn on the parts of a payload a frame MAC covers, in order: all of
 * it, but for ST_BLOB only its first ST_BLOB_HEAD bytes and for ST_RANGES
 * not the ranges' bytes (each is covered by its chunk hashes, MACed;
 * a BLOB's bytes by the whole-blob hash).  Safe on any bytes. */
void st_frame_spans(st_kind kind, const uint8_t *p, size_t len, void (*fn)(void *arg, const uint8_t *p, size_t n),
                    void *arg);

/* A store name: 1..ST_NAME_MAX of [A-Za-z0-9._-], not starting with '.'. */
int st_name_ok(const char *name, size_t len);

/* ---- Authentication (st_auth.c) -------------------------------------- */
/* Session opening: the client sends HELLO with a random nonce Nc; the store
 * answers CHALLENGE with its nonce Ns and HMAC(K, "wedge-store-1 S" Nc Ns),
 * the client checks it and sends AUTH with HMAC(K, "wedge-store-1 C" Ns Nc).
 * Both sides thus prove they hold K without sending it, and a replayed
 * answer fails against a fresh nonce. */
typedef struct st_key {
    size_t len;
    uint8_t bytes[ST_KEY_MAX];
} st_key;

/* Reads a key file (trailing newlines dropped); ST_KEY_MIN..ST_KEY_MAX bytes. */
__attribute__((warn_unused_result)) const char *st_key_load(const char *path, st_key *key);
/* Fills n random bytes (getrandom). */
__attribute__((warn_unused_result)) const char *st_nonce(uint8_t *out, size_t n);
void st_auth_mac(const st_key *key, char side, const uint8_t first[ST_NONCE_LEN], const uint8_t second[ST_NONCE_LEN],
                 uint8_t mac[ST_MAC_LEN]);
/* Constant-time check of a peer's mac; 1 when it matches. */
int st_auth_check(const st_key *key, char side, const uint8_t first[ST_NONCE_LEN],
                  const uint8_t second[ST_NONCE_LEN], const uint8_t mac[ST_MAC_LEN]);
/* After the handshake every frame carries a MAC right after its head:
 * HMAC-SHA256 under the session key HMAC(K, "wedge-store-1 K" Nc Ns) of
 * the direction ('C' client to store, 'S' store to client), a per-direction
 * sequence number (u64, from 0), the head and st_frame_spans of the
 * payload.  The sequence number is not sent: a replayed, dropped or
 * reordered frame fails its MAC. */
void st_session_key(const st_key *key, const uint8_t nc[ST_NONCE_LEN], const uint8_t ns[ST_NONCE_LEN],
                    uint8_t skey[ST_MAC_LEN]);
void st_frame_tag(const uint8_t skey[ST_MAC_LEN], char dir, uint64_t seq, const uint8_t head[ST_HEAD_SIZE],
                  const uint8_t *payload, size_t len, uint8_t tag[ST_MAC_LEN]);
/* st_frame_tag in pieces, for a frame sent or received piecewise:
 * begin (NULL when out of memory: st_tag_end then writes a tag that never
 * matches), st_sha_update with the covered spans in order, end. */
typedef struct st_sha_ctx st_sha_ctx;
st_sha_ctx *st_tag_begin(const uint8_t skey[ST_MAC_LEN], char dir, uint64_t seq, const uint8_t head[ST_HEAD_SIZE]);
void st_tag_end(st_sha_ctx *c, const uint8_t skey[ST_MAC_LEN], uint8_t tag[ST_MAC_LEN]);
/* Constant-time compare of two MACs; 1 when equal. */
int st_tag_equal(const uint8_t a[ST_MAC_LEN], const uint8_t b[ST_MAC_LEN]);
/* SHA-256 of n bytes (libcrypto). */
void st_sha256(const void *p, size_t n, uint8_t out[ST_SHA_LEN]);
/* SHA-256 over pieces: begin (NULL when out of memory), update in order,
 * end (writes the hash and frees the context). */
st_sha_ctx *st_sha_begin(void);
void st_sha_update(st_sha_ctx *c, const void *p, size_t n);
void st_sha_end(st_sha_ctx *c, uint8_t out[ST_SHA_LEN]);
/* Lower-case hex of a hash into out (65 bytes). */
void st_sha_hex(const uint8_t sha[ST_SHA_LEN], char out[2 * ST_SHA_LEN + 1]);

#endif
