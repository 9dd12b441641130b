/* noop.c — the trivial function of bench_sandbox: a C module with the
 * usual wasm32-wasi layout (a 64 KiB shadow stack, a data segment, a
 * heap start) whose `noop` export touches its data and stack a little,
 * as any real function's prologue would. */
static volatile int counter = 7;
static const char greeting[] = "hello from a data segment";

__attribute__((export_name("noop"))) int noop(void)
{
    volatile char buf[64];
    buf[0] = greeting[counter & 15];
    counter = counter + buf[0];
    return counter;
}
