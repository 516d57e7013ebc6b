/* What the subcommands share: the list of case files and the requirement
 * list. CLI-side code: it reports problems on stderr, prefixed with the
 * command's name. */
#ifndef TW_CMD_COMMON_H
#define TW_CMD_COMMON_H

#include <stdbool.h>
#include <stddef.h>

struct tw_paths {
    char **v;
    size_t n, cap;
};

/* Files as given; directories searched recursively for *.pkt, sorted. */
int tw_paths_collect(const char *cmd, char **args, int n, struct tw_paths *out);
int tw_paths_add(struct tw_paths *p, const char *s);
void tw_paths_free(struct tw_paths *p);

/* conformance/requirements.tsv: id, rfc_section, level, observable,
 * summary, reason (tab-separated, one header line). */
struct tw_requirement {
    char *id, *section, *level, *summary, *reason;
    bool observable;
};

struct tw_reqlist {
    struct tw_requirement *v;
    size_t n, cap;
};

/* 0, or -1 with errno set (or EINVAL and *bad_line for a malformed line). */
int tw_reqlist_load(const char *file, struct tw_reqlist *out, int *bad_line);
const struct tw_requirement *tw_reqlist_get(const struct tw_reqlist *l, const char *id);
void tw_reqlist_free(struct tw_reqlist *l);
/* conformance/requirements.tsv above a case path, in its repository. */
bool tw_reqlist_find_file(const char *path, char *out, size_t cap);

#endif
