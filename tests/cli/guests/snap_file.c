/*
 * snap_file.c — a snapshot guest (reactor) whose init reads a
 * configuration file from a pre-opened directory and keeps a file open:
 * the configuration must survive the snapshot, the open file must not (host
 * state is never captured: a restore has a fresh WASI context).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static char config[4096];
static size_t config_len;
static FILE *kept;

__attribute__((export_name("wizer.initialize"))) void init(void)
{
    FILE *f = fopen("/data/config.txt", "r");
    if (f) {
        config_len = fread(config, 1, sizeof config - 1, f);
        fclose(f);
    }
    kept = fopen("/data/config.txt", "r");
}

__attribute__((export_name("config_len"))) uint32_t get_len(void) { return (uint32_t)config_len; }

__attribute__((export_name("config_sum"))) uint32_t config_sum(void)
{
    uint32_t s = 0;
    for (size_t i = 0; i < config_len; i++)
        s = s * 33 + (unsigned char)config[i];
    return s;
}

__attribute__((export_name("print_config"))) void print_config(void) { fwrite(config, 1, config_len, stdout); }

/* 1 if the file opened during init can still be read. */
__attribute__((export_name("kept_file_works"))) uint32_t kept_file_works(void)
{
    char c;
    return kept && fread(&c, 1, 1, kept) == 1;
}
