/* stderr_flood — 100,000 lines (about 4 MiB) on stderr, then "done" on
 * stdout: stderr goes to the server log, which must keep only a bounded
 * part of it (200, and the log does not grow by megabytes).  No stdio:
 * printf would triple the module and the time wedge takes to compile it. */
#include <string.h>
#include <unistd.h>

int main(void)
{
    char line[64] = "stderr_flood line 0 of noise noise noise\n";
    size_t n = strlen(line);
    for (int i = 0; i < 100000; i++) {
        line[18] = (char)('0' + i % 10);   /* the first line is "... line 0 ..." */
        if (write(2, line, n) != (ssize_t)n)
            return 1;
    }
    return write(1, "done\n", 5) == 5 ? 0 : 1;
}
