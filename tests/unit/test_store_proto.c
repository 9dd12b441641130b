/*
 * test_store_proto.c — src/store codec and authentication: every message
 * kind round-trips, every length a peer sends is checked (truncation at
 * every byte, trailing bytes, counts that lie), corrupted range bytes are
 * caught by their SHA-256, and the HMAC handshake accepts the right key
 * only.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

static uint8_t buf[1 << 16];

/* Encodes m, checks the head, decodes the payload into *out. */
static size_t roundtrip(const st_msg *m, st_msg *out)
{
    size_t n = st_encode(m, buf, sizeof buf);
    cr_assert_gt(n, 0);
    cr_assert_eq(n, st_encoded_size(m));
    st_kind k;
    uint32_t len;
    cr_assert_null(st_head_decode(buf, &k, &len));
    cr_assert_eq(k, m->kind);
    cr_assert_eq(len, n - ST_HEAD_SIZE);
    const char *e = st_decode(k, buf + ST_HEAD_SIZE, len, out);
    cr_assert_null(e, "%s", e);
    return n;
}

/* Every strict prefix of the payload must be refused, and so must one
 * trailing byte. */
static void refuses_prefixes(st_kind k, size_t n)
{
    st_msg m;
    size_t len = n - ST_HEAD_SIZE;
    for (size_t cut = 0; cut < len; cut++)
        cr_assert_not_null(st_decode(k, buf + ST_HEAD_SIZE, cut, &m), "prefix %zu of %zu accepted", cut, len);
    cr_assert_not_null(st_decode(k, buf + ST_HEAD_SIZE, len + 1, &m), "trailing byte accepted");
}

Test(store_proto, hello_challenge_auth_roundtrip)
{
    st_msg m = {.kind = ST_HELLO}, d;
    m.u.hello.version = ST_PROTO_VERSION;
    for (int i = 0; i < ST_NONCE_LEN; i++)
        m.u.hello.nonce[i] = (uint8_t)(i * 7);
    size_t n = roundtrip(&m, &d);
    cr_assert_eq(d.u.hello.version, ST_PROTO_VERSION);
    cr_assert_arr_eq(d.u.hello.nonce, m.u.hello.nonce, ST_NONCE_LEN);
    refuses_prefixes(ST_HELLO, n);

    st_msg c = {.kind = ST_CHALLENGE};
    memset(c.u.challenge.nonce, 0xab, ST_NONCE_LEN);
    memset(c.u.challenge.mac, 0xcd, ST_MAC_LEN);
    n = roundtrip(&c, &d);
    cr_assert_arr_eq(d.u.challenge.mac, c.u.challenge.mac, ST_MAC_LEN);
    refuses_prefixes(ST_CHALLENGE, n);
}

Test(store_proto, error_text_is_one_printable_line)
{
    st_msg m = {.kind = ST_ERROR}, d;
    m.u.error.code = ST_E_NOTFOUND;
    m.u.error.text = "no such\nname";
    m.u.error.text_len = 12;
    size_t n = roundtrip(&m, &d);
    cr_assert_eq(d.u.error.code, ST_E_NOTFOUND);
    cr_assert_eq(d.u.error.text_len, 12);
    cr_assert(memcmp(d.u.error.text, "no such?name", 12) == 0);
    refuses_prefixes(ST_ERROR, n);
    /* A peer's raw control byte is refused. */
    buf[ST_HEAD_SIZE + 4 + 3] = '\n';
    cr_assert_not_null(st_decode(ST_ERROR, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, &d));
}

Test(store_proto, manifest_roundtrip_and_extent_checks)
{
    st_extent ext[2] = {{0, 64, 4096}, {65536, 4160, 8192}};
    st_msg m = {.kind = ST_MANIFEST}, d;
    m.u.manifest.name = "app";
    m.u.manifest.name_len = 3;
    memset(m.u.manifest.module.sha, 1, 32);
    m.u.manifest.module.size = 1234;
    m.u.manifest.has_snap = 1;
    memset(m.u.manifest.snap.sha, 2, 32);
    m.u.manifest.snap.size = 4160 + 8192;
    m.u.manifest.mem_pages = 2;
    m.u.manifest.n_extents = 2;
    m.u.manifest.extents = ext;
    size_t n = roundtrip(&m, &d);
    cr_assert_eq(d.u.manifest.name_len, 3);
    cr_assert(memcmp(d.u.manifest.name, "app", 3) == 0);
    cr_assert_eq(d.u.manifest.module.size, 1234);
    cr_assert_eq(d.u.manifest.snap.size, 4160 + 8192);
    cr_assert_eq(d.u.manifest.n_extents, 2);
    st_extent x = st_manifest_extent(&d, 1);
    cr_assert_eq(x.mem_off, 65536);
    cr_assert_eq(x.file_off, 4160);
    cr_assert_eq(x.len, 8192);
    refuses_prefixes(ST_MANIFEST, n);

    /* An extent past the end of the snapshot file. */
    m.u.manifest.snap.size = 4160 + 8191;
    cr_assert_gt(st_encode(&m, buf, sizeof buf), 0);
    cr_assert_not_null(st_decode(ST_MANIFEST, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, &d));
    /* Extents out of order. */
    m.u.manifest.snap.size = 1 << 20;
    st_extent bad[2] = {{65536, 0, 4096}, {0, 4096, 4096}};
    m.u.manifest.extents = bad;
    cr_assert_gt(st_encode(&m, buf, sizeof buf), 0);
    cr_assert_not_null(st_decode(ST_MANIFEST, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, &d));
    /* Past the memory. */
    st_extent past[1] = {{65536, 0, 65537}};
    m.u.manifest.extents = past;
    m.u.manifest.n_extents = 1;
    size_t n1 = st_encode(&m, buf, sizeof buf);
    cr_assert_not_null(st_decode(ST_MANIFEST, buf + ST_HEAD_SIZE, n1 - ST_HEAD_SIZE, &d));
    /* A count that lies about the bytes that follow. */
    m.u.manifest.extents = ext;
    n1 = st_encode(&m, buf, sizeof buf);
    buf[n1 - 24 - 4] = 0xff; /* n_extents high byte... */
    buf[n1 - 24 - 1] = 0xff;
    cr_assert_not_null(st_decode(ST_MANIFEST, buf + ST_HEAD_SIZE, n1 - ST_HEAD_SIZE, &d));
}

Test(store_proto, names_are_checked_both_ways)
{
    st_msg m = {.kind = ST_MANIFEST_REQ}, d;
    const char *bad[] = {"", "../etc", ".hidden", "a/b", "sp ace"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m.u.manifest_req.name = bad[i];
        m.u.manifest_req.name_len = (uint32_t)strlen(bad[i]);
        cr_assert_eq(st_encoded_size(&m), 0, "%s", bad[i]);
    }
    m.u.manifest_req.name = "good-name_1.x";
    m.u.manifest_req.name_len = 13;
    size_t n = roundtrip(&m, &d);
    cr_assert_eq(d.u.manifest_req.name_len, 13);
    /* A name with a slash written by a hostile peer. */
    buf[ST_HEAD_SIZE + 2 + 4] = '/';
    cr_assert_not_null(st_decode(ST_MANIFEST_REQ, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, &d));
}

Test(store_proto, ranges_roundtrip_and_corruption_is_caught)
{
    static uint8_t blob[3 * 4096];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i * 31 + 7);
    st_range r[2] = {{0, 4096, blob}, {8192, 100, blob + 8192}};
    st_msg m = {.kind = ST_RANGES}, d;
    st_sha256(blob, sizeof blob, m.u.ranges.blob);
    m.u.ranges.count = 2;
    m.u.ranges.ranges = r;
    size_t n = roundtrip(&m, &d);
    cr_assert_null(st_ranges_verify(&d));
    const uint8_t *sha;
    st_range g = st_ranges_item(&d, 1, &sha);
    cr_assert_eq(g.off, 8192);
    cr_assert_eq(g.len, 100);
    cr_assert(memcmp(g.data, blob + 8192, 100) == 0);
    refuses_prefixes(ST_RANGES, n);

    /* One flipped bit in the second range's data. */
    buf[n - 50] ^= 0x10;
    cr_assert_null(st_decode(ST_RANGES, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, &d));
    cr_assert_not_null(st_ranges_verify(&d));

    /* An item of several 4 KiB chunks: one SHA-256 per chunk, each
     * checked (a flipped bit in the first or the last chunk is caught). */
    st_range big = {1, 10000, blob + 1};
    m.u.ranges.count = 1;
    m.u.ranges.ranges = &big;
    n = roundtrip(&m, &d);
    cr_assert_eq(n, ST_HEAD_SIZE + 36 + 16 + 3 * 32 + 10000, "three chunk hashes");
    g = st_ranges_item(&d, 0, &sha);
    cr_assert_eq(g.len, 10000);
    uint8_t h3[3 * ST_SHA_LEN];
    st_chunk_hashes(blob + 1, 10000, h3);
    cr_assert(memcmp(sha, h3, sizeof h3) == 0);
    st_sha256(blob + 1 + 8192, 10000 - 8192, h3);
    cr_assert(memcmp(sha + 64, h3, ST_SHA_LEN) == 0, "the last chunk hash covers what is left");
    cr_assert_null(st_ranges_verify(&d));
    size_t at[2] = {ST_HEAD_SIZE + 36 + 16 + 96 + 5, n - 1};
    for (int k = 0; k < 2; k++) {
        buf[at[k]] ^= 0x40;
        cr_assert_not_null(st_ranges_verify(&d), "a flipped bit at %zu is caught", at[k]);
        buf[at[k]] ^= 0x40;
    }

    /* The request side. */
    st_msg q = {.kind = ST_RANGES_REQ};
    memcpy(q.u.ranges.blob, m.u.ranges.blob, 32);
    q.u.ranges.count = 2;
    q.u.ranges.ranges = r;
    n = roundtrip(&q, &d);
    cr_assert_eq(st_range_at(&d, 1).off, 8192);
    cr_assert_eq(st_range_at(&d, 0).len, 4096);
    refuses_prefixes(ST_RANGES_REQ, n);
}

Test(store_proto, ranges_request_must_fit_one_frame)
{
    st_range r[5];
    for (int i = 0; i < 5; i++)
        r[i] = (st_range){(uint64_t)i << 24, 16u << 20, NULL};
    st_msg q = {.kind = ST_RANGES_REQ}, d;
    q.u.ranges.count = 5;
    q.u.ranges.ranges = r;
    size_t n = st_encode(&q, buf, sizeof buf);
    cr_assert_gt(n, 0);
    cr_assert_not_null(st_decode(ST_RANGES_REQ, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, &d));
    /* A wrapping range. */
    r[0] = (st_range){UINT64_MAX - 10, 100, NULL};
    q.u.ranges.count = 1;
    n = st_encode(&q, buf, sizeof buf);
    cr_assert_not_null(st_decode(ST_RANGES_REQ, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, &d));
}

Test(store_proto, working_set_and_push_roundtrip)
{
    uint32_t pages[4] = {7, 3, 1000, 0};
    st_msg m = {.kind = ST_WSET_PUT}, d;
    m.u.wset.name = "app";
    m.u.wset.name_len = 3;
    memset(m.u.wset.snap, 9, 32);
    m.u.wset.count = 4;
    m.u.wset.pages = pages;
    size_t n = roundtrip(&m, &d);
    cr_assert_eq(d.u.wset.count, 4);
    cr_assert_eq(st_wset_page(&d, 2), 1000);
    refuses_prefixes(ST_WSET_PUT, n);

    m.kind = ST_WSET;
    n = roundtrip(&m, &d);
    cr_assert_eq(st_wset_page(&d, 0), 7);
    refuses_prefixes(ST_WSET, n);
    m.kind = ST_WSET_REQ;
    n = roundtrip(&m, &d);
    cr_assert_eq(d.u.wset.count, 0);

    static const uint8_t data[10] = "0123456789";
    st_msg p = {.kind = ST_PUSH};
    p.u.push.name = "app";
    p.u.push.name_len = 3;
    p.u.push.which = ST_BLOB_SNAP;
    p.u.push.total = 30;
    p.u.push.off = 20;
    p.u.push.len = 10;
    p.u.push.data = data;
    n = roundtrip(&p, &d);
    cr_assert_eq(d.u.push.which, ST_BLOB_SNAP);
    cr_assert_eq(d.u.push.off, 20);
    cr_assert(memcmp(d.u.push.data, data, 10) == 0);
    refuses_prefixes(ST_PUSH, n);
    /* A piece past the blob's end. */
    p.u.push.total = 25;
    n = st_encode(&p, buf, sizeof buf);
    cr_assert_not_null(st_decode(ST_PUSH, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, &d));
}

Test(store_proto, frame_heads_are_checked)
{
    st_msg m = {.kind = ST_OK};
    cr_assert_eq(st_encode(&m, buf, sizeof buf), ST_HEAD_SIZE);
    st_kind k;
    uint32_t len;
    cr_assert_null(st_head_decode(buf, &k, &len));
    uint8_t h[ST_HEAD_SIZE];
    memcpy(h, buf, sizeof h);
    h[0] = 'X';
    cr_assert_not_null(st_head_decode(h, &k, &len));
    memcpy(h, buf, sizeof h);
    h[4] = 1; /* version 1 (no frame MACs) is refused */
    cr_assert_not_null(st_head_decode(h, &k, &len));
    h[4] = 2; /* version 2 (one hash per range) too, in one line naming the version */
    cr_assert(strstr(st_head_decode(h, &k, &len), "older store protocol version") != NULL);
    memcpy(h, buf, sizeof h);
    h[5] = 0;
    cr_assert_not_null(st_head_decode(h, &k, &len));
    memcpy(h, buf, sizeof h);
    h[11] = 0x10; /* 256 MiB */
    cr_assert_not_null(st_head_decode(h, &k, &len));
    /* Encoding into too small a buffer fails instead of overrunning. */
    cr_assert_eq(st_encode(&m, buf, ST_HEAD_SIZE - 1), 0);
}

Test(store_proto, hmac_handshake_accepts_the_right_key_only)
{
    st_key k1 = {16, "0123456789abcdef"}, k2 = {16, "0123456789abcdeF"};
    uint8_t nc[ST_NONCE_LEN], ns[ST_NONCE_LEN], mac[ST_MAC_LEN];
    cr_assert_null(st_nonce(nc, sizeof nc));
    cr_assert_null(st_nonce(ns, sizeof ns));
    cr_assert(memcmp(nc, ns, sizeof nc) != 0);
    st_auth_mac(&k1, 'C', ns, nc, mac);
    cr_assert(st_auth_check(&k1, 'C', ns, nc, mac));
    cr_assert_not(st_auth_check(&k2, 'C', ns, nc, mac));
    /* The other side's proof, or a proof for other nonces, never passes. */
    cr_assert_not(st_auth_check(&k1, 'S', ns, nc, mac));
    cr_assert_not(st_auth_check(&k1, 'C', nc, ns, mac));
}

Test(store_proto, key_files_are_checked)
{
    char path[] = "/tmp/wedge-store-key-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "short\n", 6), 6);
    st_key k;
    cr_assert_not_null(st_key_load(path, &k));
    cr_assert_eq(ftruncate(fd, 0), 0);
    cr_assert_eq(pwrite(fd, "a-long-enough-secret\n", 21, 0), 21);
    close(fd);
    cr_assert_null(st_key_load(path, &k));
    cr_assert_eq(k.len, 20);
    unlink(path);
    cr_assert_not_null(st_key_load("/nonexistent/key", &k));
}

Test(store_proto, blob_frames_roundtrip_and_head_matches_encode)
{
    static uint8_t bytes[5000];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (uint8_t)(i * 13 + 1);
    st_msg m = {.kind = ST_BLOB}, d;
    st_sha256(bytes, sizeof bytes, m.u.blob.sha);
    m.u.blob.off = 1ull << 33;
    m.u.blob.len = sizeof bytes;
    m.u.blob.data = bytes;
    size_t n = roundtrip(&m, &d);
    cr_assert_eq(n, ST_HEAD_SIZE + ST_BLOB_HEAD + sizeof bytes);
    cr_assert_eq(d.u.blob.off, 1ull << 33);
    cr_assert_eq(d.u.blob.len, sizeof bytes);
    cr_assert(memcmp(d.u.blob.data, bytes, sizeof bytes) == 0);
    refuses_prefixes(ST_BLOB, n);
    /* What a store sends before the bytes is the encoded frame's start. */
    uint8_t head[ST_HEAD_SIZE + ST_BLOB_HEAD];
    cr_assert_eq(st_encode_blob_head(&m, head, sizeof head), sizeof head);
    cr_assert(memcmp(head, buf, sizeof head) == 0);

    st_msg q = {.kind = ST_BLOB_REQ};
    memcpy(q.u.blob.sha, m.u.blob.sha, ST_SHA_LEN);
    q.u.blob.off = 4096;
    q.u.blob.len = 100;
    n = roundtrip(&q, &d);
    cr_assert_eq(n, ST_HEAD_SIZE + ST_BLOB_HEAD);
    cr_assert_eq(d.u.blob.off, 4096);
    refuses_prefixes(ST_BLOB_REQ, n);
    /* Empty and oversized ranges are refused. */
    q.u.blob.len = 0;
    cr_assert_eq(st_encoded_size(&q), 0);
    buf[ST_HEAD_SIZE + 40] = buf[ST_HEAD_SIZE + 41] = buf[ST_HEAD_SIZE + 42] = buf[ST_HEAD_SIZE + 43] = 0;
    cr_assert_not_null(st_decode(ST_BLOB_REQ, buf + ST_HEAD_SIZE, ST_BLOB_HEAD, &d));
    buf[ST_HEAD_SIZE + 43] = 0xff;
    cr_assert_not_null(st_decode(ST_BLOB_REQ, buf + ST_HEAD_SIZE, ST_BLOB_HEAD, &d));
}

/* A frame MAC covers the head, every non-bulk payload byte, the direction
 * and the sequence number, and not a RANGES item's bytes (their MACed
 * SHA-256 covers those). */
Test(store_proto, frame_mac_covers_what_it_says)
{
    static uint8_t blob[8192];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i * 7);
    st_range r[2] = {{.off = 0, .len = 5000}, {.off = 5000, .len = 100}};
    st_msg m = {.kind = ST_RANGES};
    st_sha256(blob, sizeof blob, m.u.ranges.blob);
    m.u.ranges.count = 2;
    m.u.ranges.ranges = r;
    r[0].data = blob;
    r[1].data = blob + 5000;
    size_t n = st_encode(&m, buf, sizeof buf);
    cr_assert_gt(n, ST_HEAD_SIZE);
    uint8_t key[ST_MAC_LEN] = {1, 2, 3}, t0[ST_MAC_LEN], t[ST_MAC_LEN];
    st_frame_tag(key, 'S', 5, buf, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, t0);
    st_frame_tag(key, 'S', 5, buf, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, t);
    cr_assert(st_tag_equal(t0, t));
    st_frame_tag(key, 'S', 6, buf, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, t);
    cr_assert_not(st_tag_equal(t0, t), "the sequence number is covered");
    st_frame_tag(key, 'C', 5, buf, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, t);
    cr_assert_not(st_tag_equal(t0, t), "the direction is covered");
    /* The same tag computed piecewise, as a receiver streaming the frame
     * does: head, the 36-byte prefix, each item's head (16 bytes and its
     * chunk hashes: 2 for the first item, 1 for the second). */
    st_sha_ctx *c = st_tag_begin(key, 'S', 5, buf);
    cr_assert_not_null(c);
    st_sha_update(c, buf + ST_HEAD_SIZE, 36);
    st_sha_update(c, buf + ST_HEAD_SIZE + 36, 16 + 2 * 32);
    st_sha_update(c, buf + ST_HEAD_SIZE + 36 + 80 + 5000, 48);
    st_tag_end(c, key, t);
    cr_assert(st_tag_equal(t0, t), "piecewise tag equals st_frame_tag");
    /* Every byte of the head and of the non-bulk payload is covered; the
     * ranges' bytes (items at 36 and 36 + 80 + 5000) are not. */
    size_t item2 = ST_HEAD_SIZE + 36 + 80 + 5000;
    for (size_t i = 0; i < n; i++) {
        int bulk = (i >= ST_HEAD_SIZE + 36 + 80 && i < item2) || i >= item2 + 48;
        buf[i] ^= 0x01;
        st_frame_tag(key, 'S', 5, buf, buf + ST_HEAD_SIZE, n - ST_HEAD_SIZE, t);
        buf[i] ^= 0x01;
        if (bulk)
            cr_assert(st_tag_equal(t0, t), "byte %zu is bulk, covered by its SHA-256", i);
        else
            cr_assert_not(st_tag_equal(t0, t), "byte %zu is covered", i);
    }
}
