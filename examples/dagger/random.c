/* random for Dagger: 16 bytes from random:// printed in hex on stdout://. */
#include "dagger.h"

int dagger_main(void)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char b[16];
    char line[33];
    int rnd = dagger_open("random://", 0);
    if (rnd < 0 || dagger_read(rnd, b, sizeof b) != (int)sizeof b)
        return 1;
    dagger_close(rnd);
    for (int i = 0; i < 16; i++) {
        line[2 * i] = hex[b[i] >> 4];
        line[2 * i + 1] = hex[b[i] & 15];
    }
    line[32] = '\n';
    return dagger_write(dagger_open("stdout://", 0), line, 33) == 33 ? 0 : 1;
}
