/* wasmtask C SDK: write `void handle(const char *request)`, wasmtask does the rest.
 *
 * The guest ABI (guest_sdk/ABI.md) in a few functions: read the request JSON,
 * log, fetch, and return a JSON value, an HTTP response or an error. Built with
 * `zig cc -target wasm32-wasi -mexec-model=reactor` together with wasmtask.c;
 * wasmtask builds it for you when you deploy C source (language "c").
 *
 *     #include "wasmtask.h"
 *
 *     void handle(const char *request) {
 *         char name[64] = "world";
 *         wt_json_string(request, "query.name", name, sizeof name);
 *         wt_logf(WT_INFO, "greeting %s", name);
 *         wt_buf out = {0};
 *         wt_buf_puts(&out, "{\"hello\":");
 *         wt_buf_json_string(&out, name);
 *         wt_buf_puts(&out, "}");
 *         wt_return_json(out.data);
 *     }
 *
 * Memory: everything lives until the request ends (the host drops the whole
 * instance), so freeing is optional. malloc returns NULL at the memory limit;
 * a handler that then reports wt_error (or whose result could not be built)
 * ends the call with the code `memory_limit`.
 */
#ifndef WASMTASK_H
#define WASMTASK_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Log levels of wt_log. */
enum { WT_DEBUG = 0, WT_INFO = 1, WT_WARN = 2, WT_ERROR = 3 };

/* You write this. `request` is the request JSON, NUL-terminated (ABI.md:
 * method, url, path, query, headers, body, secrets, env, meta, request_id). */
void handle(const char *request);

/* ---- reading JSON ----------------------------------------------------------
 * A path is a dotted list of object keys and array indexes: "method",
 * "query.name", "headers.content-type", "headers.0.1". */

/* The raw JSON text of the value at `path` (not NUL-terminated): 1 if found. */
int wt_json_find(const char *json, const char *path, const char **value, size_t *value_length);

/* The string at `path`, decoded into `out` (always NUL-terminated when cap > 0).
 * Returns the decoded length (more than cap - 1 when truncated), or -1 when the
 * value is missing or not a string. */
long wt_json_string(const char *json, const char *path, char *out, size_t cap);

/* The number at `path` into *out: 1 if found and a number. */
int wt_json_number(const char *json, const char *path, double *out);

/* ---- building text ---------------------------------------------------------
 * A growable NUL-terminated buffer. Start with `wt_buf b = {0};`. On an
 * allocation failure `failed` is set and later appends are ignored. */
typedef struct {
    char *data;
    size_t length;
    size_t capacity;
    int failed;
} wt_buf;

void wt_buf_append(wt_buf *buf, const char *bytes, size_t length);
void wt_buf_puts(wt_buf *buf, const char *text);
void wt_buf_printf(wt_buf *buf, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* `text` as a JSON string literal, quotes included. */
void wt_buf_json_string(wt_buf *buf, const char *text);
void wt_buf_free(wt_buf *buf);

/* ---- logging (each call is one line on the tenant's log stream) ---------- */
void wt_log(int level, const char *message);
void wt_logf(int level, const char *format, ...) __attribute__((format(printf, 2, 3)));
/* printf/puts to stdout or stderr also become log lines (info/error). */

/* ---- fetch -------------------------------------------------------------------
 * `request_json` is the fetch JSON of ABI.md: {"url", "method", "headers":
 * [[name, value]], "body"}. Returns the response JSON (malloc'd, NUL-terminated:
 * {"ok": true, "status", "headers", "body"} or {"ok": false, "error": {...}}),
 * or NULL when out of memory. */
char *wt_fetch(const char *request_json);
/* A GET of `url`. */
char *wt_fetch_get(const char *url);

/* ---- storage -----------------------------------------------------------------
 * One operation on the function's document or KV namespace: `request_json` is the
 * storage JSON of ABI.md ({"op": "storage.get"}, {"op": "kv.put", "key", "value"}, ...).
 * Returns the answer JSON (malloc'd, NUL-terminated: {"ok": true, ...} or
 * {"ok": false, "error": {"code", "message"}}), or NULL when out of memory. */
char *wt_storage(const char *request_json);

/* ---- the result (the last call wins; no call: a JSON null) ---------------- */
void wt_return_json(const char *json_value);  /* any JSON value, as text */
void wt_return_text(const char *text);        /* a JSON string value */
void wt_return_response(int status, const char *content_type, const char *body);
void wt_error(const char *message);           /* code guest_error */
void wt_error_code(const char *code, const char *message);

#ifdef __cplusplus
}
#endif

#endif /* WASMTASK_H */
