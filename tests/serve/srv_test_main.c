/*
 * srv_test_main.c — `wedge serve` as its own small executable, so the
 * end-to-end HTTP tests do not depend on the CLI being built.
 * Usage is exactly that of `wedge serve`: srv_test_main [OPTIONS] CONFIG.json
 */
#include "serve/serve.h"

int main(int argc, char **argv)
{
    return srv_main(argc, argv);
}
