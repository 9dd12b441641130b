/* flood — writes 64 MiB to stdout, four times the response limit. */
#include <string.h>
#include <unistd.h>

static char chunk[65536];

int main(void)
{
    memset(chunk, 'x', sizeof chunk);
    for (int i = 0; i < 1024; i++)
        if (write(1, chunk, sizeof chunk) < 0)
            return 1;
    return 0;
}
