/* wagi — a WAGI-style function (route option "wagi": true): it prints its
 * own status and headers, a blank line, then the body, which reports the
 * CGI variables it was given. */
#include <stdio.h>
#include <stdlib.h>

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v ? v : "";
}

int main(int argc, char **argv)
{
    printf("Status: 201\n");
    printf("Content-Type: text/x-wagi\n");
    printf("X-Wedge-Example: wagi\n");
    printf("\n");
    printf("method=%s\n", env("REQUEST_METHOD"));
    printf("path_info=%s\n", env("PATH_INFO"));
    printf("query=%s\n", env("QUERY_STRING"));
    printf("content_length=%s\n", env("CONTENT_LENGTH"));
    printf("x_test=%s\n", env("HTTP_X_TEST"));
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    return 0;
}
