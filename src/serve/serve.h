/*
 * serve.h — the entry point of `wedge serve` for the CLI.
 *
 * srv_main() owns everything it starts (sockets, threads, configuration) and
 * releases it before returning.  It installs its own handlers for SIGINT,
 * SIGTERM and SIGPIPE for the lifetime of the call.
 *
 * argv[0] is the subcommand name ("serve"); the rest are the flags and the
 * configuration file, as documented by `wedge serve --help`.
 * Returns the process exit status: 0 after a clean shutdown, 1 on a user
 * error (bad flags, bad configuration, port in use), 2 on an internal error.
 */
#ifndef WEDGE_SERVE_H
#define WEDGE_SERVE_H

int srv_main(int argc, char **argv);

#endif
