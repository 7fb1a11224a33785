/*
 * WHATWG URL parsing for the JS runtime: ada (https://github.com/ada-url/ada,
 * Apache-2.0/MIT), compiled from the PyPI ada-url sdist by toolchains/jsrt.py,
 * behind three natives. Included by shim.c after encoding.c (it reuses its
 * UTF-8 encoder, so lone surrogates reach ada as U+FFFD, as USVString says).
 *
 * No URL object lives on the C side: a parse or a setter answers with the
 * serialization and ada's component offsets, and the prelude (60-url.js) keeps
 * those and slices the getters out of them. A setter parses the href again
 * (a URL's href always parses to itself), so nothing needs freeing later.
 */
#include "ada_c.h"

static void *url_nfc_realloc(void *opaque, void *ptr, size_t size) {
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    return realloc(ptr, size);
}

/* ada's IDNA normalization, answered by QuickJS's libunicode (toolchains/url_parser.py
 * swaps ada's own, and its tables, for this): NFC of `length` code points into a
 * malloc'd `*normalized` (the caller frees it); the length, or -1 out of memory */
int wasmtask_nfc(const uint32_t *source, size_t length, uint32_t **normalized) {
    *normalized = NULL;
    if (length == 0)
        return 0;
    if (length > INT32_MAX / 4)
        return -1;
    return unicode_normalize(normalized, source, (int)length, UNICODE_NFC, NULL, url_nfc_realloc);
}

enum { URL_SET_HREF, URL_SET_PROTOCOL, URL_SET_USERNAME, URL_SET_PASSWORD, URL_SET_HOST, URL_SET_HOSTNAME,
       URL_SET_PORT, URL_SET_PATHNAME, URL_SET_SEARCH, URL_SET_HASH };

/* a JS value as NUL-terminated UTF-8 (USVString: lone surrogates -> U+FFFD); free with js_free */
static char *url_usv_utf8(JSContext *ctx, JSValueConst value, size_t *len) {
    JSValue str = JS_ToString(ctx, value);
    if (JS_IsException(str))
        return NULL;
    JSString *p = JS_VALUE_GET_STRING(str);
    size_t size = utf8_length(p);
    char *out = js_malloc(ctx, size + 1);
    if (out) {
        uint32_t index = 0;
        utf8_encode_units(p, &index, (uint8_t *)out, size);
        out[size] = 0;
        *len = size;
    }
    JS_FreeValue(ctx, str);
    return out;
}

/* [href, protocol_end, username_end, host_start, host_end, port, pathname_start,
 *  search_start, hash_start] (an omitted offset is -1), or null for an invalid URL */
static JSValue url_record(JSContext *ctx, ada_url url) {
    if (!ada_is_valid(url))
        return JS_NULL;
    ada_string href = ada_get_href(url);
    const ada_url_components *c = ada_get_components(url);
    uint32_t offsets[8] = { c->protocol_end, c->username_end, c->host_start, c->host_end, c->port,
                            c->pathname_start, c->search_start, c->hash_start };
    JSValue record = JS_NewArray(ctx);
    if (JS_IsException(record))
        return record;
    JS_SetPropertyUint32(ctx, record, 0, JS_NewStringLen(ctx, href.data, href.length));
    for (int i = 0; i < 8; i++)
        JS_SetPropertyUint32(ctx, record, i + 1,
                             offsets[i] == ada_url_omitted ? JS_NewInt32(ctx, -1) : JS_NewUint32(ctx, offsets[i]));
    return record;
}

/* urlParse(input, base?) -> record or null */
static JSValue native_url_parse(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t input_len, base_len = 0;
    char *base = NULL;
    char *input = url_usv_utf8(ctx, argc > 0 ? argv[0] : JS_UNDEFINED, &input_len);
    if (!input)
        return JS_EXCEPTION;
    if (argc > 1 && !JS_IsUndefined(argv[1])) {
        base = url_usv_utf8(ctx, argv[1], &base_len);
        if (!base) {
            js_free(ctx, input);
            return JS_EXCEPTION;
        }
    }
    ada_url url = base ? ada_parse_with_base(input, input_len, base, base_len) : ada_parse(input, input_len);
    js_free(ctx, input);
    js_free(ctx, base);
    JSValue record = url_record(ctx, url);
    ada_free(url);
    return record;
}

/* urlSet(href, which, value) -> the new record, or null when the setter changed nothing */
static JSValue native_url_set(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t href_len, value_len;
    int32_t which;
    if (argc < 3 || JS_ToInt32(ctx, &which, argv[1]))
        return JS_ThrowTypeError(ctx, "urlSet: bad arguments");
    char *href = url_usv_utf8(ctx, argv[0], &href_len);
    if (!href)
        return JS_EXCEPTION;
    char *value = url_usv_utf8(ctx, argv[2], &value_len);
    if (!value) {
        js_free(ctx, href);
        return JS_EXCEPTION;
    }
    ada_url url = ada_parse(href, href_len);
    js_free(ctx, href);
    bool changed = true;
    if (ada_is_valid(url)) {
        switch (which) {
        case URL_SET_HREF: changed = ada_set_href(url, value, value_len); break;
        case URL_SET_PROTOCOL: changed = ada_set_protocol(url, value, value_len); break;
        case URL_SET_USERNAME: changed = ada_set_username(url, value, value_len); break;
        case URL_SET_PASSWORD: changed = ada_set_password(url, value, value_len); break;
        case URL_SET_HOST: changed = ada_set_host(url, value, value_len); break;
        case URL_SET_HOSTNAME: changed = ada_set_hostname(url, value, value_len); break;
        case URL_SET_PORT:
            if (value_len == 0) ada_clear_port(url);
            else changed = ada_set_port(url, value, value_len);
            break;
        case URL_SET_PATHNAME: changed = ada_set_pathname(url, value, value_len); break;
        case URL_SET_SEARCH: ada_set_search(url, value, value_len); break;
        case URL_SET_HASH: ada_set_hash(url, value, value_len); break;
        default: changed = false;
        }
    }
    js_free(ctx, value);
    JSValue record = changed ? url_record(ctx, url) : JS_NULL;
    ada_free(url);
    return record;
}
