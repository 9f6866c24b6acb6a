/*
 * exporter._rowscan: the per-event path in C. A RowScanner decodes the new row of a message;
 * its apply() decodes and stores a whole run of one partition's records in one call; a
 * TableStore is the store of one table of the state, compiled (further down).
 *
 * Nearly every change event is a create, update or snapshot read in a layout the decoder has
 * already seen. Interpreted, reading one costs tens of thousands of instructions, most of them
 * spent building a dict of the whole row to pick a few columns out of it. A RowScanner reads
 * the same bytes as the Python fast path (exporter.decode.Decoder.decode_row) and returns
 * exactly what that would return, (op, key, row, position), making Python objects only for
 * the kept columns and the position.
 *
 * Whenever it cannot be sure of that result it returns None, and the Python code decides as
 * before. It declines:
 *   - a value that is not exactly bytes or does not start with the known prefix;
 *   - deletes and unknown ops, missing or misplaced marks;
 *   - a row orjson might reject: the row object is checked against RFC 8259 as strictly as
 *     orjson checks it (UTF-8, escapes, control characters, numbers, literals, nesting), and
 *     a number orjson could turn into an infinity is declined; so are \u escapes of
 *     surrogates, nesting deeper than MAX_DEPTH and keys with escapes;
 *   - a kept column that is missing, repeated, or holds a float, an object, an array, an
 *     escaped string or an integer of more than MAX_INT_DIGITS digits;
 *   - a value the column's converter rejects, and a key with a null in it;
 *   - a source position other than a PostgreSQL lsn (digits or null) or the SQL Server
 *     connector's fixed field order, read the way the Python code reads them.
 * An exception from a converter is cleared (the Python path catches it too), except those
 * that are not an Exception, such as KeyboardInterrupt, which propagate as they would there.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <string.h>

/* Nesting inside the row that is checked here; deeper rows are left to orjson. */
#define MAX_DEPTH 32
/* Any integer of this many digits fits in 64 bits; longer ones are left to Python. */
#define MAX_INT_DIGITS 18
/* orjson rejects a number that is infinite as a double; anything below 10**300 is finite. */
#define MAX_MAGNITUDE 300
/* The tables keep a handful of columns; the per-call state lives on the stack. */
#define MAX_COLUMNS 64

/* How a column's value is made, as in the reader exporter.decode generates. */
enum {
    KIND_CALL = 0,   /* always through the converter */
    KIND_SCALED = 1, /* an int within [low, high] is value * factor; null is None */
    KIND_TEXT = 2,   /* a string is itself; null is None */
    /* A Connect Decimal: a string is the base64 of its unscaled two's-complement bytes, read
       here when it is canonical base64 of 1 to 8 bytes within the amount bound; factor is the
       scale. Null is None. Any other value goes through the converter. */
    KIND_BASE64_DECIMAL = 3,
    /* The same without a schema, where a string is tried as a number first: read here only
       when it holds a character no number text has. */
    KIND_UNTYPED_DECIMAL = 4,
};

/* The bound on an amount that the converters check (|amount| < 10**10), and the largest scale
   for which 10**(10 + scale) fits in 64 bits. */
#define AMOUNT_DIGITS 10
#define MAX_DECIMAL_SCALE 8

typedef struct {
    PyObject *name; /* bytes: the key as it appears in the JSON text, UTF-8 */
    int kind;
    long long factor, low, high;
    PyObject *convert;
} Column;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *prefix; /* bytes every message of the layout starts with */
    Py_ssize_t start; /* where the payload begins */
    Py_ssize_t key_size;
    Py_ssize_t count;
    Column columns[MAX_COLUMNS];
} RowScanner;

static PyObject *OP_CREATE, *OP_UPDATE, *OP_READ;

typedef const unsigned char *Cursor;

/* -- byte searches, with the meaning of bytes.find and bytes.rfind ----------------------- */

static Py_ssize_t
find(const char *buf, Py_ssize_t size, Py_ssize_t from, const char *mark, Py_ssize_t length)
{
    if (from < 0 || from > size)
        return -1;
    const char *at = memmem(buf + from, size - from, mark, length);
    return at == NULL ? -1 : at - buf;
}

/* The last occurrence lying wholly inside [from, to). */
static Py_ssize_t
rfind(const char *buf, Py_ssize_t from, Py_ssize_t to, const char *mark, Py_ssize_t length)
{
    for (Py_ssize_t at = to - length; at >= from; at--) {
        if (buf[at] == mark[0] && memcmp(buf + at, mark, length) == 0)
            return at;
    }
    return -1;
}

static int
holds_at(const char *buf, Py_ssize_t size, Py_ssize_t at, const char *text, Py_ssize_t length)
{
    return at >= 0 && at <= size - length && memcmp(buf + at, text, length) == 0;
}

/* 1 to MAX_INT_DIGITS ASCII digits and nothing else. */
static int
read_digits(const char *text, Py_ssize_t length, long long *value)
{
    if (length < 1 || length > MAX_INT_DIGITS)
        return 0;
    long long number = 0;
    for (Py_ssize_t i = 0; i < length; i++) {
        if (text[i] < '0' || text[i] > '9')
            return 0;
        number = number * 10 + (text[i] - '0');
    }
    *value = number;
    return 1;
}

/* -- strict JSON (RFC 8259, as orjson reads it) -------------------------------------------- */

static Cursor
skip_space(Cursor p, Cursor end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    return p;
}

static Cursor
skip_word(Cursor p, Cursor end, const char *word, Py_ssize_t length)
{
    if (end - p < length || memcmp(p, word, length) != 0)
        return NULL;
    return p + length;
}

static int
hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The escape after a backslash. Surrogates are declined rather than paired: orjson's rules
   for them are not worth copying for text that never carries them. */
static Cursor
skip_escape(Cursor p, Cursor end)
{
    if (p >= end)
        return NULL;
    switch (*p) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return p + 1;
    case 'u':
        break;
    default:
        return NULL;
    }
    if (end - p < 5)
        return NULL;
    int code = 0;
    for (int i = 1; i <= 4; i++) {
        int digit = hex_digit(p[i]);
        if (digit < 0)
            return NULL;
        code = code << 4 | digit;
    }
    return code >= 0xD800 && code <= 0xDFFF ? NULL : p + 5;
}

/* Past a well-formed UTF-8 sequence of two to four bytes: no overlong form, no surrogate,
   nothing beyond U+10FFFF. */
static Cursor
skip_utf8(Cursor p, Cursor end)
{
    unsigned char lead = *p, low = 0x80, high = 0xBF;
    Py_ssize_t length;
    if (lead >= 0xC2 && lead <= 0xDF)
        length = 2;
    else if (lead >= 0xE0 && lead <= 0xEF)
        length = 3;
    else if (lead >= 0xF0 && lead <= 0xF4)
        length = 4;
    else
        return NULL;
    if (lead == 0xE0)
        low = 0xA0;
    else if (lead == 0xED)
        high = 0x9F;
    else if (lead == 0xF0)
        low = 0x90;
    else if (lead == 0xF4)
        high = 0x8F;
    if (end - p < length || p[1] < low || p[1] > high)
        return NULL;
    for (Py_ssize_t i = 2; i < length; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return NULL;
    }
    return p + length;
}

/* Bytes that stand for themselves in a JSON string: printable ASCII but the quote and the
   backslash. Filled in when the module loads. */
static unsigned char PLAIN[256];

/* Past the string whose opening quote is at p; *escaped tells whether it holds an escape. */
static Cursor
skip_string(Cursor p, Cursor end, int *escaped)
{
    *escaped = 0;
    for (p++; p < end;) {
        unsigned char c = *p;
        if (PLAIN[c]) {
            p++;
            continue;
        }
        if (c == '"')
            return p + 1;
        if (c == '\\') {
            *escaped = 1;
            p = skip_escape(p + 1, end);
        }
        else if (c >= 0x80)
            p = skip_utf8(p, end);
        else
            return NULL; /* a control character */
        if (p == NULL)
            return NULL;
    }
    return NULL;
}

static int
is_digit(Cursor p, Cursor end)
{
    return p < end && *p >= '0' && *p <= '9';
}

static Cursor
skip_digits(Cursor p, Cursor end)
{
    while (is_digit(p, end))
        p++;
    return p;
}

/* The exponent after 'e'; NULL also when the number may reach 10**MAX_MAGNITUDE. */
static Cursor
skip_exponent(Cursor p, Cursor end, Py_ssize_t int_digits)
{
    int negative = 0;
    if (p < end && (*p == '+' || *p == '-'))
        negative = *p++ == '-';
    if (!is_digit(p, end))
        return NULL;
    Py_ssize_t exponent = 0;
    for (; is_digit(p, end); p++) {
        if (exponent <= MAX_MAGNITUDE)
            exponent = exponent * 10 + (*p - '0');
    }
    if (!negative && int_digits + exponent > MAX_MAGNITUDE)
        return NULL;
    return p;
}

typedef struct {
    int integral; /* neither fraction nor exponent, and at most MAX_INT_DIGITS digits */
    long long value; /* when integral */
} Number;

static Cursor
read_number(Cursor p, Cursor end, Number *number)
{
    int negative = p < end && *p == '-';
    p += negative;
    Cursor digits = p;
    unsigned long long value = 0; /* wraps past 19 digits, but is used only up to 18 */
    if (!is_digit(p, end))
        return NULL;
    if (*p == '0')
        p++;
    else {
        for (; is_digit(p, end); p++)
            value = value * 10 + (*p - '0');
    }
    Py_ssize_t int_digits = p - digits;
    if (int_digits > MAX_MAGNITUDE)
        return NULL;
    number->integral = int_digits <= MAX_INT_DIGITS;
    if (p < end && *p == '.') {
        number->integral = 0;
        if (!is_digit(p + 1, end))
            return NULL;
        p = skip_digits(p + 1, end);
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        number->integral = 0;
        p = skip_exponent(p + 1, end, int_digits);
    }
    if (number->integral)
        number->value = negative ? -(long long)value : (long long)value;
    return p;
}

static Cursor skip_value(Cursor p, Cursor end, int depth);

/* Past the elements of an array or the members of an object, after its opening bracket. */
static Cursor
skip_container(Cursor p, Cursor end, int depth, unsigned char close)
{
    int escaped;
    p = skip_space(p, end);
    if (p < end && *p == close)
        return p + 1;
    for (;;) {
        if (close == '}') {
            p = p < end && *p == '"' ? skip_string(p, end, &escaped) : NULL;
            if (p == NULL)
                return NULL;
            p = skip_space(p, end);
            if (p >= end || *p != ':')
                return NULL;
            p = skip_space(p + 1, end);
        }
        p = skip_value(p, end, depth);
        if (p == NULL)
            return NULL;
        p = skip_space(p, end);
        if (p < end && *p == close)
            return p + 1;
        if (p >= end || *p != ',')
            return NULL;
        p = skip_space(p + 1, end);
    }
}

/* Past any JSON value that starts at p; depth is that of the container holding it. */
static Cursor
skip_value(Cursor p, Cursor end, int depth)
{
    int escaped;
    Number number;
    if (p >= end)
        return NULL;
    switch (*p) {
    case '"':
        return skip_string(p, end, &escaped);
    case '{':
    case '[':
        if (depth >= MAX_DEPTH)
            return NULL;
        return skip_container(p + 1, end, depth + 1, *p == '{' ? '}' : ']');
    case 't':
        return skip_word(p, end, "true", 4);
    case 'f':
        return skip_word(p, end, "false", 5);
    case 'n':
        return skip_word(p, end, "null", 4);
    default:
        return read_number(p, end, &number);
    }
}

/* -- the kept columns ---------------------------------------------------------------------- */

typedef enum {
    TOKEN_MISSING,
    TOKEN_NULL,
    TOKEN_TRUE,
    TOKEN_FALSE,
    TOKEN_INT,
    TOKEN_TEXT,
} TokenType;

typedef struct {
    TokenType type;
    long long number;
    Cursor text; /* a string's bytes, without quotes or escapes */
    Py_ssize_t size;
} Token;

/* A kept column's value; NULL for one only Python reads (a float, an object, an array, an
   escaped string, a long integer) and for anything that is not JSON. */
static Cursor
read_token(Cursor p, Cursor end, Token *token)
{
    int escaped;
    Number number;
    Cursor after;
    if (p >= end)
        return NULL;
    switch (*p) {
    case '"':
        after = skip_string(p, end, &escaped);
        if (after == NULL || escaped)
            return NULL;
        token->type = TOKEN_TEXT;
        token->text = p + 1;
        token->size = after - p - 2;
        return after;
    case 'n':
        token->type = TOKEN_NULL;
        return skip_word(p, end, "null", 4);
    case 't':
        token->type = TOKEN_TRUE;
        return skip_word(p, end, "true", 4);
    case 'f':
        token->type = TOKEN_FALSE;
        return skip_word(p, end, "false", 5);
    default:
        after = read_number(p, end, &number);
        if (after == NULL || !number.integral)
            return NULL;
        token->type = TOKEN_INT;
        token->number = number.value;
        return after;
    }
}

static Py_ssize_t
column_index(const RowScanner *self, Cursor key, Py_ssize_t size)
{
    for (Py_ssize_t i = 0; i < self->count; i++) {
        PyObject *name = self->columns[i].name;
        if (PyBytes_GET_SIZE(name) == size && memcmp(PyBytes_AS_STRING(name), key, size) == 0)
            return i;
    }
    return -1;
}

/* One "key": value member of the row object. */
static Cursor
read_member(const RowScanner *self, Cursor p, Cursor end, Token *tokens)
{
    int escaped;
    if (p >= end || *p != '"')
        return NULL;
    Cursor key = p + 1;
    p = skip_string(p, end, &escaped);
    if (p == NULL || escaped)
        return NULL;
    Py_ssize_t index = column_index(self, key, p - 1 - key);
    p = skip_space(p, end);
    if (p >= end || *p != ':')
        return NULL;
    p = skip_space(p + 1, end);
    if (index < 0)
        return skip_value(p, end, 1);
    if (tokens[index].type != TOKEN_MISSING)
        return NULL; /* a repeated kept column: orjson keeps the last, left to it */
    return read_token(p, end, &tokens[index]);
}

/* Whether [p, end) is exactly one JSON object, with whitespace around it, holding every kept
   column; their values are left in tokens. */
static int
read_row(const RowScanner *self, Cursor p, Cursor end, Token *tokens)
{
    for (Py_ssize_t i = 0; i < self->count; i++)
        tokens[i].type = TOKEN_MISSING;
    p = skip_space(p, end);
    if (p >= end || *p != '{')
        return 0;
    p = skip_space(p + 1, end);
    if (p < end && *p == '}')
        p++;
    else {
        for (;;) {
            p = read_member(self, p, end, tokens);
            if (p == NULL)
                return 0;
            p = skip_space(p, end);
            if (p < end && *p == '}')
                break;
            if (p >= end || *p != ',')
                return 0;
            p = skip_space(p + 1, end);
        }
        p++;
    }
    if (skip_space(p, end) != end)
        return 0;
    for (Py_ssize_t i = 0; i < self->count; i++) {
        if (tokens[i].type == TOKEN_MISSING)
            return 0;
    }
    return 1;
}

static PyObject *
token_object(const Token *token)
{
    switch (token->type) {
    case TOKEN_NULL:
        Py_RETURN_NONE;
    case TOKEN_TRUE:
        Py_RETURN_TRUE;
    case TOKEN_FALSE:
        Py_RETURN_FALSE;
    case TOKEN_INT:
        return PyLong_FromLongLong(token->number);
    default:
        return PyUnicode_DecodeUTF8((const char *)token->text, token->size, "strict");
    }
}

static PyObject *DECIMAL_TYPE;
static signed char BASE64_DIGIT[256];
/* The characters of a number text, as the schema-less converter knows them: digits, sign,
   point, exponent, underscore and the letters of Infinity, Inf, NaN and sNaN. */
static unsigned char NUMBER_CHARACTER[256];

/* 1 with *result set (NULL on an error) when the token is a base64 amount this reads itself;
   0 to leave the value to the converter. */
static int
base64_decimal(const Column *column, const Token *token, PyObject **result)
{
    Py_ssize_t size = token->size;
    const unsigned char *text = token->text;
    if (size == 0 || size > 12 || size % 4 != 0) /* 12 characters carry up to 9 bytes */
        return 0;
    Py_ssize_t padding = text[size - 1] == '=' ? (text[size - 2] == '=' ? 2 : 1) : 0;
    int only_number_characters = 1;
    for (Py_ssize_t i = 0; i < size - padding; i++) {
        if (BASE64_DIGIT[text[i]] < 0)
            return 0;
        only_number_characters &= NUMBER_CHARACTER[text[i]];
    }
    if (column->kind == KIND_UNTYPED_DECIMAL && padding == 0 && only_number_characters)
        return 0; /* the converter reads it as a number text first */
    /* Four characters make three bytes; padding leaves one or two of the last three out. */
    unsigned char bytes[9] = {0};
    Py_ssize_t count = 0;
    for (Py_ssize_t i = 0; i < size; i += 4) {
        unsigned long group = 0;
        for (Py_ssize_t j = i; j < i + 4; j++)
            group = group << 6 | (unsigned long)(j < size - padding ? BASE64_DIGIT[text[j]] : 0);
        bytes[count++] = (unsigned char)(group >> 16);
        bytes[count++] = (unsigned char)(group >> 8);
        bytes[count++] = (unsigned char)group;
    }
    count -= padding;
    if (count > 8)
        return 0;
    /* big-endian two's complement */
    unsigned long long bits = bytes[0] & 0x80 ? ~0ULL : 0;
    for (Py_ssize_t i = 0; i < count; i++)
        bits = bits << 8 | bytes[i];
    long long unscaled = (long long)bits;
    long long bound = 1;
    for (long long i = 0; i < AMOUNT_DIGITS + column->factor; i++)
        bound *= 10;
    if (unscaled <= -bound || unscaled >= bound)
        return 0; /* out of range: the converter says so */
    PyObject *number = PyUnicode_FromFormat("%lldE-%lld", unscaled, column->factor);
    *result = number == NULL ? NULL : PyObject_CallOneArg(DECIMAL_TYPE, number);
    Py_XDECREF(number);
    return 1;
}

/* The column's value as the generated Python reader makes it: the inline case directly, any
   other value through the converter. NULL, maybe with an exception set, to decline. */
static PyObject *
column_value(const Column *column, const Token *token)
{
    if (column->kind == KIND_SCALED && token->type == TOKEN_INT && token->number >= column->low
        && token->number <= column->high)
        return PyLong_FromLongLong(token->number * column->factor);
    if (column->kind == KIND_TEXT && token->type == TOKEN_TEXT)
        return token_object(token);
    PyObject *amount;
    if ((column->kind == KIND_BASE64_DECIMAL || column->kind == KIND_UNTYPED_DECIMAL)
        && token->type == TOKEN_TEXT && base64_decimal(column, token, &amount))
        return amount;
    /* The converters of the inline kinds (_int, _scaled, _text and the decimal ones) return
       None for None. */
    if (column->kind != KIND_CALL && token->type == TOKEN_NULL)
        Py_RETURN_NONE;
    PyObject *value = token_object(token);
    if (value == NULL)
        return NULL;
    PyObject *converted = PyObject_CallOneArg(column->convert, value);
    Py_DECREF(value);
    return converted;
}

static PyObject *
make_row(const RowScanner *self, const Token *tokens)
{
    PyObject *row = PyTuple_New(self->count);
    if (row == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < self->count; i++) {
        PyObject *value = column_value(&self->columns[i], &tokens[i]);
        if (value == NULL) {
            Py_DECREF(row);
            return NULL;
        }
        PyTuple_SET_ITEM(row, i, value);
    }
    return row;
}

/* row[0], or row[:key_size] for a composite key; NULL when a part of it is None. */
static PyObject *
make_key(const RowScanner *self, PyObject *row)
{
    Py_ssize_t size = self->key_size == 1 ? 1 : Py_MIN(self->key_size, self->count);
    if (size > self->count)
        return NULL;
    for (Py_ssize_t i = 0; i < size; i++) {
        if (PyTuple_GET_ITEM(row, i) == Py_None)
            return NULL;
    }
    if (self->key_size == 1)
        return Py_NewRef(PyTuple_GET_ITEM(row, 0));
    return PyTuple_GetSlice(row, 0, size);
}

/* Takes a tuple of atomic values (numbers, strings, None, untracked tuples) off the cyclic
   collector's lists, as the collector itself would on its first pass over it. The state keeps
   millions of such tuples; tracked, each would be walked by the next collections. */
static PyObject *
untracked(PyObject *tuple)
{
    if (tuple == NULL || !PyTuple_CheckExact(tuple) || !PyObject_GC_IsTracked(tuple))
        return tuple;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); i++) {
        PyObject *item = PyTuple_GET_ITEM(tuple, i);
        if (PyObject_IS_GC(item) && (!PyTuple_CheckExact(item) || PyObject_GC_IsTracked(item)))
            return tuple;
    }
    PyObject_GC_UnTrack(tuple);
    return tuple;
}

/* -- the source position ------------------------------------------------------------------- */

/* A tuple that takes over the new references in items; NULL when one of them is NULL. */
static PyObject *
tuple_of(Py_ssize_t size, PyObject **items)
{
    PyObject *tuple = NULL;
    for (Py_ssize_t i = 0; i < size; i++) {
        if (items[i] == NULL)
            goto fail;
    }
    tuple = PyTuple_New(size);
    if (tuple == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < size; i++)
        PyTuple_SET_ITEM(tuple, i, items[i]);
    return untracked(tuple);
fail:
    for (Py_ssize_t i = 0; i < size; i++)
        Py_XDECREF(items[i]);
    return NULL;
}

#define CHANGE_MARK "\"change_lsn\":"
#define COMMIT_MARK ",\"commit_lsn\":\""
#define SERIAL_MARK "\",\"event_serial_no\":"
#define LSN_SIZE 22 /* a SQL Server LSN in hexadecimal, as the connector writes it */

/* PostgreSQL: the lsn up to the next comma, null or a whole number. */
static PyObject *
postgres_position(const char *buf, Py_ssize_t size, Py_ssize_t at)
{
    const char *comma = memchr(buf + at, ',', size - at);
    long long lsn;
    if (comma == NULL)
        return NULL;
    if (comma - buf - at == 4 && memcmp(buf + at, "null", 4) == 0)
        Py_RETURN_NONE;
    if (!read_digits(buf + at, comma - buf - at, &lsn))
        return NULL;
    PyObject *parts[] = {PyLong_FromLongLong(lsn)};
    return tuple_of(1, parts);
}

/* SQL Server: change_lsn (quoted or null), commit_lsn and event_serial_no in this order, the
   connector's fixed layout; any other layout is left to the Python search. */
static PyObject *
sqlserver_position(const char *buf, Py_ssize_t size, Py_ssize_t start, Py_ssize_t end)
{
    Py_ssize_t at = rfind(buf, start, end, CHANGE_MARK, 13);
    Py_ssize_t change_at = 0, change_size = 0;
    long long serial;
    if (at < 1)
        return NULL;
    at += 13;
    if (holds_at(buf, size, at, "\"", 1)) {
        change_at = at + 1;
        change_size = LSN_SIZE;
        at += LSN_SIZE + 2;
    }
    else if (holds_at(buf, size, at, "null", 4))
        at += 4;
    else
        return NULL;
    if (!holds_at(buf, size, at, COMMIT_MARK, 15))
        return NULL;
    Py_ssize_t commit_at = at + 15;
    at = commit_at + LSN_SIZE;
    if (!holds_at(buf, size, at, SERIAL_MARK, 20))
        return NULL;
    const char *brace = memchr(buf + at, '}', size - at);
    if (brace == NULL || !read_digits(buf + at + 20, brace - buf - at - 20, &serial))
        return NULL;
    PyObject *parts[] = {
        PyBytes_FromStringAndSize(buf + commit_at, LSN_SIZE),
        PyBytes_FromStringAndSize(buf + change_at, change_size),
        PyLong_FromLongLong(serial),
    };
    return tuple_of(3, parts);
}

/* -- the call ---------------------------------------------------------------------------- */

typedef struct {
    Py_ssize_t after, source, op;
    PyObject *op_name;
} Marks;

/* The marks of decode_row: "after" from the payload on, "source" after it, the last "op". */
static int
find_marks(const RowScanner *self, const char *buf, Py_ssize_t size, Marks *marks)
{
    Py_ssize_t prefix_size = PyBytes_GET_SIZE(self->prefix);
    if (size < prefix_size || memcmp(buf, PyBytes_AS_STRING(self->prefix), prefix_size) != 0)
        return 0;
    marks->after = find(buf, size, self->start, "\"after\":", 8);
    marks->source = marks->after < 0 ? -1 : find(buf, size, marks->after, ",\"source\":", 10);
    if (marks->source < 0)
        return 0;
    marks->op = rfind(buf, 0, size, ",\"op\":\"", 7);
    if (marks->op < marks->source || !holds_at(buf, size, marks->op + 8, "\"", 1))
        return 0;
    switch (buf[marks->op + 7]) {
    case 'c':
        marks->op_name = OP_CREATE;
        return 1;
    case 'u':
        marks->op_name = OP_UPDATE;
        return 1;
    case 'r':
        marks->op_name = OP_READ;
        return 1;
    default:
        return 0; /* deletes take the full path */
    }
}

static PyObject *
read_position(const char *buf, Py_ssize_t size, const Marks *marks)
{
    /* The first "lsn" after the source mark, if it starts before the op mark. */
    Py_ssize_t lsn_at = find(buf, Py_MIN(size, marks->op + 6), marks->source, "\"lsn\":", 6);
    if (lsn_at > 0 && lsn_at < marks->op)
        return postgres_position(buf, size, lsn_at + 6);
    return sqlserver_position(buf, size, marks->source, marks->op);
}

/* What one message holds for the state: new references to the key, the row and the position,
   and the op's name, borrowed. */
typedef struct {
    PyObject *op_name, *key, *row, *position;
} Parts;

static void
clear_parts(Parts *parts)
{
    Py_CLEAR(parts->key);
    Py_CLEAR(parts->row);
    Py_CLEAR(parts->position);
}

/* 1 with parts filled in; 0 to decline, maybe with an exception set. */
static int
scan_parts(const RowScanner *self, PyObject *value, Parts *parts)
{
    Token tokens[MAX_COLUMNS];
    Marks marks;
    if (!PyBytes_CheckExact(value))
        return 0;
    const char *buf = PyBytes_AS_STRING(value);
    Py_ssize_t size = PyBytes_GET_SIZE(value);
    if (!find_marks(self, buf, size, &marks))
        return 0;
    Cursor row_start = (Cursor)buf + marks.after + 8, row_end = (Cursor)buf + marks.source;
    if (row_start > row_end || !read_row(self, row_start, row_end, tokens))
        return 0;
    parts->op_name = marks.op_name;
    parts->position = read_position(buf, size, &marks);
    if (parts->position == NULL)
        return 0;
    parts->row = untracked(make_row(self, tokens));
    parts->key = parts->row == NULL ? NULL : untracked(make_key(self, parts->row));
    if (parts->key == NULL) {
        clear_parts(parts);
        return 0;
    }
    return 1;
}

/* A decline leaves a converter's error to the Python path, which reports it if it still
   applies; an error that is not an Exception (KeyboardInterrupt...) goes on up. 0 for that. */
static int
declined(void)
{
    if (PyErr_Occurred()) {
        if (!PyErr_ExceptionMatches(PyExc_Exception))
            return 0;
        PyErr_Clear();
    }
    return 1;
}

static PyObject *
scanner_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) != 1 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "a RowScanner takes one message value");
        return NULL;
    }
    Parts parts = {NULL, NULL, NULL, NULL};
    if (scan_parts((RowScanner *)callable, args[0], &parts)) {
        PyObject *result = PyTuple_Pack(4, parts.op_name, parts.key, parts.row, parts.position);
        clear_parts(&parts);
        return untracked(result);
    }
    if (!declined())
        return NULL;
    Py_RETURN_NONE;
}

/* -- a run of records ------------------------------------------------------------------------ */

static PyObject *VALUE_NAME;

/* Calls store(key, row, position) for each record from start on, in order, until one the
   scanner declines; see scanner_apply_doc. */
static PyObject *
scanner_apply(RowScanner *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyList_CheckExact(args[0])) {
        PyErr_SetString(PyExc_TypeError, "apply(records: list, start: int, store)");
        return NULL;
    }
    PyObject *records = args[0], *store = args[2];
    Py_ssize_t at = PyLong_AsSsize_t(args[1]);
    if (at == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t created = 0, updated = 0, read = 0, stale = 0, last = -1;
    for (at = Py_MAX(at, 0); at < PyList_GET_SIZE(records); at++) {
        /* store may run any Python code, so the list is read afresh for every record */
        PyObject *record = Py_NewRef(PyList_GET_ITEM(records, at));
        PyObject *value = PyObject_GetAttr(record, VALUE_NAME);
        Py_DECREF(record);
        if (value == NULL)
            return NULL;
        Parts parts = {NULL, NULL, NULL, NULL};
        int scanned = scan_parts(self, value, &parts);
        Py_DECREF(value);
        if (!scanned) {
            if (!declined())
                return NULL;
            break;
        }
        PyObject *store_args[] = {parts.key, parts.row, parts.position};
        PyObject *stored = PyObject_Vectorcall(store, store_args, 3, NULL);
        clear_parts(&parts);
        if (stored == NULL)
            return NULL;
        int fresh = PyObject_IsTrue(stored);
        Py_DECREF(stored);
        if (fresh < 0)
            return NULL;
        if (!fresh) {
            stale++;
            continue;
        }
        last = at;
        if (parts.op_name == OP_CREATE)
            created++;
        else if (parts.op_name == OP_UPDATE)
            updated++;
        else
            read++;
    }
    return Py_BuildValue("(nnnnnn)", at, created, updated, read, stale, last);
}

PyDoc_STRVAR(scanner_apply_doc,
"apply(records, start, store) -> (stop, created, updated, read, stale, last)\n"
"--\n\n"
"Scans the value of records[start], records[start + 1]... (a list of objects with a\n"
"`value`) and calls store(key, row, position) for each, in order, until a record it\n"
"declines: stop is that record's index, or len(records). created, updated, read: how\n"
"many of each op store accepted; stale: how many it refused (it returned false); last:\n"
"the index of the last record accepted, -1 for none. An exception from store or from\n"
"reading a record propagates.");

static PyMethodDef scanner_methods[] = {
    {"apply", (PyCFunction)(void (*)(void))scanner_apply, METH_FASTCALL, scanner_apply_doc},
    {NULL, NULL, 0, NULL},
};

/* -- a table's rows -------------------------------------------------------------------------- */

/* The store of one table of exporter.state.HospitalState, the function its _table_store makes,
   compiled: the same dicts, the same index and unindex functions, the same steps in the same
   order; see that function for what each step is for. */
typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *rows;          /* dict: key -> (row, position) */
    PyObject *deleted;       /* dict: key -> position of a deleted row */
    PyObject *index;         /* index(key, row), or None */
    PyObject *unindex;       /* unindex(key, row), or None */
    PyObject *pruned_visits; /* set of visits a prune has forgotten */
    PyObject *remember;      /* remember(key, position) for a delete */
    Py_ssize_t visit_column; /* the column naming a row's visit; -1 for none */
} TableStore;

static PyObject *
call_two(PyObject *function, PyObject *first, PyObject *second)
{
    PyObject *args[] = {first, second};
    return PyObject_Vectorcall(function, args, 2, NULL);
}

/* Whether position is older than the position known for key: 1, 0, or -1 on an error. */
static int
is_older(TableStore *self, PyObject *key, PyObject *old, PyObject *position)
{
    PyObject *known = NULL;
    if (position == Py_None)
        return 0;
    if (old != NULL)
        known = PyTuple_GET_ITEM(old, 1);
    else if (PyDict_GET_SIZE(self->deleted) > 0) {
        known = PyDict_GetItemWithError(self->deleted, key);
        if (known == NULL && PyErr_Occurred())
            return -1;
    }
    if (known == NULL || known == Py_None)
        return 0;
    Py_INCREF(known);
    int older = PyObject_RichCompareBool(position, known, Py_LT);
    Py_DECREF(known);
    if (older < 0 && PyErr_ExceptionMatches(PyExc_TypeError)) {
        PyErr_Clear(); /* positions of two connectors cannot be compared */
        return 0;
    }
    return older;
}

/* 1 when the row belongs to a visit a prune has forgotten, 0 when not, -1 on an error. */
static int
is_forgotten(TableStore *self, PyObject *row)
{
    if (self->visit_column < 0 || PySet_GET_SIZE(self->pruned_visits) == 0)
        return 0;
    PyObject *visit = PySequence_GetItem(row, self->visit_column);
    if (visit == NULL)
        return -1;
    int forgotten = PySet_Contains(self->pruned_visits, visit);
    Py_DECREF(visit);
    return forgotten;
}

static PyObject *
store_row(TableStore *self, PyObject *key, PyObject *row, PyObject *position)
{
    PyObject *old = PyDict_GetItemWithError(self->rows, key), *done = NULL;
    if (old == NULL && PyErr_Occurred())
        return NULL;
    if (old != NULL && (!PyTuple_CheckExact(old) || PyTuple_GET_SIZE(old) != 2)) {
        PyErr_SetString(PyExc_TypeError, "a stored row is a (row, position) pair");
        return NULL;
    }
    Py_XINCREF(old);
    int older = is_older(self, key, old, position);
    if (older != 0) {
        done = older > 0 ? Py_NewRef(Py_False) : NULL;
        goto end;
    }
    if (old != NULL) {
        if (PyDict_DelItem(self->rows, key) < 0)
            goto end;
        if (self->unindex != Py_None) {
            PyObject *result = call_two(self->unindex, key, PyTuple_GET_ITEM(old, 0));
            if (result == NULL)
                goto end;
            Py_DECREF(result);
        }
    }
    if (row == Py_None) {
        if (position != Py_None) {
            PyObject *result = call_two(self->remember, key, position);
            if (result == NULL)
                goto end;
            Py_DECREF(result);
        }
        done = Py_NewRef(Py_True);
        goto end;
    }
    int forgotten = is_forgotten(self, row);
    if (forgotten != 0) {
        done = forgotten > 0 ? Py_NewRef(Py_True) : NULL;
        goto end;
    }
    PyObject *entry = untracked(PyTuple_Pack(2, row, position));
    if (entry == NULL)
        goto end;
    int failed = PyDict_SetItem(self->rows, key, entry);
    Py_DECREF(entry);
    if (failed < 0)
        goto end;
    if (self->index != Py_None) {
        PyObject *result = call_two(self->index, key, row);
        if (result == NULL)
            goto end;
        Py_DECREF(result);
    }
    done = Py_NewRef(Py_True);
end:
    Py_XDECREF(old);
    return done;
}

static PyObject *
store_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    if (PyVectorcall_NARGS(nargsf) != 3 || (kwnames != NULL && PyTuple_GET_SIZE(kwnames))) {
        PyErr_SetString(PyExc_TypeError, "a TableStore takes key, row and position");
        return NULL;
    }
    return store_row((TableStore *)callable, args[0], args[1], args[2]);
}

static PyObject *
store_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {
        "rows", "deleted", "index", "unindex", "pruned_visits", "visit_column", "remember", NULL,
    };
    PyObject *rows, *deleted, *index, *unindex, *pruned_visits, *remember;
    Py_ssize_t visit_column;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!OOO!nO:TableStore", keywords,
                                     &PyDict_Type, &rows, &PyDict_Type, &deleted, &index,
                                     &unindex, &PySet_Type, &pruned_visits, &visit_column,
                                     &remember))
        return NULL;
    if ((index != Py_None && !PyCallable_Check(index))
        || (unindex != Py_None && !PyCallable_Check(unindex)) || !PyCallable_Check(remember)) {
        PyErr_SetString(PyExc_TypeError, "index and unindex are callables or None");
        return NULL;
    }
    TableStore *self = (TableStore *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->vectorcall = store_vectorcall;
    self->rows = Py_NewRef(rows);
    self->deleted = Py_NewRef(deleted);
    self->index = Py_NewRef(index);
    self->unindex = Py_NewRef(unindex);
    self->pruned_visits = Py_NewRef(pruned_visits);
    self->remember = Py_NewRef(remember);
    self->visit_column = visit_column < 0 ? -1 : visit_column;
    return (PyObject *)self;
}

static int
store_traverse(TableStore *self, visitproc visit, void *arg)
{
    Py_VISIT(self->rows);
    Py_VISIT(self->deleted);
    Py_VISIT(self->index);
    Py_VISIT(self->unindex);
    Py_VISIT(self->pruned_visits);
    Py_VISIT(self->remember);
    return 0;
}

static int
store_clear(TableStore *self)
{
    Py_CLEAR(self->rows);
    Py_CLEAR(self->deleted);
    Py_CLEAR(self->index);
    Py_CLEAR(self->unindex);
    Py_CLEAR(self->pruned_visits);
    Py_CLEAR(self->remember);
    return 0;
}

static void
store_dealloc(TableStore *self)
{
    PyObject_GC_UnTrack(self);
    store_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(store_doc,
"TableStore(rows, deleted, index, unindex, pruned_visits, visit_column, remember)\n"
"--\n\n"
"store(key, row, position) -> bool of one table of HospitalState, compiled.");

static PyTypeObject TableStoreType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "exporter._rowscan.TableStore",
    .tp_basicsize = sizeof(TableStore),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = store_doc,
    .tp_new = store_new,
    .tp_dealloc = (destructor)store_dealloc,
    .tp_traverse = (traverseproc)store_traverse,
    .tp_clear = (inquiry)store_clear,
    .tp_vectorcall_offset = offsetof(TableStore, vectorcall),
    .tp_call = PyVectorcall_Call,
};

/* -- the type ------------------------------------------------------------------------------ */

static int
read_column(PyObject *spec, Column *column)
{
    if (!PyTuple_Check(spec)) {
        PyErr_SetString(PyExc_TypeError, "a column is a tuple");
        return -1;
    }
    if (!PyArg_ParseTuple(spec, "O!iLLLO:column", &PyBytes_Type, &column->name, &column->kind,
                          &column->factor, &column->low, &column->high, &column->convert))
        return -1;
    if (column->kind < KIND_CALL || column->kind > KIND_UNTYPED_DECIMAL
        || !PyCallable_Check(column->convert)) {
        PyErr_SetString(PyExc_ValueError, "a column needs a known kind and a converter");
        return -1;
    }
    /* value * factor must not overflow for any value within the bounds */
    if (column->kind == KIND_SCALED
        && (column->factor < 1 || column->low > column->high
            || column->high > LLONG_MAX / column->factor
            || column->low < LLONG_MIN / column->factor)) {
        PyErr_SetString(PyExc_ValueError, "scaled column bounds out of range");
        return -1;
    }
    if ((column->kind == KIND_BASE64_DECIMAL || column->kind == KIND_UNTYPED_DECIMAL)
        && (column->factor < 0 || column->factor > MAX_DECIMAL_SCALE)) {
        PyErr_SetString(PyExc_ValueError, "decimal scale out of range");
        return -1;
    }
    Py_INCREF(column->name);
    Py_INCREF(column->convert);
    return 0;
}

static PyObject *
scanner_new(PyTypeObject *type, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"prefix", "start", "columns", "key_size", NULL};
    PyObject *prefix, *columns;
    Py_ssize_t start, key_size;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!nO!n:RowScanner", keywords, &PyBytes_Type,
                                     &prefix, &start, &PyTuple_Type, &columns, &key_size))
        return NULL;
    Py_ssize_t count = PyTuple_GET_SIZE(columns);
    if (start < 0 || key_size < 0 || count > MAX_COLUMNS) {
        PyErr_SetString(PyExc_ValueError, "start, key size or column count out of range");
        return NULL;
    }
    RowScanner *self = (RowScanner *)type->tp_alloc(type, 0);
    if (self == NULL)
        return NULL;
    self->vectorcall = scanner_vectorcall;
    self->prefix = Py_NewRef(prefix);
    self->start = start;
    self->key_size = key_size;
    for (Py_ssize_t i = 0; i < count; i++) {
        if (read_column(PyTuple_GET_ITEM(columns, i), &self->columns[i]) < 0) {
            Py_DECREF(self);
            return NULL;
        }
        self->count = i + 1;
    }
    return (PyObject *)self;
}

static int
scanner_traverse(RowScanner *self, visitproc visit, void *arg)
{
    Py_VISIT(self->prefix);
    for (Py_ssize_t i = 0; i < self->count; i++) {
        Py_VISIT(self->columns[i].name);
        Py_VISIT(self->columns[i].convert);
    }
    return 0;
}

static int
scanner_clear(RowScanner *self)
{
    Py_CLEAR(self->prefix);
    for (Py_ssize_t i = 0; i < self->count; i++) {
        Py_CLEAR(self->columns[i].name);
        Py_CLEAR(self->columns[i].convert);
    }
    self->count = 0;
    return 0;
}

static void
scanner_dealloc(RowScanner *self)
{
    PyObject_GC_UnTrack(self);
    scanner_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

PyDoc_STRVAR(scanner_doc,
"RowScanner(prefix, start, columns, key_size)\n"
"--\n\n"
"Called with a message value, returns (op, key, row, position) exactly as\n"
"Decoder.decode_row's Python code would, or None when it leaves the value to it.\n"
"columns: (name: bytes, kind, factor, low, high, converter) per kept column.");

static PyTypeObject RowScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "exporter._rowscan.RowScanner",
    .tp_basicsize = sizeof(RowScanner),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = scanner_doc,
    .tp_new = scanner_new,
    .tp_dealloc = (destructor)scanner_dealloc,
    .tp_traverse = (traverseproc)scanner_traverse,
    .tp_clear = (inquiry)scanner_clear,
    .tp_vectorcall_offset = offsetof(RowScanner, vectorcall),
    .tp_methods = scanner_methods,
    .tp_call = PyVectorcall_Call,
};

static struct PyModuleDef rowscan_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "exporter._rowscan",
    .m_doc = "The decoder's per-event fast path, compiled.",
    .m_size = -1,
};

PyMODINIT_FUNC
PyInit__rowscan(void)
{
    for (int c = 0x20; c < 0x80; c++)
        PLAIN[c] = c != '"' && c != '\\';
    OP_CREATE = PyUnicode_InternFromString("c");
    OP_UPDATE = PyUnicode_InternFromString("u");
    OP_READ = PyUnicode_InternFromString("r");
    VALUE_NAME = PyUnicode_InternFromString("value");
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    memset(BASE64_DIGIT, -1, sizeof BASE64_DIGIT);
    for (int i = 0; i < 64; i++)
        BASE64_DIGIT[(unsigned char)alphabet[i]] = (signed char)i;
    for (const char *c = "0123456789+-._eEiInNfFtTyYaAsS"; *c; c++)
        NUMBER_CHARACTER[(unsigned char)*c] = 1;
    PyObject *decimal = PyImport_ImportModule("decimal");
    if (decimal == NULL)
        return NULL;
    DECIMAL_TYPE = PyObject_GetAttrString(decimal, "Decimal");
    Py_DECREF(decimal);
    if (DECIMAL_TYPE == NULL)
        return NULL;
    if (OP_CREATE == NULL || OP_UPDATE == NULL || OP_READ == NULL || VALUE_NAME == NULL)
        return NULL;
    PyObject *module = PyModule_Create(&rowscan_module);
    if (module == NULL)
        return NULL;
    if (PyModule_AddType(module, &RowScannerType) < 0
        || PyModule_AddType(module, &TableStoreType) < 0
        || PyModule_AddIntConstant(module, "CALL", KIND_CALL) < 0
        || PyModule_AddIntConstant(module, "SCALED", KIND_SCALED) < 0
        || PyModule_AddIntConstant(module, "TEXT", KIND_TEXT) < 0
        || PyModule_AddIntConstant(module, "BASE64_DECIMAL", KIND_BASE64_DECIMAL) < 0
        || PyModule_AddIntConstant(module, "UNTYPED_DECIMAL", KIND_UNTYPED_DECIMAL) < 0
        || PyModule_AddIntConstant(module, "MAX_DECIMAL_SCALE", MAX_DECIMAL_SCALE) < 0
        || PyModule_AddIntConstant(module, "MAX_COLUMNS", MAX_COLUMNS) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
