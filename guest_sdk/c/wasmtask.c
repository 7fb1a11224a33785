/* wasmtask C SDK: the ABI exports (wasmtask_alloc, wasmtask_handle) around the
 * guest's `handle`, and the helpers of wasmtask.h. See guest_sdk/ABI.md. */
#include "wasmtask.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WT_IMPORT(name) __attribute__((import_module("wasmtask"), import_name(name)))
#define WT_EXPORT(name) __attribute__((export_name(name)))

WT_IMPORT("log") void wasmtask_log(int level, const char *ptr, size_t length);
WT_IMPORT("fetch") int wasmtask_fetch(const char *ptr, size_t length);
WT_IMPORT("storage") int wasmtask_storage(const char *ptr, size_t length);
WT_IMPORT("staged_read") int wasmtask_staged_read(char *ptr, size_t length);

/* The response JSON of this call, and what the handler reported. */
static wt_buf reply;
static int has_result;
static int reported_guest_error;

static const char NULL_RESULT[] = "{\"ok\":true,\"result\":{\"type\":\"json\",\"value\":null}}";
static const char OUT_OF_MEMORY[] =
    "{\"ok\":false,\"error\":{\"code\":\"memory_limit\",\"message\":\"the guest ran out of memory (memory limit)\"}}";

/* ---- the ABI exports ---------------------------------------------------------- */

WT_EXPORT("wasmtask_alloc") void *wasmtask_alloc(size_t length) { return malloc(length ? length : 1); }

static uint64_t pack(const char *ptr, size_t length) { return ((uint64_t)(uintptr_t)ptr << 32) | (uint32_t)length; }

WT_EXPORT("wasmtask_handle") uint64_t wasmtask_handle(const char *request, size_t length) {
    (void)length; /* the host NUL-terminates the request */
    wt_buf_free(&reply);
    has_result = 0;
    reported_guest_error = 0;
    errno = 0;
    handle(request);
    /* malloc failed during the call (errno is sticky) and the handler then failed: the limit did it */
    if ((reported_guest_error || reply.failed) && errno == ENOMEM) return pack(OUT_OF_MEMORY, sizeof OUT_OF_MEMORY - 1);
    if (reply.failed) return pack(OUT_OF_MEMORY, sizeof OUT_OF_MEMORY - 1);
    if (!has_result) return pack(NULL_RESULT, sizeof NULL_RESULT - 1);
    return pack(reply.data, reply.length);
}

/* ---- building text ---------------------------------------------------------------- */

static int buf_reserve(wt_buf *buf, size_t extra) {
    if (buf->failed) return 0;
    size_t needed = buf->length + extra + 1;
    if (needed <= buf->capacity) return 1;
    size_t capacity = buf->capacity ? buf->capacity : 64;
    while (capacity < needed) capacity *= 2;
    char *data = realloc(buf->data, capacity);
    if (!data) {
        buf->failed = 1;
        return 0;
    }
    buf->data = data;
    buf->capacity = capacity;
    return 1;
}

void wt_buf_append(wt_buf *buf, const char *bytes, size_t length) {
    if (!buf_reserve(buf, length)) return;
    memcpy(buf->data + buf->length, bytes, length);
    buf->length += length;
    buf->data[buf->length] = '\0';
}

void wt_buf_puts(wt_buf *buf, const char *text) { wt_buf_append(buf, text, strlen(text)); }

static void buf_vprintf(wt_buf *buf, const char *format, va_list args) {
    va_list copy;
    va_copy(copy, args);
    int needed = vsnprintf(NULL, 0, format, copy);
    va_end(copy);
    if (needed < 0 || !buf_reserve(buf, (size_t)needed)) return;
    vsnprintf(buf->data + buf->length, (size_t)needed + 1, format, args);
    buf->length += (size_t)needed;
}

void wt_buf_printf(wt_buf *buf, const char *format, ...) {
    va_list args;
    va_start(args, format);
    buf_vprintf(buf, format, args);
    va_end(args);
}

void wt_buf_json_string(wt_buf *buf, const char *text) {
    static const char hex[] = "0123456789abcdef";
    wt_buf_append(buf, "\"", 1);
    const char *run = text;
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        wt_buf_append(buf, run, (size_t)(p - run));
        char escaped[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
        switch (c) {
            case '"': wt_buf_append(buf, "\\\"", 2); break;
            case '\\': wt_buf_append(buf, "\\\\", 2); break;
            case '\n': wt_buf_append(buf, "\\n", 2); break;
            case '\r': wt_buf_append(buf, "\\r", 2); break;
            case '\t': wt_buf_append(buf, "\\t", 2); break;
            default: wt_buf_append(buf, escaped, 6);
        }
        run = p + 1;
    }
    wt_buf_append(buf, run, strlen(run));
    wt_buf_append(buf, "\"", 1);
}

void wt_buf_free(wt_buf *buf) {
    free(buf->data);
    buf->data = NULL;
    buf->length = buf->capacity = 0;
    buf->failed = 0;
}

/* ---- reading JSON ------------------------------------------------------------------ */

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* p at the opening quote; returns just past the closing quote, or NULL. */
static const char *skip_string(const char *p) {
    for (p++; *p && *p != '"'; p++) {
        if (*p == '\\' && p[1]) p++;
    }
    return *p ? p + 1 : NULL;
}

/* p at a value; returns just past it, or NULL when the JSON is cut short. */
static const char *skip_value(const char *p) {
    p = skip_space(p);
    if (*p == '"') return skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p) {
            if (*p == '"') {
                p = skip_string(p);
                if (!p) return NULL;
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
            p++;
        }
        return NULL;
    }
    const char *start = p;
    while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t') p++;
    return p > start ? p : NULL;
}

static size_t put_utf8(char *out, unsigned long code) {
    if (code < 0x80) { out[0] = (char)code; return 1; }
    if (code < 0x800) { out[0] = (char)(0xC0 | code >> 6); out[1] = (char)(0x80 | (code & 0x3F)); return 2; }
    if (code < 0x10000) {
        out[0] = (char)(0xE0 | code >> 12); out[1] = (char)(0x80 | ((code >> 6) & 0x3F));
        out[2] = (char)(0x80 | (code & 0x3F)); return 3;
    }
    out[0] = (char)(0xF0 | code >> 18); out[1] = (char)(0x80 | ((code >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((code >> 6) & 0x3F)); out[3] = (char)(0x80 | (code & 0x3F)); return 4;
}

static long hex4(const char *p) {
    long value = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (digit < 0) return -1;
        value = value * 16 + digit;
    }
    return value;
}

/* Decode the JSON string at p (its opening quote) into out[0..cap); returns the
 * full decoded length, or -1 when malformed. */
static long decode_string(const char *p, char *out, size_t cap) {
    size_t length = 0;
    char unit[4];
    for (p++; *p != '"'; p++) {
        size_t n = 1;
        unit[0] = *p;
        if (!*p) return -1;
        if (*p == '\\') {
            p++;
            switch (*p) {
                case 'n': unit[0] = '\n'; break;
                case 't': unit[0] = '\t'; break;
                case 'r': unit[0] = '\r'; break;
                case 'b': unit[0] = '\b'; break;
                case 'f': unit[0] = '\f'; break;
                case '"': case '\\': case '/': unit[0] = *p; break;
                case 'u': {
                    long code = hex4(p + 1);
                    if (code < 0) return -1;
                    p += 4;
                    if (code >= 0xD800 && code < 0xDC00 && p[1] == '\\' && p[2] == 'u') {
                        long low = hex4(p + 3);
                        if (low >= 0xDC00 && low < 0xE000) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                            p += 6;
                        }
                    }
                    n = put_utf8(unit, (unsigned long)code);
                    break;
                }
                default: return -1;
            }
        }
        for (size_t i = 0; i < n; i++, length++) {
            if (length + 1 < cap) out[length] = unit[i];
        }
    }
    if (cap) out[length < cap ? length : cap - 1] = '\0';
    return (long)length;
}

/* In the object or array at p, the value for one path segment (key or index). */
static const char *member(const char *p, const char *segment, size_t segment_length) {
    p = skip_space(p);
    if (*p == '[') {
        char *end;
        char digits[24];
        if (segment_length == 0 || segment_length >= sizeof digits) return NULL;
        memcpy(digits, segment, segment_length);
        digits[segment_length] = '\0';
        long index = strtol(digits, &end, 10);
        if (*end || index < 0) return NULL;
        p = skip_space(p + 1);
        for (long i = 0; *p && *p != ']'; i++) {
            if (i == index) return p;
            p = skip_value(p);
            if (!p) return NULL;
            p = skip_space(p);
            if (*p == ',') p = skip_space(p + 1);
        }
        return NULL;
    }
    if (*p != '{') return NULL;
    p = skip_space(p + 1);
    char key[256];
    while (*p == '"') {
        long key_length = decode_string(p, key, sizeof key);
        p = skip_string(p);
        if (!p || key_length < 0) return NULL;
        p = skip_space(p);
        if (*p != ':') return NULL;
        p = skip_space(p + 1);
        if ((size_t)key_length == segment_length && key_length < (long)sizeof key && memcmp(key, segment, segment_length) == 0) return p;
        p = skip_value(p);
        if (!p) return NULL;
        p = skip_space(p);
        if (*p == ',') p = skip_space(p + 1);
    }
    return NULL;
}

int wt_json_find(const char *json, const char *path, const char **value, size_t *value_length) {
    const char *p = json;
    while (p && *path) {
        const char *dot = strchr(path, '.');
        size_t length = dot ? (size_t)(dot - path) : strlen(path);
        p = member(p, path, length);
        path += length + (dot ? 1 : 0);
    }
    if (!p) return 0;
    p = skip_space(p);
    const char *end = skip_value(p);
    if (!end) return 0;
    if (value) *value = p;
    if (value_length) *value_length = (size_t)(end - p);
    return 1;
}

long wt_json_string(const char *json, const char *path, char *out, size_t cap) {
    const char *value;
    if (!wt_json_find(json, path, &value, NULL) || *value != '"') return -1;
    return decode_string(value, out, cap);
}

int wt_json_number(const char *json, const char *path, double *out) {
    const char *value;
    char *end;
    if (!wt_json_find(json, path, &value, NULL)) return 0;
    double number = strtod(value, &end);
    if (end == value) return 0;
    *out = number;
    return 1;
}

/* ---- logging and fetch --------------------------------------------------------------- */

void wt_log(int level, const char *message) { wasmtask_log(level, message, strlen(message)); }

void wt_logf(int level, const char *format, ...) {
    wt_buf line = {0};
    va_list args;
    va_start(args, format);
    buf_vprintf(&line, format, args);
    va_end(args);
    if (line.data) wasmtask_log(level, line.data, line.length);
    wt_buf_free(&line);
}

char *wt_fetch(const char *request_json) {
    int length = wasmtask_fetch(request_json, strlen(request_json));
    if (length < 0) return strdup("{\"ok\":false,\"error\":{\"code\":\"fetch_failed\",\"message\":\"fetch is unavailable\"}}");
    char *response = malloc((size_t)length + 1);
    if (!response) return NULL;
    int copied = wasmtask_staged_read(response, (size_t)length);
    response[copied > 0 ? copied : 0] = '\0';
    return response;
}

char *wt_storage(const char *request_json) {
    int length = wasmtask_storage(request_json, strlen(request_json));
    if (length < 0) return strdup("{\"ok\":false,\"error\":{\"code\":\"storage_unavailable\",\"message\":\"no call\"}}");
    char *answer = malloc((size_t)length + 1);
    if (!answer) return NULL;
    int copied = wasmtask_staged_read(answer, (size_t)length);
    answer[copied > 0 ? copied : 0] = '\0';
    return answer;
}

char *wt_fetch_get(const char *url) {
    wt_buf request = {0};
    wt_buf_puts(&request, "{\"method\":\"GET\",\"url\":");
    wt_buf_json_string(&request, url);
    wt_buf_puts(&request, "}");
    char *response = request.failed ? NULL : wt_fetch(request.data);
    wt_buf_free(&request);
    return response;
}

/* ---- the result ------------------------------------------------------------------------ */

static void begin_reply(void) {
    wt_buf_free(&reply);
    has_result = 1;
    reported_guest_error = 0;
}

void wt_return_json(const char *json_value) {
    begin_reply();
    wt_buf_puts(&reply, "{\"ok\":true,\"result\":{\"type\":\"json\",\"value\":");
    wt_buf_puts(&reply, json_value && *json_value ? json_value : "null");
    wt_buf_puts(&reply, "}}");
}

void wt_return_text(const char *text) {
    begin_reply();
    wt_buf_puts(&reply, "{\"ok\":true,\"result\":{\"type\":\"json\",\"value\":");
    wt_buf_json_string(&reply, text ? text : "");
    wt_buf_puts(&reply, "}}");
}

void wt_return_response(int status, const char *content_type, const char *body) {
    begin_reply();
    wt_buf_printf(&reply, "{\"ok\":true,\"result\":{\"type\":\"response\",\"status\":%d,\"headers\":[", status);
    if (content_type) {
        wt_buf_puts(&reply, "[\"content-type\",");
        wt_buf_json_string(&reply, content_type);
        wt_buf_puts(&reply, "]");
    }
    wt_buf_puts(&reply, "],\"body\":");
    wt_buf_json_string(&reply, body ? body : "");
    wt_buf_puts(&reply, "}}");
}

void wt_error_code(const char *code, const char *message) {
    begin_reply();
    reported_guest_error = code == NULL || strcmp(code, "guest_error") == 0;
    wt_buf_puts(&reply, "{\"ok\":false,\"error\":{\"code\":");
    wt_buf_json_string(&reply, code ? code : "guest_error");
    wt_buf_puts(&reply, ",\"message\":");
    wt_buf_json_string(&reply, message ? message : "");
    wt_buf_puts(&reply, "}}");
}

void wt_error(const char *message) { wt_error_code("guest_error", message); }
