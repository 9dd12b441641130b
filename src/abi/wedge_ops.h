/* wedge_ops.h — inline helpers for generated code (placeholder; owned by src/compile). */
#ifndef WEDGE_OPS_H
#define WEDGE_OPS_H
#include "wedge_abi.h"
#endif
