/*
 * args_env.c — echo the arguments and the environment variables whose
 * name starts with EX_, so a test can check that both survive the trip
 * through the runtime byte for byte.  argv[0] is not printed: what a
 * runtime passes there (the module's path or name) is its own choice.
 */
#include <stdio.h>
#include <string.h>

extern char **environ;

int main(int argc, char **argv)
{
    printf("argc=%d\n", argc - 1);
    for (int i = 1; i < argc; i++)
        printf("arg[%d]=%s\n", i, argv[i]);
    /* environ order is the order the host gave; keep it, the test passes
     * the variables in a known order. */
    for (char **e = environ; *e; e++)
        if (strncmp(*e, "EX_", 3) == 0)
            printf("env %s\n", *e);
    return 0;
}
