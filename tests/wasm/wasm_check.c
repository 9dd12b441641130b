/*
 * wasm_check — decode and validate each file named on the command line and
 * print one line per file: "OK", or "MALFORMED 0xOFF: msg" / "INVALID
 * 0xOFF: msg".  Used by check_spec.py; exit status 0 when all were OK.
 */
#include "wasm/wasm.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        uint8_t *buf;
        size_t len;
        wasm_err err;
        wasm_module *m = wasm_load_file(argv[i], &buf, &len, &err);
        if (m) {
            printf("%s: OK\n", argv[i]);
            wasm_module_free(m);
            free(buf);
        } else {
            printf("%s: %s 0x%zx: %s\n", argv[i], err.malformed ? "MALFORMED" : "INVALID", err.offset, err.msg);
            bad = 1;
        }
    }
    return bad;
}
