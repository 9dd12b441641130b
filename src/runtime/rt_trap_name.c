/*
 * rt_trap_name.c — the text of each trap kind, worded as the Wasm spec
 * test suite words it (the spec runner compares these strings).
 */
#include "rt_internal.h"

const char *rt_trap_name(wedge_trap_kind kind)
{
    switch (kind) {
    case WEDGE_TRAP_NONE: return "no trap";
    case WEDGE_TRAP_UNREACHABLE: return "unreachable";
    case WEDGE_TRAP_MEMORY_OOB: return "out of bounds memory access";
    case WEDGE_TRAP_INT_DIV_ZERO: return "integer divide by zero";
    case WEDGE_TRAP_INT_OVERFLOW: return "integer overflow";
    case WEDGE_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WEDGE_TRAP_TABLE_OOB: return "undefined element";
    case WEDGE_TRAP_UNINITIALIZED_ELEM: return "uninitialized element";
    case WEDGE_TRAP_INDIRECT_TYPE: return "indirect call type mismatch";
    case WEDGE_TRAP_STACK_EXHAUSTED: return "call stack exhausted";
    case WEDGE_TRAP_TIMEOUT: return "deadline exceeded";
    case WEDGE_TRAP_HOST: return "host function failed";
    case WEDGE_TRAP_EXIT: return "exit";
    case WEDGE_TRAP_TABLE_ACCESS_OOB: return "out of bounds table access";
    case WEDGE_TRAP__COUNT: break;
    }
    return "unknown trap";
}
