/*
 * wasm_proposal.c — recognising features of post-2.0 proposals, so that a
 * module using one is refused with the proposal's name instead of a bare
 * "malformed" (wedge implements Wasm 2.0: MVP + the finished proposals
 * through fixed-width SIMD).
 */
#include "wasm_internal.h"

#include <stdio.h>

const char *wasm_proposal_valtype(uint8_t b)
{
    switch (b) {
    case 0x63: case 0x64:
        return "function references proposal not supported (typed reference type)";
    case 0x69: case 0x74:
        return "exception handling proposal not supported (exnref type)";
    case 0x6A: case 0x6B: case 0x6C: case 0x6D: case 0x6E: case 0x71: case 0x72: case 0x73:
        return "GC proposal not supported (reference type)";
    default:
        return NULL;
    }
}

const char *wasm_proposal_opcode(uint8_t op)
{
    switch (op) {
    case 0x06: case 0x07: case 0x08: case 0x09: case 0x0A: case 0x18: case 0x19: case 0x1F:
        return "exception handling proposal not supported";
    case 0x12: case 0x13:
        return "tail call proposal not supported";
    case 0x14: case 0x15: case 0xD4: case 0xD5: case 0xD6:
        return "function references proposal not supported";
    case 0xD3: case 0xFB:
        return "GC proposal not supported";
    case 0xFE:
        return "threads proposal not supported";
    default:
        return NULL;
    }
}

const char *wasm_proposal_typeform(uint8_t form)
{
    switch (form) {
    case 0x4E: return "GC proposal not supported (rec type group)";
    case 0x4F: case 0x50: return "GC proposal not supported (subtype)";
    case 0x5E: return "GC proposal not supported (array type)";
    case 0x5F: return "GC proposal not supported (struct type)";
    default: return NULL;
    }
}

const char *wasm_proposal_limits(uint8_t flags)
{
    if (flags & 0x04)
        return "memory64 proposal not supported (64-bit limits)";
    if (flags & 0x02)
        return "threads proposal not supported (shared memory)";
    return NULL;
}
