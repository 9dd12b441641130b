/* hello for Dagger: one line on stdout://, one on log://.  Built with
 *   clang --target=wasm32 -nostdlib -Wl,--no-entry -Wl,--export=dagger_main
 * (no WASI, no libc). */
#include "dagger.h"

int dagger_main(void)
{
    int out = dagger_open("stdout://", 0);
    int log = dagger_open("log://?prefix=hello", 0);
    if (out < 0 || log < 0)
        return 1;
    dagger_write(log, "starting", 8);
    return dagger_write(out, "hello, world\n", 13) == 13 ? 0 : 1;
}
