/* random for CommonWA: prints 16 random bytes from random:// in hex, then
 * random_i32() and random_i64() in decimal. */
#include "cwa.h"

static int dec(char *p, long long v)
{
    char tmp[24];
    int n = 0, k = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    while (n)
        p[k++] = tmp[--n];
    return k;
}

int cwa_main(void)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    char line[96];
    int fd = resource_open("random://", 9);
    if (fd < 0 || resource_read(fd, b, sizeof b) != (int)sizeof b)
        return 1;
    resource_close(fd);
    int k = 0;
    for (int i = 0; i < 16; i++) {
        line[k++] = hex[b[i] >> 4];
        line[k++] = hex[b[i] & 15];
    }
    line[k++] = ' ';
    k += dec(line + k, random_i32());
    line[k++] = ' ';
    k += dec(line + k, random_i64());
    line[k++] = '\n';
    return resource_write(io_get_stdout(), line, k) == k ? 0 : 1;
}
