/*
 * WHATWG Encoding standard for the JS runtime: every decoder of the standard,
 * the UTF-8 encoder (lone surrogates become U+FFFD), and the label lookup.
 * Included by shim.c after quickjs.c: it builds strings with QuickJS's
 * StringBuffer and reads JSString contents directly.
 *
 * The index tables are generated at build time (toolchains/encoding_tables.py);
 * the multi-byte ones are fill functions run on first use in a call, so they
 * are not part of any snapshot (see that module's docstring for the numbers).
 *
 * Streaming: a decoder that reaches the end of its input inside a sequence that
 * may still complete stops there and reports how many bytes it used; the caller
 * (prelude 20-encoding.js) keeps the rest and puts it in front of the next
 * chunk. Decoding the chunks so equals decoding their concatenation, which is
 * how the standard defines streaming. iso-2022-jp also keeps its mode in
 * `state` between chunks.
 */
#include "encoding_tables.h"

/* ---- index tables, filled on first use ------------------------------------- */

static uint16_t *index_big5, *index_euc_kr, *index_gb18030, *index_jis0208, *index_jis0212;
static uint64_t *index_big5_plane2;

static void *table_alloc(size_t count16) {
    return calloc((count16 + 3) / 4, sizeof(uint64_t));
}

/* each returns false when memory is short (the caller throws) */
#define DEFINE_INDEX_LOADER(name, NAME)                              \
    static bool load_##name(void) {                                  \
        if (!name) {                                                 \
            uint16_t *t = table_alloc(NAME##_SIZE);                  \
            if (!t) return false;                                    \
            fill_##name((uint64_t *)t);                              \
            name = t;                                                \
        }                                                            \
        return true;                                                 \
    }
DEFINE_INDEX_LOADER(index_euc_kr, INDEX_EUC_KR)
DEFINE_INDEX_LOADER(index_gb18030, INDEX_GB18030)
DEFINE_INDEX_LOADER(index_jis0208, INDEX_JIS0208)
DEFINE_INDEX_LOADER(index_jis0212, INDEX_JIS0212)

static bool load_index_big5(void) {
    if (!index_big5) {
        uint64_t *bits = calloc(INDEX_BIG5_PLANE2_WORDS, sizeof(uint64_t));
        uint16_t *t = table_alloc(INDEX_BIG5_SIZE);
        if (!bits || !t) {
            free(bits);
            free(t);
            return false;
        }
        fill_index_big5_plane2(bits);
        fill_index_big5((uint64_t *)t);
        index_big5_plane2 = bits;
        index_big5 = t;
    }
    return true;
}

static bool load_indexes_for(int id) {
    switch (id) {
    case ENC_GBK: case ENC_GB18030: return load_index_gb18030();
    case ENC_BIG5: return load_index_big5();
    case ENC_EUC_JP: return load_index_jis0208() && load_index_jis0212();
    case ENC_ISO_2022_JP: case ENC_SHIFT_JIS: return load_index_jis0208();
    case ENC_EUC_KR: return load_index_euc_kr();
    default: return true;
    }
}

/* 0: no code point */
static uint32_t big5_code_point(uint32_t pointer) {
    if (pointer >= INDEX_BIG5_SIZE || !index_big5[pointer])
        return 0;
    uint32_t cp = index_big5[pointer];
    if (index_big5_plane2[pointer / 64] >> (pointer % 64) & 1)
        cp += 0x20000;
    return cp;
}

static uint32_t gb18030_ranges_code_point(uint32_t pointer) {
    if ((pointer > 39419 && pointer < 189000) || pointer > 1237575)
        return 0;
    if (pointer >= 189000)
        return 0x10000 + pointer - 189000;
    if (pointer == 7457)
        return 0xE7C7;
    size_t lo = 0, hi = sizeof(gb18030_ranges) / sizeof(gb18030_ranges[0]);
    while (hi - lo > 1) { /* the last range whose pointer <= pointer */
        size_t mid = (lo + hi) / 2;
        if (gb18030_ranges[mid][0] <= pointer) lo = mid; else hi = mid;
    }
    return gb18030_ranges[lo][1] + pointer - gb18030_ranges[lo][0];
}

/* ---- decoders ----------------------------------------------------------------- */

typedef struct {
    StringBuffer *out;
    bool fatal;
    bool stream;     /* more input may follow: stop before an unfinished sequence */
    int32_t state;   /* iso-2022-jp's mode between chunks */
    size_t used;     /* bytes consumed */
} Decode;

/* an error: U+FFFD, or stop (-1) in fatal mode */
#define DECODE_ERROR(d) do { if ((d)->fatal) return -1; string_buffer_putc16((d)->out, 0xFFFD); } while (0)
/* input ends inside a sequence: keep it for the next chunk, or it is one error */
#define DECODE_UNFINISHED(d, start) do {                          \
        if ((d)->stream) { (d)->used = (start); return 0; }        \
        DECODE_ERROR(d);                                           \
        (d)->used = n;                                             \
        return 0;                                                  \
    } while (0)

static inline bool is_ascii(uint32_t b) { return b < 0x80; }

static int decode_utf8(Decode *d, const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) {
            string_buffer_putc8(d->out, c);
            i++;
            continue;
        }
        size_t start = i;
        uint32_t cp;
        int need;
        uint8_t lower = 0x80, upper = 0xBF;
        if (c >= 0xC2 && c <= 0xDF) { need = 1; cp = c & 0x1F; }
        else if (c >= 0xE0 && c <= 0xEF) {
            if (c == 0xE0) lower = 0xA0;
            if (c == 0xED) upper = 0x9F;
            need = 2; cp = c & 0xF;
        } else if (c >= 0xF0 && c <= 0xF4) {
            if (c == 0xF0) lower = 0x90;
            if (c == 0xF4) upper = 0x8F;
            need = 3; cp = c & 7;
        } else {
            DECODE_ERROR(d);
            i++;
            continue;
        }
        i++;
        int seen = 0;
        while (seen < need && i < n && s[i] >= lower && s[i] <= upper) {
            cp = (cp << 6) | (s[i] & 0x3F);
            lower = 0x80; upper = 0xBF;
            i++;
            seen++;
        }
        if (seen == need) {
            string_buffer_putc(d->out, cp);
        } else if (i == n) {
            DECODE_UNFINISHED(d, start);
        } else {
            DECODE_ERROR(d); /* the offending byte is read again */
        }
    }
    d->used = n;
    return 0;
}

static int decode_utf16(Decode *d, const uint8_t *s, size_t n, bool big_endian) {
    size_t i = 0;
    while (i < n) {
        if (i + 1 >= n)
            DECODE_UNFINISHED(d, i);
        uint32_t unit = big_endian ? (uint32_t)s[i] << 8 | s[i + 1] : (uint32_t)s[i + 1] << 8 | s[i];
        if (unit >= 0xD800 && unit <= 0xDBFF) {
            if (i + 3 >= n)
                DECODE_UNFINISHED(d, i);
            uint32_t next = big_endian ? (uint32_t)s[i + 2] << 8 | s[i + 3] : (uint32_t)s[i + 3] << 8 | s[i + 2];
            if (next >= 0xDC00 && next <= 0xDFFF) {
                string_buffer_putc(d->out, 0x10000 + ((unit - 0xD800) << 10) + (next - 0xDC00));
                i += 4;
            } else {
                DECODE_ERROR(d); /* the next unit is read again */
                i += 2;
            }
        } else if (unit >= 0xDC00 && unit <= 0xDFFF) {
            DECODE_ERROR(d);
            i += 2;
        } else {
            string_buffer_putc16(d->out, unit);
            i += 2;
        }
    }
    d->used = n;
    return 0;
}

static int decode_single_byte(Decode *d, const uint8_t *s, size_t n, const uint16_t *table) {
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i];
        if (c < 0x80) {
            string_buffer_putc8(d->out, c);
        } else if (table[c - 0x80]) {
            string_buffer_putc16(d->out, table[c - 0x80]);
        } else {
            DECODE_ERROR(d);
        }
    }
    d->used = n;
    return 0;
}

static int decode_x_user_defined(Decode *d, const uint8_t *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        string_buffer_putc16(d->out, s[i] < 0x80 ? s[i] : 0xF780 + s[i] - 0x80);
    d->used = n;
    return 0;
}

static int decode_gb18030(Decode *d, const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { string_buffer_putc8(d->out, c); i++; continue; }
        if (c == 0x80) { string_buffer_putc16(d->out, 0x20AC); i++; continue; }
        if (c == 0xFF) { DECODE_ERROR(d); i++; continue; }
        size_t start = i++;
        if (i == n) DECODE_UNFINISHED(d, start);
        uint8_t b = s[i];
        if (b >= 0x30 && b <= 0x39) { /* four bytes */
            i++;
            if (i == n) DECODE_UNFINISHED(d, start);
            uint8_t b3 = s[i];
            if (b3 < 0x81 || b3 > 0xFE) { DECODE_ERROR(d); i = start + 1; continue; }
            i++;
            if (i == n) DECODE_UNFINISHED(d, start);
            uint8_t b4 = s[i];
            if (b4 < 0x30 || b4 > 0x39) { DECODE_ERROR(d); i = start + 1; continue; }
            i++;
            uint32_t pointer = ((uint32_t)(c - 0x81) * 10 * 126 * 10) + ((uint32_t)(b - 0x30) * 10 * 126)
                             + ((uint32_t)(b3 - 0x81) * 10) + (b4 - 0x30);
            uint32_t cp = gb18030_ranges_code_point(pointer);
            if (!cp) { DECODE_ERROR(d); continue; }
            string_buffer_putc(d->out, cp);
            continue;
        }
        uint32_t cp = 0;
        if ((b >= 0x40 && b <= 0x7E) || (b >= 0x80 && b <= 0xFE)) {
            uint32_t pointer = (uint32_t)(c - 0x81) * 190 + (b - (b < 0x7F ? 0x40 : 0x41));
            cp = pointer < INDEX_GB18030_SIZE ? index_gb18030[pointer] : 0;
        }
        if (cp) { string_buffer_putc16(d->out, cp); i++; continue; }
        DECODE_ERROR(d);
        if (!is_ascii(b)) i++; /* an ASCII byte is read again */
    }
    d->used = n;
    return 0;
}

static int decode_big5(Decode *d, const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { string_buffer_putc8(d->out, c); i++; continue; }
        if (c < 0x81 || c > 0xFE) { DECODE_ERROR(d); i++; continue; }
        size_t start = i++;
        if (i == n) DECODE_UNFINISHED(d, start);
        uint8_t b = s[i];
        uint32_t cp = 0;
        if ((b >= 0x40 && b <= 0x7E) || (b >= 0xA1 && b <= 0xFE)) {
            uint32_t pointer = (uint32_t)(c - 0x81) * 157 + (b - (b < 0x7F ? 0x40 : 0x62));
            switch (pointer) { /* two code points each */
            case 1133: string_buffer_putc16(d->out, 0x00CA); cp = 0x0304; break;
            case 1135: string_buffer_putc16(d->out, 0x00CA); cp = 0x030C; break;
            case 1164: string_buffer_putc16(d->out, 0x00EA); cp = 0x0304; break;
            case 1166: string_buffer_putc16(d->out, 0x00EA); cp = 0x030C; break;
            default: cp = big5_code_point(pointer);
            }
        }
        if (cp) { string_buffer_putc(d->out, cp); i++; continue; }
        DECODE_ERROR(d);
        if (!is_ascii(b)) i++;
    }
    d->used = n;
    return 0;
}

static int decode_euc_jp(Decode *d, const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { string_buffer_putc8(d->out, c); i++; continue; }
        if (c != 0x8E && c != 0x8F && (c < 0xA1 || c > 0xFE)) { DECODE_ERROR(d); i++; continue; }
        size_t start = i++;
        if (i == n) DECODE_UNFINISHED(d, start);
        uint8_t b = s[i];
        if (c == 0x8E && b >= 0xA1 && b <= 0xDF) {
            string_buffer_putc16(d->out, 0xFF61 - 0xA1 + b);
            i++;
            continue;
        }
        bool jis0212 = false;
        uint8_t lead = c;
        if (c == 0x8F && b >= 0xA1 && b <= 0xFE) {
            jis0212 = true;
            lead = b;
            i++;
            if (i == n) DECODE_UNFINISHED(d, start);
            b = s[i];
        }
        uint32_t cp = 0;
        if (lead >= 0xA1 && lead <= 0xFE && b >= 0xA1 && b <= 0xFE) {
            uint32_t pointer = (uint32_t)(lead - 0xA1) * 94 + (b - 0xA1);
            if (jis0212)
                cp = pointer < INDEX_JIS0212_SIZE ? index_jis0212[pointer] : 0;
            else
                cp = pointer < INDEX_JIS0208_SIZE ? index_jis0208[pointer] : 0;
        }
        if (cp) { string_buffer_putc16(d->out, cp); i++; continue; }
        DECODE_ERROR(d);
        if (!is_ascii(b)) i++;
    }
    d->used = n;
    return 0;
}

static int decode_shift_jis(Decode *d, const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c <= 0x80) { string_buffer_putc8(d->out, c); i++; continue; }
        if (c >= 0xA1 && c <= 0xDF) { string_buffer_putc16(d->out, 0xFF61 - 0xA1 + c); i++; continue; }
        if (!((c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC))) { DECODE_ERROR(d); i++; continue; }
        size_t start = i++;
        if (i == n) DECODE_UNFINISHED(d, start);
        uint8_t b = s[i];
        uint32_t cp = 0;
        if ((b >= 0x40 && b <= 0x7E) || (b >= 0x80 && b <= 0xFC)) {
            uint32_t pointer = (uint32_t)(c - (c < 0xA0 ? 0x81 : 0xC1)) * 188 + (b - (b < 0x7F ? 0x40 : 0x41));
            if (pointer >= 8836 && pointer <= 10715)
                cp = 0xE000 - 8836 + pointer;
            else
                cp = pointer < INDEX_JIS0208_SIZE ? index_jis0208[pointer] : 0;
        }
        if (cp) { string_buffer_putc16(d->out, cp); i++; continue; }
        DECODE_ERROR(d);
        if (!is_ascii(b)) i++;
    }
    d->used = n;
    return 0;
}

static int decode_euc_kr(Decode *d, const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { string_buffer_putc8(d->out, c); i++; continue; }
        if (c < 0x81 || c > 0xFE) { DECODE_ERROR(d); i++; continue; }
        size_t start = i++;
        if (i == n) DECODE_UNFINISHED(d, start);
        uint8_t b = s[i];
        uint32_t cp = 0;
        if (b >= 0x41 && b <= 0xFE) {
            uint32_t pointer = (uint32_t)(c - 0x81) * 190 + (b - 0x41);
            cp = pointer < INDEX_EUC_KR_SIZE ? index_euc_kr[pointer] : 0;
        }
        if (cp) { string_buffer_putc16(d->out, cp); i++; continue; }
        DECODE_ERROR(d);
        if (!is_ascii(b)) i++;
    }
    d->used = n;
    return 0;
}

/* iso-2022-jp: a state machine over the standard's states; the whole state
 * (mode, output mode, output flag, lead) is kept between chunks, so every byte
 * is used. "Prepend" re-reads a byte, or the lead then the byte. */
enum { JP_ASCII, JP_ROMAN, JP_KATAKANA, JP_LEAD, JP_TRAIL, JP_ESCAPE_START, JP_ESCAPE };
#define JP_PACK(mode, output_mode, flag, lead) ((mode) | (output_mode) << 4 | (flag) << 8 | (lead) << 16)

/* one byte (or -1 for the end of the input); returns 0 to go on, 1 to read
 * `byte` again, 2 to read `lead` then `byte` again, -1 on a fatal error */
static int iso_2022_jp_step(Decode *d, int *mode, int *output_mode, int *flag, int *lead, int byte) {
#define JP_ERROR() do { if (d->fatal) return -1; string_buffer_putc16(d->out, 0xFFFD); } while (0)
    switch (*mode) {
    case JP_ASCII: case JP_ROMAN: case JP_KATAKANA: case JP_LEAD:
        if (byte == 0x1B) { *mode = JP_ESCAPE_START; return 0; }
        if (byte < 0) return 0;
        *flag = 0;
        if (*mode == JP_ASCII && byte <= 0x7F && byte != 0x0E && byte != 0x0F) {
            string_buffer_putc8(d->out, byte);
        } else if (*mode == JP_ROMAN && byte <= 0x7F && byte != 0x0E && byte != 0x0F) {
            string_buffer_putc16(d->out, byte == 0x5C ? 0x00A5 : byte == 0x7E ? 0x203E : byte);
        } else if (*mode == JP_KATAKANA && byte >= 0x21 && byte <= 0x5F) {
            string_buffer_putc16(d->out, 0xFF61 - 0x21 + byte);
        } else if (*mode == JP_LEAD && byte >= 0x21 && byte <= 0x7E) {
            *lead = byte;
            *mode = JP_TRAIL;
        } else {
            JP_ERROR();
        }
        return 0;
    case JP_TRAIL:
        if (byte == 0x1B) { *mode = JP_ESCAPE_START; JP_ERROR(); return 0; }
        *mode = JP_LEAD;
        if (byte >= 0x21 && byte <= 0x7E) {
            uint32_t pointer = (uint32_t)(*lead - 0x21) * 94 + (byte - 0x21);
            uint32_t cp = pointer < INDEX_JIS0208_SIZE ? index_jis0208[pointer] : 0;
            if (!cp) JP_ERROR(); else string_buffer_putc16(d->out, cp);
            return 0;
        }
        JP_ERROR();
        return byte < 0 ? 1 : 0;
    case JP_ESCAPE_START:
        if (byte == 0x24 || byte == 0x28) { *lead = byte; *mode = JP_ESCAPE; return 0; }
        *flag = 0;
        *mode = *output_mode;
        JP_ERROR();
        return 1;
    default: { /* JP_ESCAPE */
        int l = *lead, next = -1;
        *lead = 0;
        if (l == 0x28 && byte == 0x42) next = JP_ASCII;
        else if (l == 0x28 && byte == 0x4A) next = JP_ROMAN;
        else if (l == 0x28 && byte == 0x49) next = JP_KATAKANA;
        else if (l == 0x24 && (byte == 0x40 || byte == 0x42)) next = JP_LEAD;
        if (next >= 0) {
            *mode = *output_mode = next;
            int was = *flag;
            *flag = 1;
            if (was) JP_ERROR();
            return 0;
        }
        *lead = l; /* read again below */
        *flag = 0;
        *mode = *output_mode;
        JP_ERROR();
        return 2;
    }
    }
#undef JP_ERROR
}

static int decode_iso_2022_jp(Decode *d, const uint8_t *s, size_t n) {
    int mode = d->state & 0xF, output_mode = d->state >> 4 & 0xF, flag = d->state >> 8 & 1, lead = d->state >> 16 & 0xFF;
    for (size_t i = 0; i <= n; i++) {
        int byte = i < n ? s[i] : -1;
        if (byte < 0 && d->stream)
            break;
        int again = iso_2022_jp_step(d, &mode, &output_mode, &flag, &lead, byte);
        if (again == 2) { /* the lead, then the byte */
            int l = lead;
            lead = 0;
            again = iso_2022_jp_step(d, &mode, &output_mode, &flag, &lead, l);
            if (again == 0) again = iso_2022_jp_step(d, &mode, &output_mode, &flag, &lead, byte);
            while (again == 1) again = iso_2022_jp_step(d, &mode, &output_mode, &flag, &lead, byte);
        }
        while (again == 1)
            again = iso_2022_jp_step(d, &mode, &output_mode, &flag, &lead, byte);
        if (again < 0)
            return -1;
    }
    d->state = d->stream ? JP_PACK(mode, output_mode, flag, lead) : 0;
    d->used = n;
    return 0;
}

static int decode_bytes(int id, Decode *d, const uint8_t *s, size_t n) {
    if (id == ENC_UTF_8) return decode_utf8(d, s, n);
    if (id >= ENC_FIRST_SINGLE_BYTE && id <= ENC_LAST_SINGLE_BYTE)
        return decode_single_byte(d, s, n, single_byte_indexes[id - ENC_FIRST_SINGLE_BYTE]);
    switch (id) {
    case ENC_GBK: case ENC_GB18030: return decode_gb18030(d, s, n);
    case ENC_BIG5: return decode_big5(d, s, n);
    case ENC_EUC_JP: return decode_euc_jp(d, s, n);
    case ENC_ISO_2022_JP: return decode_iso_2022_jp(d, s, n);
    case ENC_SHIFT_JIS: return decode_shift_jis(d, s, n);
    case ENC_EUC_KR: return decode_euc_kr(d, s, n);
    case ENC_UTF_16BE: return decode_utf16(d, s, n, true);
    case ENC_UTF_16LE: return decode_utf16(d, s, n, false);
    case ENC_X_USER_DEFINED: return decode_x_user_defined(d, s, n);
    default: /* replacement: any input is one error */
        d->used = n;
        if (n) DECODE_ERROR(d);
        return 0;
    }
}

/* ---- natives for the prelude ---------------------------------------------------- */

/* Uint8Array / ArrayBuffer / SharedArrayBuffer / any view -> its bytes (NULL: exception) */
static const uint8_t *encoding_input_bytes(JSContext *ctx, JSValueConst value, size_t *len) {
    static const uint8_t empty[1];
    if (JS_VALUE_GET_TAG(value) != JS_TAG_OBJECT) {
        JS_ThrowTypeError(ctx, "The provided value is not of type '(ArrayBuffer or ArrayBufferView)'");
        return NULL;
    }
    JSObject *p = JS_VALUE_GET_OBJ(value);
    if (p->class_id == JS_CLASS_ARRAY_BUFFER || p->class_id == JS_CLASS_SHARED_ARRAY_BUFFER) {
        JSArrayBuffer *abuf = p->u.array_buffer;
        *len = abuf->detached ? 0 : abuf->byte_length;
        return abuf->detached ? empty : abuf->data;
    }
    if (p->class_id >= JS_CLASS_UINT8C_ARRAY && p->class_id <= JS_CLASS_DATAVIEW) {
        JSTypedArray *ta = p->u.typed_array;
        JSArrayBuffer *abuf = ta->buffer->u.array_buffer;
        if (abuf->detached || ta->offset > (uint32_t)abuf->byte_length) {
            *len = 0;
            return empty;
        }
        size_t length = ta->length;
        if (ta->offset + length > (size_t)abuf->byte_length) /* a shrunk resizable buffer */
            length = (size_t)abuf->byte_length - ta->offset;
        *len = length;
        return abuf->data + ta->offset;
    }
    JS_ThrowTypeError(ctx, "The provided value is not of type '(ArrayBuffer or ArrayBufferView)'");
    return NULL;
}

/* textDecode(encodingId, bytes, stream, fatal, io: Int32Array(2)) -> string
 * io[0]: iso-2022-jp's state in and out; io[1]: bytes used (out). Throws a
 * TypeError on malformed input in fatal mode. */
static JSValue native_text_decode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    int32_t id;
    size_t n, io_offset, io_length, io_element, io_size;
    if (argc < 5 || JS_ToInt32(ctx, &id, argv[0]) || id < 0 || id >= ENCODING_COUNT)
        return JS_ThrowTypeError(ctx, "textDecode: bad arguments");
    const uint8_t *s = encoding_input_bytes(ctx, argv[1], &n);
    if (!s)
        return JS_EXCEPTION;
    JSValue io_buffer = JS_GetTypedArrayBuffer(ctx, argv[4], &io_offset, &io_length, &io_element);
    if (JS_IsException(io_buffer))
        return JS_EXCEPTION;
    uint8_t *io_bytes = JS_GetArrayBuffer(ctx, &io_size, io_buffer);
    JS_FreeValue(ctx, io_buffer);
    if (!io_bytes || io_length < 8)
        return JS_ThrowTypeError(ctx, "textDecode: bad state array");
    int32_t *io = (int32_t *)(io_bytes + io_offset);
    if (!load_indexes_for(id))
        return JS_ThrowOutOfMemory(ctx);
    StringBuffer out;
    if (string_buffer_init(ctx, &out, n < 0x40000000 ? (int)n : 0x3FFFFFFF))
        return JS_EXCEPTION;
    Decode d = { &out, JS_ToBool(ctx, argv[3]), JS_ToBool(ctx, argv[2]), io[0], 0 };
    if (decode_bytes(id, &d, s, n) < 0) {
        string_buffer_free(&out);
        io[0] = 0;
        io[1] = (int32_t)n;
        return JS_ThrowTypeError(ctx, "The encoded data was not valid for encoding %s", encoding_names[id]);
    }
    io[0] = d.state;
    io[1] = (int32_t)d.used;
    return string_buffer_end(&out);
}

/* encodingId(label) -> id, or -1: the label with ASCII whitespace trimmed, ASCII-lowercased */
static JSValue native_encoding_id(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t len;
    const char *label = JS_ToCStringLen(ctx, &len, argc > 0 ? argv[0] : JS_UNDEFINED);
    if (!label)
        return JS_EXCEPTION;
    const char *start = label, *end = label + len;
    while (start < end && (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\f' || *start == '\r')) start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\f' || end[-1] == '\r')) end--;
    char key[32];
    size_t key_len = (size_t)(end - start);
    int32_t id = -1;
    if (key_len < sizeof(key) && !memchr(start, 0, key_len)) {
        for (size_t i = 0; i < key_len; i++) {
            char c = start[i];
            key[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        }
        key[key_len] = 0;
        size_t lo = 0, hi = ENCODING_LABEL_COUNT;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            int cmp = strcmp(encoding_labels[mid].label, key);
            if (cmp == 0) { id = encoding_labels[mid].id; break; }
            if (cmp < 0) lo = mid + 1; else hi = mid;
        }
    }
    JS_FreeCString(ctx, label);
    return JS_NewInt32(ctx, id);
}

static JSValue native_encoding_name(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    int32_t id;
    if (argc < 1 || JS_ToInt32(ctx, &id, argv[0]) || id < 0 || id >= ENCODING_COUNT)
        return JS_ThrowRangeError(ctx, "no such encoding");
    return JS_NewString(ctx, encoding_names[id]);
}

/* UTF-8 of a JS string's code units from `*index`, at most `room` bytes; lone
 * surrogates become U+FFFD. Advances *index past whole code points only. */
static size_t utf8_encode_units(JSString *p, uint32_t *index, uint8_t *out, size_t room) {
    uint32_t i = *index, len = p->len;
    size_t o = 0;
    if (!p->is_wide_char) {
        const uint8_t *s = str8(p);
        for (; i < len; i++) {
            uint8_t c = s[i];
            if (c < 0x80) {
                if (o + 1 > room) break;
                out[o++] = c;
            } else {
                if (o + 2 > room) break;
                out[o++] = (uint8_t)(0xC0 | c >> 6);
                out[o++] = (uint8_t)(0x80 | (c & 0x3F));
            }
        }
    } else {
        const uint16_t *s = str16(p);
        while (i < len) {
            uint32_t c = s[i], units = 1;
            if (c >= 0xD800 && c <= 0xDBFF && i + 1 < len && s[i + 1] >= 0xDC00 && s[i + 1] <= 0xDFFF) {
                c = 0x10000 + ((c - 0xD800) << 10) + (s[i + 1] - 0xDC00);
                units = 2;
            } else if (c >= 0xD800 && c <= 0xDFFF) {
                c = 0xFFFD;
            }
            size_t need = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
            if (o + need > room) break;
            if (need == 1) out[o++] = (uint8_t)c;
            else if (need == 2) { out[o++] = (uint8_t)(0xC0 | c >> 6); out[o++] = (uint8_t)(0x80 | (c & 0x3F)); }
            else if (need == 3) {
                out[o++] = (uint8_t)(0xE0 | c >> 12);
                out[o++] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
                out[o++] = (uint8_t)(0x80 | (c & 0x3F));
            } else {
                out[o++] = (uint8_t)(0xF0 | c >> 18);
                out[o++] = (uint8_t)(0x80 | (c >> 12 & 0x3F));
                out[o++] = (uint8_t)(0x80 | (c >> 6 & 0x3F));
                out[o++] = (uint8_t)(0x80 | (c & 0x3F));
            }
            i += units;
        }
    }
    *index = i;
    return o;
}

/* the UTF-8 length of a string (lone surrogates as U+FFFD) */
static size_t utf8_length(JSString *p) {
    size_t total = p->len;
    if (!p->is_wide_char) {
        for (uint32_t i = 0; i < p->len; i++) total += str8(p)[i] >> 7;
        return total;
    }
    for (uint32_t i = 0; i < p->len; i++) {
        uint16_t c = str16(p)[i];
        if (c < 0x80) continue;
        if (c < 0x800) { total += 1; continue; }
        if (c >= 0xD800 && c <= 0xDBFF && i + 1 < p->len && str16(p)[i + 1] >= 0xDC00 && str16(p)[i + 1] <= 0xDFFF) {
            total += 2; /* 4 bytes for 2 units */
            i++;
            continue;
        }
        total += 2;
    }
    return total;
}

/* utf8Encode(string) -> Uint8Array (the standard's UTF-8 encode: lone surrogates -> U+FFFD) */
static JSValue native_utf8_encode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    JSValue str = JS_ToString(ctx, argc > 0 ? argv[0] : JS_UNDEFINED);
    if (JS_IsException(str))
        return JS_EXCEPTION;
    JSString *p = JS_VALUE_GET_STRING(str);
    size_t size = utf8_length(p);
    uint8_t *bytes = js_malloc(ctx, size ? size : 1);
    if (!bytes) {
        JS_FreeValue(ctx, str);
        return JS_EXCEPTION;
    }
    uint32_t index = 0;
    utf8_encode_units(p, &index, bytes, size);
    JS_FreeValue(ctx, str);
    JSValue out = JS_NewUint8ArrayCopy(ctx, bytes, size);
    js_free(ctx, bytes);
    return out;
}

/* encodeInto(string, Uint8Array) -> {read, written} */
static JSValue native_encode_into(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t room;
    if (argc < 2)
        return JS_ThrowTypeError(ctx, "encodeInto: bad arguments");
    uint8_t *dest = JS_GetUint8Array(ctx, &room, argv[1]);
    if (!dest)
        return JS_EXCEPTION;
    JSValue str = JS_ToString(ctx, argv[0]);
    if (JS_IsException(str))
        return JS_EXCEPTION;
    uint32_t read = 0;
    size_t written = utf8_encode_units(JS_VALUE_GET_STRING(str), &read, dest, room);
    JS_FreeValue(ctx, str);
    JSValue result = JS_NewObject(ctx);
    if (JS_IsException(result))
        return result;
    JS_SetPropertyStr(ctx, result, "read", JS_NewUint32(ctx, read));
    JS_SetPropertyStr(ctx, result, "written", JS_NewInt64(ctx, (int64_t)written));
    return result;
}

/* utf8Decode(bytes, fatal): the standard's UTF-8 decode without BOM handling
 * (for bodies and the like); valid input takes QuickJS's own fast path */
static JSValue native_utf8_decode(JSContext *ctx, JSValueConst this_val, int argc, JSValueConst *argv) {
    size_t n;
    if (argc < 1)
        return JS_NewString(ctx, "");
    const uint8_t *s = encoding_input_bytes(ctx, argv[0], &n);
    if (!s)
        return JS_EXCEPTION;
    if (utf8_is_valid(s, n))
        return JS_NewStringLen(ctx, (const char *)s, n);
    StringBuffer out;
    if (string_buffer_init(ctx, &out, n < 0x40000000 ? (int)n : 0x3FFFFFFF))
        return JS_EXCEPTION;
    Decode d = { &out, argc > 1 && JS_ToBool(ctx, argv[1]), false, 0, 0 };
    if (decode_utf8(&d, s, n) < 0) {
        string_buffer_free(&out);
        return JS_ThrowTypeError(ctx, "The encoded data was not valid for encoding utf-8");
    }
    return string_buffer_end(&out);
}
