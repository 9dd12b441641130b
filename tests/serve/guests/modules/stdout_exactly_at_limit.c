/* stdout_exactly_at_limit — writes exactly 16 MiB, the response limit:
 * that is still a response (200, every byte of it). */
#include <string.h>
#include <unistd.h>

static char chunk[65536];

int main(void)
{
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 256; i++)
        if (write(1, chunk, sizeof chunk) != (ssize_t)sizeof chunk)
            return 1;
    return 0;
}
