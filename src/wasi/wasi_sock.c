/*
 * wasi_sock.c — the sock_* calls and the listening sockets `wedge run
 * --tcplisten` pre-opens.  A guest gets no way to make a socket of its own
 * (preview1 has none); it accepts connections on the listeners it was
 * given and talks over them with sock_recv/sock_send or fd_read/fd_write,
 * waits with poll_oneoff and ends them with sock_shutdown/fd_close.
 *
 * Errors, in this order: EBADF (no such descriptor), ENOTSOCK (not a
 * socket), EINVAL (bad flags), EBADF (the descriptor lacks the
 * call's right: SOCK_ACCEPT, FD_READ, FD_WRITE, SOCK_SHUTDOWN), EFAULT (a
 * bad guest pointer), then what the host call says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wasi_host.h"
#include "wasi_internal.h"

/* riflags, roflags, sdflags (witx). */
enum { WASI_RIFLAG_RECV_PEEK = 1, WASI_RIFLAG_RECV_WAITALL = 2 };
enum { WASI_SDFLAG_RD = 1, WASI_SDFLAG_WR = 2 };

#define SOCK_BACKLOG 128

bool wasi_sock_listen(const char *addr, int *out, char *err, size_t errlen)
{
    const char *given = addr;
    char host[256];
    const char *colon = strrchr(addr, ':');
    size_t hlen = colon ? (size_t)(colon - addr) : 0;
    if (!colon || hlen == 0 || !colon[1]) {
        snprintf(err, errlen, "--tcplisten %s: expected ADDR:PORT", addr);
        return false;
    }
    if (addr[0] == '[') {                       /* [::1]:8080 */
        if (hlen < 3 || addr[hlen - 1] != ']') {
            snprintf(err, errlen, "--tcplisten %s: expected [IPV6]:PORT", addr);
            return false;
        }
        addr++;
        hlen -= 2;
    }
    if (hlen >= sizeof host) {
        snprintf(err, errlen, "--tcplisten %s: host name too long", given);
        return false;
    }
    memcpy(host, addr, hlen);
    host[hlen] = '\0';

    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end || errno || port > 65535 || colon[1] < '0' || colon[1] > '9') {
        snprintf(err, errlen, "--tcplisten %s: the port must be a number from 0 to 65535", given);
        return false;
    }

    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    /* Numeric addresses only: no name lookup (and no DNS wait) at start-up. */
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV | AI_NUMERICHOST;
    int gai = getaddrinfo(host, colon + 1, &hints, &res);
    if (gai != 0) {
        snprintf(err, errlen, "--tcplisten %s: %s", given, gai_strerror(gai));
        return false;
    }
    int fd = -1, e = 0;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SOCK_BACKLOG) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        snprintf(err, errlen, "--tcplisten %s: cannot listen: %s", given, strerror(e));
        return false;
    }
    *out = fd;
    return true;
}

/* The socket behind guest fd `fd` holding rights `need`; *rc otherwise. */
static wasi_fd_entry *sock_entry(wedge_instance *inst, uint32_t fd, uint64_t need, uint32_t *rc)
{
    wasi_fd_entry *e = wasi_fd_get(wasi_ctx_of(inst), fd);
    if (!e) {
        *rc = WASI_EBADF;
        return NULL;
    }
    if (!wasi_is_socket(e)) {
        *rc = WASI_ENOTSOCK;
        return NULL;
    }
    if ((*rc = wasi_need(e, need)))
        return NULL;
    return e;
}

uint32_t wasi_sock_accept(wedge_instance *inst, uint32_t fd, uint32_t flags, uint32_t out)
{
    uint32_t rc;
    wasi_fd_entry *e = sock_entry(inst, fd, 0, &rc);
    if (!e)
        return rc;
    if (flags & ~(uint32_t)WASI_FDFLAG_NONBLOCK)
        return WASI_EINVAL;
    if ((rc = wasi_need(e, WASI_RIGHT_SOCK_ACCEPT)))
        return rc;
    if (!wasi_mem(inst, out, 4))
        return WASI_EFAULT;
    int c;
    do
        c = accept4(e->host, NULL, NULL, SOCK_CLOEXEC | ((flags & WASI_FDFLAG_NONBLOCK) ? SOCK_NONBLOCK : 0));
    while (c < 0 && errno == EINTR);
    if (c < 0)
        return wasi_errno_from_host(errno);
    wasi_fd_entry ne;
    memset(&ne, 0, sizeof ne);
    ne.kind = WASI_FD_HOST;
    ne.host = c;
    ne.owned = true;
    ne.filetype = WASI_FILETYPE_SOCKET_STREAM;
    ne.fdflags = (uint16_t)(flags & WASI_FDFLAG_NONBLOCK);
    ne.rights_base = e->rights_inheriting & WASI_RIGHTS_SOCK_CONN;
    ne.rights_inheriting = 0;
    uint32_t gfd;
    if ((rc = wasi_fd_insert(wasi_ctx_of(inst), &ne, &gfd))) {    /* e may have moved: not used below */
        close(c);
        return rc;
    }
    wasi_put_u32(inst, out, gfd);
    return 0;
}

uint32_t wasi_sock_recv(wedge_instance *inst, uint32_t fd, uint32_t iovs, uint32_t niovs, uint32_t flags,
                        uint32_t len, uint32_t oflags)
{
    uint32_t rc;
    wasi_fd_entry *e = sock_entry(inst, fd, 0, &rc);
    if (!e)
        return rc;
    if (flags & ~(uint32_t)(WASI_RIFLAG_RECV_PEEK | WASI_RIFLAG_RECV_WAITALL))
        return WASI_EINVAL;
    if ((rc = wasi_need(e, WASI_RIGHT_FD_READ)))
        return rc;
    wasi_stack_check();
    uint64_t total, done = 0;
    if ((rc = wasi_iovs_check(inst, iovs, niovs, &total)))
        return rc;
    if (!wasi_mem(inst, len, 4) || !wasi_mem(inst, oflags, 2))
        return WASI_EFAULT;
    int mf = ((flags & WASI_RIFLAG_RECV_PEEK) ? MSG_PEEK : 0) | ((flags & WASI_RIFLAG_RECV_WAITALL) ? MSG_WAITALL : 0);
    if ((rc = wasi_host_rw(inst, e->host, false, true, mf, iovs, niovs, -1, &done)))
        return rc;
    uint16_t ro = 0;            /* stream sockets never truncate a message */
    wasi_put_u32(inst, len, done > UINT32_MAX ? UINT32_MAX : (uint32_t)done);
    memcpy(wasi_mem(inst, oflags, 2), &ro, 2);
    return 0;
}

uint32_t wasi_sock_send(wedge_instance *inst, uint32_t fd, uint32_t iovs, uint32_t niovs, uint32_t flags,
                        uint32_t len)
{
    uint32_t rc;
    wasi_fd_entry *e = sock_entry(inst, fd, 0, &rc);
    if (!e)
        return rc;
    if (flags != 0)
        return WASI_EINVAL;     /* siflags has no flag defined */
    if ((rc = wasi_need(e, WASI_RIGHT_FD_WRITE)))
        return rc;
    wasi_stack_check();
    uint64_t total, done = 0;
    if ((rc = wasi_iovs_check(inst, iovs, niovs, &total)))
        return rc;
    if (!wasi_mem(inst, len, 4))
        return WASI_EFAULT;
    if ((rc = wasi_host_rw(inst, e->host, true, true, 0, iovs, niovs, -1, &done)))
        return rc;
    wasi_put_u32(inst, len, done > UINT32_MAX ? UINT32_MAX : (uint32_t)done);
    return 0;
}

uint32_t wasi_sock_shutdown(wedge_instance *inst, uint32_t fd, uint32_t how)
{
    uint32_t rc;
    wasi_fd_entry *e = sock_entry(inst, fd, 0, &rc);
    if (!e)
        return rc;
    int h;
    switch (how) {
    case WASI_SDFLAG_RD: h = SHUT_RD; break;
    case WASI_SDFLAG_WR: h = SHUT_WR; break;
    case WASI_SDFLAG_RD | WASI_SDFLAG_WR: h = SHUT_RDWR; break;
    default: return WASI_EINVAL;
    }
    if ((rc = wasi_need(e, WASI_RIGHT_SOCK_SHUTDOWN)))
        return rc;
    return shutdown(e->host, h) == 0 ? 0 : wasi_errno_from_host(errno);
}
