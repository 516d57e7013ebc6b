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
int tw_cmd_decode(int argc, char **argv); /* cmd_decode.c */
int tw_cmd_encode(int argc, char **argv); /* cmd_decode.c */
int tw_cmd_record(int argc, char **argv); /* cmd_pcap.c */
int tw_cmd_replay(int argc, char **argv); /* cmd_pcap.c */
int tw_cmd_import(int argc, char **argv); /* cmd_pcap.c */
int tw_cmd_matrix(int argc, char **argv); /* cmd_matrix.c */
int tw_cmd_isn(int argc, char **argv); /* cmd_isn.c */

struct tw_script;
struct tw_run_config;
struct tw_case_result;
/* `run --pcap-dir DIR`: tw_run_case with a trace in DIR/<case>.pcap and the
 * verdict in DIR/<case>.txt (cmd_pcap.c). 0, or -1 after a message on
 * stderr if a file could not be written (the case still ran). */
int tw_run_case_traced(const char *dir, const char *case_path, const char *stack,
                       const struct tw_script *s, struct tw_run_config *cfg,
                       struct tw_case_result *res);

#endif
