/* A C function for wasmtask: deploy it with language "c".
 * It greets ?name=, logs, and echoes the request method. */
#include "wasmtask.h"

void handle(const char *request) {
    char name[64] = "world";
    char method[16] = "";
    wt_json_string(request, "query.name", name, sizeof name);
    wt_json_string(request, "method", method, sizeof method);
    wt_logf(WT_INFO, "hello from C, %s", name);

    wt_buf out = {0};
    wt_buf_puts(&out, "{\"hello\":");
    wt_buf_json_string(&out, name);
    wt_buf_puts(&out, ",\"method\":");
    wt_buf_json_string(&out, method);
    wt_buf_puts(&out, ",\"language\":\"c\"}");
    wt_return_json(out.data);
}
