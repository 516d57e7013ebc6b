/* The threeway command line: one table of subcommands. */
#ifndef TW_CLI_H
#define TW_CLI_H

/* Exit codes shared by every subcommand. */
enum {
    TW_EXIT_OK = 0,
    TW_EXIT_FAIL = 1,  /* a test or check failed */
    TW_EXIT_USAGE = 2, /* bad input: arguments, scripts, files */
};

struct tw_command {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv); /* argv[0] is the subcommand name */
};

int tw_cli_main(int argc, char **argv);

int tw_cmd_diagram(int argc, char **argv);
int tw_cmd_bench(int argc, char **argv);
int tw_cmd_coverage(int argc, char **argv);
int tw_cmd_run(int argc, char **argv);  /* cmd_run.c */
int tw_cmd_lint(int argc, char **argv); /* cmd_run.c */

#endif
