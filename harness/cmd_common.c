/* See cmd_common.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_common.h"

int tw_paths_add(struct tw_paths *p, const char *s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        char **v = realloc(p->v, cap * sizeof(*v));
        if (!v)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n] = strdup(s);
    if (!p->v[p->n])
        return -1;
    p->n++;
    return 0;
}

void tw_paths_free(struct tw_paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    memset(p, 0, sizeof(*p));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int walk_dir(const char *cmd, const char *dir, struct tw_paths *out)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d) {
        fprintf(stderr, "threeway %s: %s: %s\n", cmd, dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        char path[PATH_MAX];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s%s%s", dir, ends_with(dir, "/") ? "" : "/",
                             de->d_name) >= sizeof(path)) {
            fprintf(stderr, "threeway %s: path too long under %s\n", cmd, dir);
            closedir(d);
            return -1;
        }
        if (stat(path, &st))
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (walk_dir(cmd, path, out)) {
                closedir(d);
                return -1;
            }
        } else if (S_ISREG(st.st_mode) && ends_with(de->d_name, ".pkt")) {
            if (tw_paths_add(out, path)) {
                fprintf(stderr, "threeway %s: out of memory\n", cmd);
                closedir(d);
                return -1;
            }
        }
    }
    closedir(d);
    return 0;
}

int tw_paths_collect(const char *cmd, char **args, int n, struct tw_paths *out)
{
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(args[i], &st)) {
            fprintf(stderr, "threeway %s: %s: %s\n", cmd, args[i], strerror(errno));
            return -1;
        }
        if (S_ISDIR(st.st_mode)) {
            size_t first = out->n;
            if (walk_dir(cmd, args[i], out))
                return -1;
            qsort(out->v + first, out->n - first, sizeof(char *), cmp_str);
        } else if (tw_paths_add(out, args[i])) {
            fprintf(stderr, "threeway %s: out of memory\n", cmd);
            return -1;
        }
    }
    return 0;
}

/* ---- the requirement list --------------------------------------------------- */

static char *field(char **cursor)
{
    char *start = *cursor;
    if (!start)
        return NULL;
    char *tab = strchr(start, '\t');
    if (tab) {
        *tab = '\0';
        *cursor = tab + 1;
    } else {
        *cursor = NULL;
    }
    return start;
}

int tw_reqlist_load(const char *file, struct tw_reqlist *out, int *bad_line)
{
    FILE *f = fopen(file, "r");
    char line[4096];
    int lineno = 0;
    *bad_line = 0;
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        char *cur = line, *fv[6];
        for (int k = 0; k < 6; k++)
            fv[k] = field(&cur);
        if (!strcmp(fv[0], "id"))
            continue; /* the header */
        if (!fv[4] || cur || (strcmp(fv[3], "yes") && strcmp(fv[3], "no"))) {
            *bad_line = lineno;
            fclose(f);
            errno = EINVAL;
            return -1;
        }
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 128;
            struct tw_requirement *v = realloc(out->v, cap * sizeof(*v));
            if (!v) {
                fclose(f);
                errno = ENOMEM;
                return -1;
            }
            out->v = v;
            out->cap = cap;
        }
        struct tw_requirement *r = &out->v[out->n];
        r->id = strdup(fv[0]);
        r->section = strdup(fv[1]);
        r->level = strdup(fv[2]);
        r->observable = !strcmp(fv[3], "yes");
        r->summary = strdup(fv[4]);
        r->reason = strdup(fv[5] ? fv[5] : "");
        out->n++;
        if (!r->id || !r->section || !r->level || !r->summary || !r->reason) {
            fclose(f);
            errno = ENOMEM;
            return -1;
        }
    }
    fclose(f);
    return 0;
}

const struct tw_requirement *tw_reqlist_get(const struct tw_reqlist *l, const char *id)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].id, id))
            return &l->v[i];
    return NULL;
}

void tw_reqlist_free(struct tw_reqlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].id);
        free(l->v[i].section);
        free(l->v[i].level);
        free(l->v[i].summary);
        free(l->v[i].reason);
    }
    free(l->v);
    memset(l, 0, sizeof(*l));
}

bool tw_reqlist_find_file(const char *path, char *out, size_t cap)
{
    char dir[PATH_MAX];
    struct stat st;
    if (!realpath(path, dir))
        return false;
    if (!stat(dir, &st) && !S_ISDIR(st.st_mode)) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
    }
    for (;;) {
        const char *base = strrchr(dir, '/');
        base = base ? base + 1 : dir;
        if (!strcmp(base, "conformance") &&
            (size_t)snprintf(out, cap, "%s/requirements.tsv", dir) < cap && !access(out, R_OK))
            return true;
        if ((size_t)snprintf(out, cap, "%s/conformance/requirements.tsv", dir) < cap && !access(out, R_OK))
            return true;
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return false;
        *slash = '\0';
    }
}
