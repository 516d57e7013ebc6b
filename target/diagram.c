/* `threeway diagram`: the transition table (TW_ROWS) drawn as Graphviz.
 * The same table drives take() in tcb.c, so the picture cannot drift. */
#include <stdio.h>

#include "tcp.h"

void tw_diagram(void (*put)(void *ctx, const char *text), void *ctx)
{
    char line[256];
    put(ctx, "digraph threeway {\n"
             "  rankdir=TB;\n"
             "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
             "  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (int s = 0; s < TW_STATE__COUNT; s++) {
        snprintf(line, sizeof(line), "  \"%s\";\n", tw_state_name((enum tw_state)s));
        put(ctx, line);
    }
    for (int r = 0; r < TW_ROW__COUNT; r++) {
        const struct tw_row_info *row = &tw_rows[r];
        snprintf(line, sizeof(line), "  \"%s\" -> \"%s\" [label=\"%s %s: %s\"];\n",
                 tw_state_name(row->from), tw_state_name(row->to), row->id,
                 tw_event_name(row->event), row->what);
        put(ctx, line);
    }
    put(ctx, "}\n");
}
