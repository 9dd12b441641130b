/* stdout_one_byte_over_limit — 16 MiB + 1 byte: 500 "response too large". */
#include <string.h>
#include <unistd.h>

static char chunk[65536];

int main(void)
{
    memset(chunk, 'b', sizeof chunk);
    for (int i = 0; i < 256; i++)
        if (write(1, chunk, sizeof chunk) != (ssize_t)sizeof chunk)
            return 1;
    return write(1, "!", 1) == 1 ? 0 : 1;
}
