/* interp.c — a small register bytecode interpreter whose dispatch is a
 * table of function pointers (indirect calls, i.e. call_indirect in
 * Wasm).  The program computes a sum of iterated xorshift values and a
 * Collatz-length tally in nested loops.
 *   interp [OUTER]   default 12000 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { OP_LI, OP_ADD, OP_SUB, OP_XOR, OP_SHL, OP_SHR, OP_MUL, OP_AND, OP_MOV, OP_JNZ, OP_JLT, OP_HALT, OP_COUNT };

typedef struct insn { uint8_t op, a, b, c; int32_t imm; } insn;
typedef struct vm { uint64_t r[16]; int32_t pc; int running; } vm;
typedef void (*handler)(vm *, const insn *);

static void op_li(vm *m, const insn *i)  { m->r[i->a] = (uint64_t)(int64_t)i->imm; m->pc++; }
static void op_add(vm *m, const insn *i) { m->r[i->a] = m->r[i->b] + m->r[i->c]; m->pc++; }
static void op_sub(vm *m, const insn *i) { m->r[i->a] = m->r[i->b] - m->r[i->c]; m->pc++; }
static void op_xor(vm *m, const insn *i) { m->r[i->a] = m->r[i->b] ^ m->r[i->c]; m->pc++; }
static void op_shl(vm *m, const insn *i) { m->r[i->a] = m->r[i->b] << (i->imm & 63); m->pc++; }
static void op_shr(vm *m, const insn *i) { m->r[i->a] = m->r[i->b] >> (i->imm & 63); m->pc++; }
static void op_mul(vm *m, const insn *i) { m->r[i->a] = m->r[i->b] * m->r[i->c]; m->pc++; }
static void op_and(vm *m, const insn *i) { m->r[i->a] = m->r[i->b] & m->r[i->c]; m->pc++; }
static void op_mov(vm *m, const insn *i) { m->r[i->a] = m->r[i->b]; m->pc++; }
static void op_jnz(vm *m, const insn *i) { m->pc = m->r[i->a] ? i->imm : m->pc + 1; }
static void op_jlt(vm *m, const insn *i) { m->pc = m->r[i->a] < m->r[i->b] ? i->imm : m->pc + 1; }
static void op_halt(vm *m, const insn *i) { (void)i; m->running = 0; }

static const handler handlers[OP_COUNT] = {
    op_li, op_add, op_sub, op_xor, op_shl, op_shr, op_mul, op_and, op_mov, op_jnz, op_jlt, op_halt,
};

int main(int argc, char **argv)
{
    long outer = argc > 1 ? atol(argv[1]) : 12000;
    /* r1 = outer counter, r2 = xorshift state, r3 = accumulator,
     * r4 = inner counter, r5 = inner limit, r6..r9 scratch, r10 = 1. */
    const insn prog[] = {
        /* 0 */ {OP_LI, 10, 0, 0, 1},
        /* 1 */ {OP_LI, 2, 0, 0, 88675123},
        /* 2 */ {OP_LI, 3, 0, 0, 0},
        /* 3 */ {OP_LI, 5, 0, 0, 1000},
        /* 4 */ {OP_LI, 4, 0, 0, 0},                 /* outer loop head */
        /* 5 */ {OP_SHL, 6, 2, 0, 13},                /* inner loop head: xorshift64 */
        /* 6 */ {OP_XOR, 2, 2, 6, 0},
        /* 7 */ {OP_SHR, 6, 2, 0, 7},
        /* 8 */ {OP_XOR, 2, 2, 6, 0},
        /* 9 */ {OP_SHL, 6, 2, 0, 17},
        /* 10 */ {OP_XOR, 2, 2, 6, 0},
        /* 11 */ {OP_LI, 7, 0, 0, 0xffff},
        /* 12 */ {OP_AND, 8, 2, 7, 0},
        /* 13 */ {OP_MUL, 9, 8, 8, 0},
        /* 14 */ {OP_ADD, 3, 3, 9, 0},
        /* 15 */ {OP_SUB, 3, 3, 8, 0},
        /* 16 */ {OP_ADD, 4, 4, 10, 0},
        /* 17 */ {OP_JLT, 4, 5, 0, 5},
        /* 18 */ {OP_SUB, 1, 1, 10, 0},
        /* 19 */ {OP_JNZ, 1, 0, 0, 4},
        /* 20 */ {OP_MOV, 0, 3, 0, 0},
        /* 21 */ {OP_HALT, 0, 0, 0, 0},
    };
    vm m = {{0}, 0, 1};
    m.r[1] = (uint64_t)outer;
    uint64_t steps = 0;
    while (m.running) {
        const insn *i = &prog[m.pc];
        handlers[i->op](&m, i);
        steps++;
    }
    printf("interp %016llx %016llx %llu\n", (unsigned long long)m.r[0], (unsigned long long)m.r[2],
           (unsigned long long)steps);
    return 0;
}
