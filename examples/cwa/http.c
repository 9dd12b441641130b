/* An HTTP function for `wedge serve` in CommonWA: the request body is on
 * stdin, the response body goes to stdout, the CGI variables are the
 * environment and the query values the arguments.  Answers
 * "<METHOD> <PATH_INFO>: <n> bytes: <body>". */
#include "cwa.h"

int cwa_main(void)
{
    char out[4096], body[2048];
    int k = 0, n;
    n = env_get("REQUEST_METHOD", 14, out + k, 16);
    k += n > 0 && n <= 16 ? n : 0;
    out[k++] = ' ';
    n = env_get("PATH_INFO", 9, out + k, 1024);
    k += n > 0 && n <= 1024 ? n : 0;
    out[k++] = ':';
    out[k++] = ' ';
    int in = io_get_stdin(), got = 0;
    while (got < (int)sizeof body && (n = resource_read(in, body + got, sizeof body - got)) > 0)
        got += n;
    char num[12];
    int d = 0;
    int v = got;
    do
        num[d++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    while (d)
        out[k++] = num[--d];
    __builtin_memcpy(out + k, " bytes: ", 8);
    k += 8;
    __builtin_memcpy(out + k, body, got);
    k += got;
    out[k++] = '\n';
    log_write(6, "answered", 8);
    return resource_write(io_get_stdout(), out, k) == k ? 0 : 1;
}
