/* `threeway diagram`: the transition table (TW_ROWS) drawn as Graphviz.
 * The same table drives take() in tcb.c, so the picture cannot drift.
 * State changes are drawn one edge per row, labelled "id: what"; the rows
 * that keep a state are gathered into one loop per state, labelled with
 * their ids (each row's meaning is in tcp.h and `threeway coverage`). */
#include <stdio.h>
#include <string.h>

#include "tcp.h"

void tw_diagram(void (*put)(void *ctx, const char *text), void *ctx)
{
    char line[512];
    put(ctx, "digraph threeway {\n"
             "  rankdir=TB; nodesep=0.6; ranksep=0.9;\n"
             "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", fontname=\"Helvetica\"];\n"
             "  edge [fontname=\"Helvetica\", fontsize=9];\n"
             "  labelloc=t; label=\"threeway: RFC 9293 connection establishment (rows of TW_ROWS)\";\n");
    for (int s = 0; s < TW_STATE__COUNT; s++) {
        snprintf(line, sizeof(line), "  \"%s\";\n", tw_state_name((enum tw_state)s));
        put(ctx, line);
    }
    put(ctx, "  { rank=same; \"SYN-SENT\"; \"LISTEN\"; }\n"
             "  { rank=same; \"FIN-WAIT-1\"; \"CLOSE-WAIT\"; }\n");
    for (int r = 0; r < TW_ROW__COUNT; r++) {
        const struct tw_row_info *row = &tw_rows[r];
        if (row->from == row->to)
            continue;
        snprintf(line, sizeof(line), "  \"%s\" -> \"%s\" [label=\"%s: %s\\n%s\"];\n",
                 tw_state_name(row->from), tw_state_name(row->to), row->id, tw_event_name(row->event),
                 row->what);
        put(ctx, line);
    }
    for (int s = 0; s < TW_STATE__COUNT; s++) {
        char ids[256] = "";
        size_t n = 0, on_line = 0;
        for (int r = 0; r < TW_ROW__COUNT; r++) {
            if (tw_rows[r].from != (enum tw_state)s || tw_rows[r].to != (enum tw_state)s)
                continue;
            int w = snprintf(ids + n, sizeof(ids) - n, "%s%s", on_line == 0 ? "" : on_line % 6 ? " " : "\\n",
                             tw_rows[r].id);
            if (w < 0 || (size_t)w >= sizeof(ids) - n)
                break;
            n += (size_t)w;
            on_line++;
        }
        if (!n)
            continue;
        snprintf(line, sizeof(line), "  \"%s\" -> \"%s\" [label=\"%s\", color=gray40, fontcolor=gray30];\n",
                 tw_state_name((enum tw_state)s), tw_state_name((enum tw_state)s), ids);
        put(ctx, line);
    }
    put(ctx, "}\n");
}
