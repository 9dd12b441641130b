/*
 * echo.c — a wasm32-wasi TCP echo server for tests/cli/wasi.sh, run as
 * `wedge run --tcplisten ADDR:PORT echo.wasm N`: it lists the sockets wedge
 * pre-opened (descriptors whose type is SOCKET_STREAM), takes the first,
 * makes it non-blocking, and serves N
 * connections one after another, waiting in poll() (poll_oneoff).  Each
 * connection is accepted with SOCK_NONBLOCK (sock_accept's NONBLOCK flag);
 * the server reads one line and answers "echo: LINE", then shuts its
 * write side and closes when the client has closed.  Odd connections use
 * recv/send/shutdown (sock_recv, sock_send, sock_shutdown), even ones
 * read/write (fd_read, fd_write).  Exit status 0 when all went well, 1
 * with a message on stderr otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wasi/api.h>

static int die(const char *what)
{
    fprintf(stderr, "echo: %s: %s\n", what, strerror(errno));
    exit(1);
}

/* Wait until fd is readable (10 s at most). */
static void wait_readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, 10000);
    if (r < 0)
        die("poll");
    if (r == 0) {
        errno = ETIMEDOUT;
        die("poll");
    }
}

/* The first pre-opened socket; prints where the sockets are ("listeners:
 * 4 5") so the test can check their place and number. */
static int find_listener(void)
{
    int first = -1;
    printf("listeners:");
    for (int fd = 3; fd < 64; fd++) {
        __wasi_fdstat_t st;
        if (__wasi_fd_fdstat_get((__wasi_fd_t)fd, &st) == 0 && st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM) {
            printf(" %d", fd);
            if (first < 0)
                first = fd;
        }
    }
    printf("\n");
    fflush(stdout);
    return first;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 1;
    int lfd = find_listener();
    if (lfd < 0) {
        fprintf(stderr, "echo: no listening socket (run with --tcplisten)\n");
        return 1;
    }
    if (fcntl(lfd, F_SETFL, O_NONBLOCK) != 0)
        die("fcntl");
    for (int i = 1; i <= n; i++) {
        int c;
        for (;;) {
            wait_readable(lfd);
            c = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
            if (c >= 0)
                break;
            if (errno != EAGAIN)
                die("accept");
        }
        bool sock = i % 2 == 1;
        char line[256];
        size_t len = 0;
        while (len == 0 || line[len - 1] != '\n') {
            wait_readable(c);
            size_t room = sizeof line - 1 - len;
            ssize_t r = sock ? recv(c, line + len, room, 0) : read(c, line + len, room);
            if (r < 0 && errno == EAGAIN)
                continue;
            if (r <= 0)
                die("read");
            len += (size_t)r;
            if (len == sizeof line - 1)
                break;
        }
        char reply[300];
        int rl = snprintf(reply, sizeof reply, "echo: %.*s", (int)len, line);
        ssize_t w = sock ? send(c, reply, (size_t)rl, 0) : write(c, reply, (size_t)rl);
        if (w != rl)
            die("write");
        if (shutdown(c, SHUT_WR) != 0)
            die("shutdown");
        char tail[16];
        for (;;) {             /* until the client closes */
            wait_readable(c);
            ssize_t r = sock ? recv(c, tail, sizeof tail, 0) : read(c, tail, sizeof tail);
            if (r == 0)
                break;
            if (r < 0 && errno != EAGAIN)
                die("read to the end");
        }
        close(c);
        printf("served %d (%s)\n", i, sock ? "recv/send" : "read/write");
        fflush(stdout);
    }
    /* Nothing else is a socket: shutdown on stdout answers ENOTSOCK. */
    if (shutdown(1, SHUT_RDWR) == 0 || errno != ENOTSOCK)
        die("shutdown(stdout) should be ENOTSOCK");
    return 0;
}
