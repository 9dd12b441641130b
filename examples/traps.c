/*
 * traps.c — ways for a guest to end badly, selected by argv[1]:
 *
 *   traps exit N         exit(N)             (proc_exit)
 *   traps div A B        print A / B         (B = 0: integer divide by zero)
 *   traps overflow       INT32_MIN / -1      (integer overflow)
 *   traps unreachable    __builtin_trap()
 *   traps oob            load from beyond the end of linear memory
 *   traps stack          unbounded recursion (call stack exhausted)
 *   traps indirect       call through a function pointer of the wrong type
 *
 * Operands go through volatile so clang cannot fold the trap away.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int32_t sink;

__attribute__((noinline)) static int32_t divide(int32_t a, int32_t b)
{
    return a / b;
}

/* Recursion without a frame in linear memory (no address-taken locals),
 * so it exhausts the engine's call stack, not clang's shadow stack. The
 * work after the call keeps it from becoming a loop. */
static volatile int32_t depth;

__attribute__((noinline)) static int32_t recurse(int32_t n)
{
    depth = n;
    if (depth < 0)              /* never true; keeps -Winfinite-recursion quiet */
        return 0;
    int32_t r = recurse(n + 1);
    return r * 3 + depth;
}

static int32_t one_arg(int32_t x) { return x + 1; }

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: traps exit N | div A B | overflow | unreachable | oob | stack | indirect\n");
        return 1;
    }
    const char *what = argv[1];
    if (strcmp(what, "exit") == 0 && argc > 2) {
        exit(atoi(argv[2]));
    } else if (strcmp(what, "div") == 0 && argc > 3) {
        printf("%d\n", divide(atoi(argv[2]), atoi(argv[3])));
        return 0;
    } else if (strcmp(what, "overflow") == 0) {
        volatile int32_t m = INT32_MIN, d = -1;
        sink = divide(m, d);
    } else if (strcmp(what, "unreachable") == 0) {
        __builtin_trap();
    } else if (strcmp(what, "oob") == 0) {
        /* 4 GiB - 16: beyond any memory a C program gets by default. */
        volatile uintptr_t addr = (uintptr_t)0xFFFFFFF0u;
        sink = *(volatile int32_t *)addr;
    } else if (strcmp(what, "stack") == 0) {
        sink = recurse(0);
    } else if (strcmp(what, "indirect") == 0) {
        /* Wasm checks the signature of every call_indirect. */
        int32_t (*volatile fp)(int32_t, int32_t) = (int32_t (*)(int32_t, int32_t))(void (*)(void))one_arg;
        sink = fp(1, 2);
    } else {
        fprintf(stderr, "traps: unknown mode %s\n", what);
        return 1;
    }
    printf("no trap\n");
    return 0;
}
