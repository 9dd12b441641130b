/*
 * st_repo.c — what a store node holds and how it answers a request,
 * whatever carries the frames: NAME is DIR/NAME.wasm with, if present,
 * DIR/NAME.snap; blobs are found by SHA-256; pushes are assembled in a
 * temporary file and renamed into place only once the whole blob matches
 * its hash; working sets are files DIR/.wset-SNAPHASH-NAME (hidden names can
 * never collide with a store name, which cannot start with '.').
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "st_internal.h"
#include "util/util.h"

/* A file's mapping and hash, valid while (dev, ino, size, mtime) match. */
typedef struct file_ent {
    char path[4096];
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime;
    uint8_t sha[ST_SHA_LEN];
    const uint8_t *map;
    /* A snapshot's memory extents and the SHA-256 of each ST_CHUNK of
     * each (memory pages), computed once when the file is mapped: a
     * RANGES reply for pages takes its hashes from here instead of hashing
     * per request.  n_ext 0: not a snapshot (hashes computed per item). */
    st_extent *ext;
    uint64_t *first;            /* n_ext: index of extent i's first chunk in chunk_sha */
    uint8_t *chunk_sha;
    uint32_t n_ext;
    struct file_ent *next;
} file_ent;

/* Distinct temporary names across threads and processes. */
static _Atomic unsigned long tmp_seq;

struct st_repo {
    char dir[3072];
    pthread_mutex_t mu;
    file_ent *files;            /* newest first; never freed before close */
};

void st_log(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "wedge store: %s\n", line);
}

st_repo *st_repo_open(const char *dir, char *err)
{
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, ST_ERR_LEN, "%s: not a directory", dir);
        return NULL;
    }
    if (strlen(dir) >= 3000) {
        snprintf(err, ST_ERR_LEN, "store directory path too long");
        return NULL;
    }
    st_repo *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, ST_ERR_LEN, "out of memory");
        return NULL;
    }
    strcpy(r->dir, dir);
    pthread_mutex_init(&r->mu, NULL);
    return r;
}

void st_repo_close(st_repo *r)
{
    if (!r)
        return;
    for (file_ent *f = r->files, *n; f; f = n) {
        n = f->next;
        if (f->map && f->size)
            munmap((void *)f->map, (size_t)f->size);
        free(f->ext);
        free(f->first);
        free(f->chunk_sha);
        free(f);
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* f's memory extents and their chunk hashes, when f is a snapshot the
 * runtime's decoder reads (else none: items are then hashed as asked). */
static void chunk_table(file_ent *f)
{
    st_manifest man;
    st_snap_extents(f->map, (size_t)f->size, &man);
    uint64_t n = 0;
    for (uint32_t i = 0; i < man.n_extents; i++)
        n += (man.extents[i].len + ST_CHUNK - 1) / ST_CHUNK;
    f->first = man.n_extents ? malloc(man.n_extents * sizeof *f->first) : NULL;
    f->chunk_sha = n ? malloc(n * ST_SHA_LEN) : NULL;
    if (!f->first || !f->chunk_sha) {
        free(man.extents);
        free(f->first);
        free(f->chunk_sha);
        f->first = NULL;
        f->chunk_sha = NULL;
        return;
    }
    n = 0;
    for (uint32_t i = 0; i < man.n_extents; i++) {
        const st_extent *x = &man.extents[i];
        f->first[i] = n;
        for (uint64_t at = 0; at < x->len; at += ST_CHUNK, n++)
            st_sha256(f->map + x->file_off + at, x->len - at < ST_CHUNK ? x->len - at : ST_CHUNK,
                      f->chunk_sha + n * ST_SHA_LEN);
    }
    f->ext = man.extents;
    f->n_ext = man.n_extents;
}

/* The chunk hashes of f's bytes [off, off+len) into out: from the table
 * when the item starts on a chunk of one extent and ends on a chunk end
 * or the extent's end (memory pages, what lazy nodes ask for), else
 * computed. */
static void item_hashes(const file_ent *f, uint64_t off, uint32_t len, uint8_t *out)
{
    uint32_t lo = 0, hi = f->n_ext;
    while (lo < hi) { /* first extent ending after off */
        uint32_t mid = (lo + hi) / 2;
        if (f->ext[mid].file_off + f->ext[mid].len <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < f->n_ext) {
        const st_extent *x = &f->ext[lo];
        uint64_t end = x->file_off + x->len;
        if (off >= x->file_off && (off - x->file_off) % ST_CHUNK == 0 && len <= end - off &&
            (len % ST_CHUNK == 0 || off + len == end)) {
            memcpy(out, f->chunk_sha + (f->first[lo] + (off - x->file_off) / ST_CHUNK) * ST_SHA_LEN,
                   (size_t)st_chunks(len) * ST_SHA_LEN);
            return;
        }
    }
    st_chunk_hashes(f->map + off, len, out);
}

/* The current mapping of path (hashing it when new or changed); NULL when
 * the file is missing or unreadable.  Caller holds r->mu. */
static file_ent *file_get(st_repo *r, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return NULL;
    for (file_ent *f = r->files; f; f = f->next)
        if (!strcmp(f->path, path) && f->dev == st.st_dev && f->ino == st.st_ino && f->size == st.st_size &&
            f->mtime.tv_sec == st.st_mtim.tv_sec && f->mtime.tv_nsec == st.st_mtim.tv_nsec)
            return f;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    file_ent *f = calloc(1, sizeof *f);
    if (!f) {
        close(fd);
        return NULL;
    }
    snprintf(f->path, sizeof f->path, "%s", path);
    f->dev = st.st_dev;
    f->ino = st.st_ino;
    f->size = st.st_size;
    f->mtime = st.st_mtim;
    if (st.st_size) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            close(fd);
            free(f);
            return NULL;
        }
        f->map = m;
    }
    close(fd);
    st_sha256(f->map ? f->map : (const uint8_t *)"", (size_t)f->size, f->sha);
    size_t pl = strlen(path);
    if (pl > 5 && !strcmp(path + pl - 5, ".snap"))
        chunk_table(f);
    f->next = r->files;
    r->files = f;
    return f;
}

static void name_path(const st_repo *r, const char *name, size_t len, const char *ext, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%.*s%s", r->dir, (int)len, name, ext);
}

size_t st_error_frame(uint16_t code, const char *text, uint8_t *buf, size_t cap)
{
    st_msg m = {.kind = ST_ERROR};
    m.u.error.code = code;
    m.u.error.text = text;
    m.u.error.text_len = (uint32_t)strlen(text);
    return st_encode(&m, buf, cap);
}

static uint8_t *error_reply(uint16_t code, const char *text, size_t *len)
{
    uint8_t *b = malloc(ST_HEAD_SIZE + 4 + ST_TEXT_MAX);
    if (b)
        *len = st_error_frame(code, text, b, ST_HEAD_SIZE + 4 + ST_TEXT_MAX);
    return b;
}

static uint8_t *encode_reply(const st_msg *m, size_t *len)
{
    size_t n = st_encoded_size(m);
    if (n == 0)
        return error_reply(ST_E_RANGE, "reply larger than one frame", len);
    uint8_t *b = malloc(n);
    if (b && st_encode(m, b, n) != n) {
        free(b);
        return error_reply(ST_E_INTERNAL, "cannot encode reply", len);
    }
    *len = n;
    return b;
}

static uint8_t *answer_manifest(st_repo *r, const st_msg *req, size_t *len)
{
    char path[4200];
    const char *name = req->u.manifest_req.name;
    uint32_t nl = req->u.manifest_req.name_len;
    st_msg m = {.kind = ST_MANIFEST};
    st_manifest man = {0};
    pthread_mutex_lock(&r->mu);
    name_path(r, name, nl, ".wasm", path, sizeof path);
    file_ent *mod = file_get(r, path);
    name_path(r, name, nl, ".snap", path, sizeof path);
    file_ent *snap = mod ? file_get(r, path) : NULL;
    pthread_mutex_unlock(&r->mu);
    if (!mod)
        return error_reply(ST_E_NOTFOUND, "no such name in this store", len);
    m.u.manifest.name = name;
    m.u.manifest.name_len = nl;
    memcpy(m.u.manifest.module.sha, mod->sha, ST_SHA_LEN);
    m.u.manifest.module.size = (uint64_t)mod->size;
    if (snap) {
        m.u.manifest.has_snap = 1;
        memcpy(m.u.manifest.snap.sha, snap->sha, ST_SHA_LEN);
        m.u.manifest.snap.size = (uint64_t)snap->size;
        st_snap_extents(snap->map, (size_t)snap->size, &man);
        m.u.manifest.mem_pages = man.mem_pages;
        m.u.manifest.n_extents = man.n_extents;
        m.u.manifest.extents = man.extents;
    }
    uint8_t *b = encode_reply(&m, len);
    free(man.extents);
    return b;
}

/* The mapping of the blob whose hash is sha: any NAME.wasm / NAME.snap in
 * the directory.  Caller holds r->mu. */
static file_ent *blob_find(st_repo *r, const uint8_t sha[ST_SHA_LEN])
{
    for (file_ent *f = r->files; f; f = f->next)
        if (!memcmp(f->sha, sha, ST_SHA_LEN)) {
            file_ent *cur = file_get(r, f->path); /* still the file's content? */
            if (cur && !memcmp(cur->sha, sha, ST_SHA_LEN))
                return cur;
        }
    return NULL;
}

const char *st_repo_ranges_view(st_repo *r, const st_msg *req, const uint8_t **data, uint8_t **heads,
                                size_t *heads_len)
{
    pthread_mutex_lock(&r->mu);
    file_ent *f = blob_find(r, req->u.ranges.blob);
    pthread_mutex_unlock(&r->mu);
    *heads = NULL;
    if (!f)
        return "no blob with that hash (ask for the manifest again)";
    uint32_t n = req->u.ranges.count;
    uint64_t total = 0;
    for (uint32_t i = 0; i < n; i++) {
        st_range g = st_range_at(req, i);
        if (g.off > (uint64_t)f->size || g.len > (uint64_t)f->size - g.off)
            return "range outside the blob";
        total += st_item_head(g.len);
    }
    uint8_t *h = malloc(total), *p = h;
    if (!h)
        return "out of memory";
    /* The request is answerable in one frame (st_decode checked). */
    for (uint32_t i = 0; i < n; i++) {
        st_range g = st_range_at(req, i);
        for (int b = 0; b < 8; b++)
            p[b] = (uint8_t)(g.off >> (8 * b));
        for (int b = 0; b < 4; b++)
            p[8 + b] = (uint8_t)(g.len >> (8 * b));
        memset(p + 12, 0, 4);
        item_hashes(f, g.off, g.len, p + 16);
        p += st_item_head(g.len);
    }
    *data = f->map;
    *heads = h;
    *heads_len = (size_t)total;
    return NULL;
}

const char *st_repo_blob_view(st_repo *r, const st_msg *req, const uint8_t **data)
{
    pthread_mutex_lock(&r->mu);
    file_ent *f = blob_find(r, req->u.blob.sha);
    pthread_mutex_unlock(&r->mu);
    if (!f)
        return "no blob with that hash (ask for the manifest again)";
    if (req->u.blob.off > (uint64_t)f->size || req->u.blob.len > (uint64_t)f->size - req->u.blob.off)
        return "range outside the blob";
    *data = f->map + req->u.blob.off;
    return NULL;
}

static void wset_path(const st_repo *r, const char *name, uint32_t nl, const uint8_t snap[ST_SHA_LEN], char *out,
                      size_t cap)
{
    char hex[2 * ST_SHA_LEN + 1];
    st_sha_hex(snap, hex);
    snprintf(out, cap, "%s/.wset-%s-%.*s", r->dir, hex, (int)nl, name);
}

/* Writes path atomically: a temporary file renamed over it. */
static int write_atomic(const char *path, const uint8_t *data, size_t len)
{
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp%ld-%lu", path, (long)getpid(), tmp_seq++);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t k = write(fd, data + done, len - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            close(fd);
            unlink(tmp);
            return -1;
        }
        done += (size_t)k;
    }
    if (close(fd) != 0 || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static uint8_t *answer_wset(st_repo *r, const st_msg *req, size_t *len)
{
    char path[4200];
    wset_path(r, req->u.wset.name, req->u.wset.name_len, req->u.wset.snap, path, sizeof path);
    if (req->kind == ST_WSET_PUT) {
        /* The frame's page array is already little-endian u32s: store it as is. */
        if (write_atomic(path, req->u.wset.raw, (size_t)req->u.wset.count * 4) != 0)
            return error_reply(ST_E_INTERNAL, "cannot write the working set", len);
        st_msg ok = {.kind = ST_OK};
        return encode_reply(&ok, len);
    }
    size_t n = 0;
    uint8_t *b = ut_read_file(path, (size_t)ST_MAX_WSET * 4, &n);
    if (!b)
        return error_reply(ST_E_NOTFOUND, "no working set recorded", len);
    if (n % 4) {
        free(b);
        return error_reply(ST_E_INTERNAL, "working set file damaged", len);
    }
    uint32_t cnt = (uint32_t)(n / 4);
    uint32_t *pages = malloc((cnt ? cnt : 1) * sizeof *pages);
    if (!pages) {
        free(b);
        return NULL;
    }
    for (uint32_t i = 0; i < cnt; i++)
        pages[i] = (uint32_t)b[4 * i] | (uint32_t)b[4 * i + 1] << 8 | (uint32_t)b[4 * i + 2] << 16 |
                   (uint32_t)b[4 * i + 3] << 24;
    free(b);
    st_msg m = {.kind = ST_WSET};
    m.u.wset.count = cnt;
    m.u.wset.pages = pages;
    uint8_t *out = encode_reply(&m, len);
    free(pages);
    return out;
}

void st_push_abort(st_push_state *ps)
{
    if (ps->fd >= 0) {
        close(ps->fd);
        unlink(ps->tmp);
        ps->fd = -1;
    }
}

/* Checks the assembled file against its hash and renames it into place. */
static const char *push_finish(st_repo *r, st_push_state *ps)
{
    struct stat st;
    if (fstat(ps->fd, &st) != 0)
        return "cannot read back the pushed blob";
    void *m = st.st_size ? mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, ps->fd, 0) : NULL;
    if (m == MAP_FAILED)
        return "cannot read back the pushed blob";
    uint8_t sha[ST_SHA_LEN];
    st_sha256(m ? m : "", (size_t)st.st_size, sha);
    if (m)
        munmap(m, (size_t)st.st_size);
    if (memcmp(sha, ps->sha, ST_SHA_LEN) != 0)
        return "pushed bytes do not match their hash";
    char path[4200];
    name_path(r, ps->name, strlen(ps->name), ps->which == ST_BLOB_MODULE ? ".wasm" : ".snap", path, sizeof path);
    if (close(ps->fd) != 0) {
        ps->fd = -1;
        unlink(ps->tmp);
        return "cannot write the pushed blob";
    }
    ps->fd = -1;
    if (rename(ps->tmp, path) != 0) {
        unlink(ps->tmp);
        return "cannot rename the pushed blob into place";
    }
    return NULL;
}

static uint8_t *answer_push(st_repo *r, const st_msg *req, st_push_state *ps, const char *peer, size_t *len)
{
    const char *e = NULL;
    uint16_t code = ST_E_PROTO;
    if (req->u.push.off == 0) {
        /* A new blob: drop any unfinished one. */
        st_push_abort(ps);
        snprintf(ps->name, sizeof ps->name, "%.*s", (int)req->u.push.name_len, req->u.push.name);
        snprintf(ps->tmp, sizeof ps->tmp, "%s/.push-%ld-%lu-%s", r->dir, (long)getpid(), tmp_seq++, ps->name);
        ps->fd = open(ps->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (ps->fd < 0) {
            code = ST_E_INTERNAL;
            e = "cannot create a file for the push";
            goto fail;
        }
        ps->which = req->u.push.which;
        memcpy(ps->sha, req->u.push.sha, ST_SHA_LEN);
        ps->total = req->u.push.total;
        ps->next = 0;
    } else if (ps->fd < 0 || ps->next != req->u.push.off || ps->total != req->u.push.total ||
               ps->which != req->u.push.which || memcmp(ps->sha, req->u.push.sha, ST_SHA_LEN) != 0 ||
               strlen(ps->name) != req->u.push.name_len || memcmp(ps->name, req->u.push.name, req->u.push.name_len)) {
        e = "push piece out of order";
        goto fail;
    }
    for (size_t done = 0; done < req->u.push.len;) {
        ssize_t k = write(ps->fd, req->u.push.data + done, req->u.push.len - done);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            code = ST_E_INTERNAL;
            e = "cannot write the pushed blob";
            goto fail;
        }
        done += (size_t)k;
    }
    ps->next += req->u.push.len;
    if (ps->next == ps->total) {
        e = push_finish(r, ps);
        if (e) {
            code = ST_E_HASH;
            goto fail;
        }
        st_log("%s: pushed %s%s (%llu bytes)", peer, ps->name, ps->which == ST_BLOB_MODULE ? ".wasm" : ".snap",
               (unsigned long long)ps->total);
    }
    st_msg ok = {.kind = ST_OK};
    return encode_reply(&ok, len);
fail:
    st_push_abort(ps);
    st_log("%s: push refused: %s", peer, e);
    return error_reply(code, e, len);
}

uint8_t *st_repo_answer(st_repo *r, const st_msg *req, st_push_state *ps, const char *peer, size_t *len)
{
    switch (req->kind) {
    case ST_MANIFEST_REQ: return answer_manifest(r, req, len);
    case ST_WSET_PUT:
    case ST_WSET_REQ: return answer_wset(r, req, len);
    case ST_PUSH: return answer_push(r, req, ps, peer, len);
    default: return error_reply(ST_E_PROTO, "unexpected frame kind", len);
    }
}
