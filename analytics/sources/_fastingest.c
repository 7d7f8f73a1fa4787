/* The analytics ingest's per-line work in C: cut a buffer of Nagios log lines
 * into columns without a Python object per line. Optional: without it,
 * nagtune.analytics.sources.ingest parses with its regular expression (same rows).
 *
 * split(buffer, bounds) reads every "\n"-terminated line (bytes after the
 * last "\n" are not a line; bounds are the int64 ends of the files joined in
 * the buffer, each ending in "\n") as the reference parser nagtune.parsers.nagios.parse_line
 * cuts it, up to the plugin output:
 *
 *     [EPOCH] TYPE: field;field;...;OUTPUT
 *
 * A line is *fast* when it starts with "[" + exactly 10 digits + "] ". Its
 * *head* is what parse_line needs to classify it: for a known TYPE with N
 * fields, TYPE and the text up to (not including) the N-th ";" (or the line
 * end); for a line that starts with one of the untyped prefixes ("Error in
 * configuration file", with or without a ":" later), that prefix; for another
 * TYPE, "TYPE:" or "TYPE: "; without ":", nothing. The
 * known TYPEs, their N and where their host (and service) sit among the
 * fields are not written here: set_types(rows[, prefixes]) receives them at
 * import from nagtune.parsers.grammar, rows of (tag, fields, host_field,
 * objects) and the untyped prefixes, and split refuses to run before. Where a line's host (and service) field is
 * present and not empty, it is cut out of the head and keyed in its own
 * table; the head keeps "\x01" (and ";\x02") in its place. So a head
 * repeats across hosts and services, each distinct (head, is a ";" after
 * it) gets one key and the caller parses each key once. Any other line
 * starting with "[" is *slow* (a short stamp, 12 digits): its span is
 * returned for the reference parser. Lines not starting with "[" are not
 * events. Trailing "\r"s are not part of a line (parse_line drops them).
 *
 * Returns (part_lines, rows, epochs, keys, head_starts, line_ends, first_semis,
 * heads, head_seps, slow_rows, slow_starts, slow_ends, head_ends, host_keys,
 * service_keys, hosts, services): columns as bytes holding native int64
 * (keys, host_keys, service_keys: int32, -1 where nothing was cut) for
 * numpy.frombuffer (part_lines: the lines of each part; rows: line numbers
 * in the buffer; head_ends: where each line's head ends in the buffer);
 * heads a list of bytes per key (with the placeholders); head_seps one byte
 * (0/1) per key; hosts and services the names per key. first_semis is the
 * first ";" after "TYPE: " (the line end if none): where the output of an
 * EXTERNAL COMMAND-like line starts.
 *
 * gather(buffer, starts, ends[, extra]) -> (offsets, values): the bytes
 * start:end of buffer + extra for each pair (int64 arrays; an end before its
 * start is an empty string; a span may not straddle the two) as an Arrow
 * large_string column's int64 offsets and value bytes. extra holds texts
 * that are not in the buffer (what the reference parser makes of a line).
 *
 * hash_spans(buffer, starts, ends[, extra]) -> 64 bits per span (bytes of
 * native uint64), from the span's bytes alone: what the overlap check
 * compares when the texts themselves are not kept (``texts=False``).
 *
 * output_spans(rows, keys, head_starts, line_ends, first_semis, head_lengths,
 * seps, rules) -> (starts, ends): where each kept line's plugin output lies
 * (int64 rows into split's columns; per key int64 head_lengths, one byte of
 * seps and of rules), by the reference parser's rule for the line's kind:
 * 0 fields (after the head's ";", none without), 1 message (right after the
 * head), 2 program (the whole line after the stamp), 3 command (after the
 * first ";", none without). One pass where numpy made a dozen.
 *
 * valid_utf8(buffer) -> whether buffer.decode("utf-8") would succeed.
 *
 * All run without the GIL: the ingest's parse threads run in parallel.
 * tests/test_analytics_ingest.py holds split to parse_line with hypothesis;
 * tests/test_fastscan_sanitized.py runs it under AddressSanitizer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* TYPE -> the fields before the output and where the object (host, then service)
 * sits among them: received at import from nagtune.parsers.grammar (set_types). */
typedef struct {
    char *name;
    Py_ssize_t size, fields, host_field, objects;
} LineType;

#define MAX_TYPES 64
#define MAX_OBJECT_SEMIS 8 /* host field + object fields */
static LineType TYPES[MAX_TYPES];
static size_t N_TYPES = 0;

/* Starts of lines without a "TYPE: " that still have a kind (grammar.UNTYPED_PREFIXES). */
#define MAX_PREFIXES 16
static char *PREFIXES[MAX_PREFIXES];
static Py_ssize_t PREFIX_SIZES[MAX_PREFIXES];
static size_t N_PREFIXES = 0;

static Py_ssize_t
untyped_prefix(const char *text, Py_ssize_t size)
{
    for (size_t i = 0; i < N_PREFIXES; i++) {
        if (PREFIX_SIZES[i] <= size && memcmp(PREFIXES[i], text, (size_t)PREFIX_SIZES[i]) == 0)
            return PREFIX_SIZES[i];
    }
    return 0;
}

static int
set_prefixes(PyObject *prefixes)
{
    PyObject *seq = PySequence_Fast(prefixes, "set_types: prefixes must be a sequence of str");
    if (seq == NULL)
        return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > MAX_PREFIXES) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "set_types: too many prefixes");
        return -1;
    }
    char *made[MAX_PREFIXES] = {0};
    Py_ssize_t sizes[MAX_PREFIXES] = {0};
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t size;
        const char *text = PyUnicode_AsUTF8AndSize(PySequence_Fast_GET_ITEM(seq, i), &size);
        if (text != NULL && size == 0)
            PyErr_SetString(PyExc_ValueError, "set_types: an empty prefix");
        if (text == NULL || size == 0 || (made[i] = malloc((size_t)size + 1)) == NULL) {
            if (!PyErr_Occurred())
                PyErr_NoMemory();
            for (Py_ssize_t j = 0; j < i; j++)
                free(made[j]);
            Py_DECREF(seq);
            return -1;
        }
        memcpy(made[i], text, (size_t)size + 1);
        sizes[i] = size;
    }
    Py_DECREF(seq);
    for (size_t i = 0; i < N_PREFIXES; i++)
        free(PREFIXES[i]);
    memcpy(PREFIXES, made, sizeof made);
    memcpy(PREFIX_SIZES, sizes, sizeof sizes);
    N_PREFIXES = (size_t)n;
    return 0;
}

static const LineType *
type_of(const char *type, Py_ssize_t size)
{
    /* Every line asks: lengths first, the bytes only when one matches. */
    for (size_t i = 0; i < N_TYPES; i++) {
        if (TYPES[i].size == size && memcmp(TYPES[i].name, type, size) == 0)
            return &TYPES[i];
    }
    return NULL;
}

static PyObject *
set_types(PyObject *self, PyObject *args)
{
    PyObject *rows, *prefixes = NULL;
    if (!PyArg_ParseTuple(args, "O|O", &rows, &prefixes))
        return NULL;
    if (prefixes != NULL && set_prefixes(prefixes) < 0)
        return NULL;
    PyObject *seq = PySequence_Fast(rows, "set_types: a sequence of (tag, fields, host_field, objects)");
    if (seq == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > MAX_TYPES) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_ValueError, "set_types: too many line types");
        return NULL;
    }
    LineType made[MAX_TYPES];
    memset(made, 0, sizeof made);
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *name;
        Py_ssize_t size, fields, host_field, objects;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(seq, i), "s#nnn", &name, &size, &fields, &host_field,
                              &objects)
            || fields < 1 || host_field < -1 || host_field >= fields || objects < 1
            || (host_field >= 0 && (host_field + objects > fields || host_field + objects > MAX_OBJECT_SEMIS))) {
            if (!PyErr_Occurred())
                PyErr_SetString(PyExc_ValueError, "set_types: a row's fields do not fit");
            for (Py_ssize_t j = 0; j < i; j++)
                free(made[j].name);
            Py_DECREF(seq);
            return NULL;
        }
        made[i].name = malloc((size_t)size + 1);
        if (made[i].name == NULL) {
            for (Py_ssize_t j = 0; j < i; j++)
                free(made[j].name);
            Py_DECREF(seq);
            return PyErr_NoMemory();
        }
        memcpy(made[i].name, name, (size_t)size + 1);
        made[i].size = size;
        made[i].fields = fields;
        made[i].host_field = host_field;
        made[i].objects = objects;
    }
    Py_DECREF(seq);
    for (size_t i = 0; i < N_TYPES; i++)
        free(TYPES[i].name);
    memcpy(TYPES, made, sizeof made);
    N_TYPES = (size_t)n;
    Py_RETURN_NONE;
}

/* ---- growable columns (plain malloc: filled without the GIL) ---------------- */

typedef struct {
    char *data;
    size_t used, capacity; /* bytes */
} Column;

static int
column_put(Column *column, const void *value, size_t size)
{
    if (column->used + size > column->capacity) {
        size_t capacity = column->capacity ? column->capacity * 2 : 4096;
        while (capacity < column->used + size)
            capacity *= 2;
        char *grown = realloc(column->data, capacity);
        if (grown == NULL)
            return -1;
        column->data = grown;
        column->capacity = capacity;
    }
    memcpy(column->data + column->used, value, size);
    column->used += size;
    return 0;
}

static int
put64(Column *column, int64_t value)
{
    return column_put(column, &value, sizeof value);
}

static PyObject *
column_bytes(const Column *column)
{
    return PyBytes_FromStringAndSize(column->used ? column->data : "", (Py_ssize_t)column->used);
}

/* ---- distinct heads ---------------------------------------------------------- */

/* A head is one span of the buffer, or two when the line's object (host, service) is cut
 * out of it (objects: how many fields were cut, 0 when none). */
typedef struct {
    int64_t start, size, start2, size2;
    int sep, objects;
} Head;

typedef struct {
    uint64_t *hashes; /* 0: empty slot */
    int32_t *keys;
    size_t capacity;  /* a power of two */
    Column heads;     /* Head per key, in order of first appearance */
} HeadTable;

static uint64_t
hash_bytes(uint64_t hash, const char *data, Py_ssize_t size)
{
    while (size >= 8) {
        uint64_t word;
        memcpy(&word, data, 8);
        hash = (hash ^ word) * 0xFF51AFD7ED558CCDULL;
        hash ^= hash >> 32;
        data += 8;
        size -= 8;
    }
    uint64_t word = 0;
    memcpy(&word, data, (size_t)size);
    hash = (hash ^ word) * 0xC4CEB9FE1A85EC53ULL;
    hash ^= hash >> 29;
    return hash;
}

static uint64_t
hash_head(const char *data, const Head *head)
{
    uint64_t hash = 0x9E3779B97F4A7C15ULL ^ (uint64_t)head->size ^ ((uint64_t)head->sep << 63)
                    ^ ((uint64_t)head->objects << 60);
    hash = hash_bytes(hash, data + head->start, (Py_ssize_t)head->size);
    if (head->objects)
        hash = hash_bytes(hash ^ (uint64_t)head->size2, data + head->start2, (Py_ssize_t)head->size2);
    return hash | 1;
}

/* A text's hash: what hash_spans gives (kept as it was: caches hold these numbers). */
static uint64_t
span_hash(const char *data, Py_ssize_t size)
{
    return hash_bytes(0x9E3779B97F4A7C15ULL ^ (uint64_t)size, data, size) | 1;
}

static int
same_head(const char *data, const Head *a, const Head *b)
{
    return a->size == b->size && a->sep == b->sep && a->objects == b->objects && a->size2 == b->size2
           && memcmp(data + a->start, data + b->start, (size_t)a->size) == 0
           && (!a->objects || memcmp(data + a->start2, data + b->start2, (size_t)a->size2) == 0);
}

static int
heads_grow(HeadTable *table, const char *data)
{
    size_t capacity = table->capacity ? table->capacity * 2 : 1024;
    uint64_t *hashes = calloc(capacity, sizeof(uint64_t));
    int32_t *keys = calloc(capacity, sizeof(int32_t));
    if (hashes == NULL || keys == NULL) {
        free(hashes);
        free(keys);
        return -1;
    }
    const Head *heads = (const Head *)table->heads.data;
    size_t count = table->heads.used / sizeof(Head);
    for (size_t key = 0; key < count; key++) {
        uint64_t hash = hash_head(data, &heads[key]);
        size_t slot = hash & (capacity - 1);
        while (hashes[slot] != 0)
            slot = (slot + 1) & (capacity - 1);
        hashes[slot] = hash;
        keys[slot] = (int32_t)key;
    }
    free(table->hashes);
    free(table->keys);
    table->hashes = hashes;
    table->keys = keys;
    table->capacity = capacity;
    return 0;
}

/* The key of a head, added when new; -1 when out of memory. */
static int32_t
head_key(HeadTable *table, const char *data, const Head *head)
{
    uint64_t hash = hash_head(data, head);
    size_t mask = table->capacity - 1;
    size_t slot = hash & mask;
    const Head *heads = (const Head *)table->heads.data;
    while (table->hashes[slot] != 0) {
        if (table->hashes[slot] == hash && same_head(data, &heads[table->keys[slot]], head))
            return table->keys[slot];
        slot = (slot + 1) & mask;
    }
    size_t count = table->heads.used / sizeof(Head);
    if (count >= INT32_MAX)
        return -1;
    if (column_put(&table->heads, head, sizeof *head) < 0)
        return -1;
    table->hashes[slot] = hash;
    table->keys[slot] = (int32_t)count;
    if ((count + 1) * 2 > table->capacity && heads_grow(table, data) < 0)
        return -1;
    return (int32_t)count;
}

/* The key of one span (a host or service name). */
static int32_t
span_key(HeadTable *table, const char *data, int64_t start, int64_t end)
{
    Head span = {start, end - start, 0, 0, 0, 0};
    return head_key(table, data, &span);
}

/* ---- split ------------------------------------------------------------------- */

enum { ROWS, EPOCHS, KEYS, HEAD_STARTS, LINE_ENDS, FIRST_SEMIS, HEAD_ENDS, HOST_KEYS, SERVICE_KEYS,
       SLOW_ROWS, SLOW_STARTS, SLOW_ENDS, N_COLUMNS };
#define N_LINE_COLUMNS SLOW_ROWS /* one value per fast line: sized by the line count, filled in place */
#define WIDTH(i) ((i) == KEYS || (i) == HOST_KEYS || (i) == SERVICE_KEYS ? 4 : 8)

/* The per-line columns: bytes objects made (with the GIL) for every line of the buffer,
 * written without the GIL, cut to the lines written. No growth, no copy into bytes. */
typedef struct {
    PyObject *bytes[N_LINE_COLUMNS];
    int64_t *rows, *epochs, *head_starts, *line_ends, *first_semis, *head_ends;
    int32_t *keys, *host_keys, *service_keys;
    int64_t used;
} LineColumns;

static int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* The position of the count-th ";" in data[from:end], or end. */
static int64_t
nth_semicolon(const char *data, int64_t from, int64_t end, Py_ssize_t count)
{
    while (from < end) {
        const char *found = memchr(data + from, ';', (size_t)(end - from));
        if (found == NULL)
            return end;
        if (--count == 0)
            return found - data;
        from = found - data + 1;
    }
    return end;
}

/* Fills the columns and the lines per part (parts end at bounds[0..parts-1]);
 * returns the number of lines, or -1 when out of memory. */
static int64_t
split_lines(const char *data, int64_t size, const int64_t *bounds, Py_ssize_t parts, int64_t *part_lines,
            LineColumns *out, Column *columns, HeadTable *table, HeadTable *hosts, HeadTable *services)
{
    int64_t line = 0, position = 0;
    Py_ssize_t part = 0;
    while (position < size) {
        const char *newline = memchr(data + position, '\n', (size_t)(size - position));
        if (newline == NULL)
            break;
        int64_t start = position, end = newline - data;
        position = end + 1;
        int64_t index = line++;
        while (part < parts - 1 && start >= bounds[part])
            part++;
        part_lines[part]++;
        while (end > start && data[end - 1] == '\r')
            end--;
        if (data[start] != '[')
            continue;
        int fast = end - start >= 13 && data[start + 11] == ']' && data[start + 12] == ' ';
        int64_t epoch = 0;
        for (int k = 1; fast && k <= 10; k++) {
            fast = is_digit(data[start + k]);
            epoch = epoch * 10 + (data[start + k] - '0');
        }
        if (!fast) {
            if (put64(&columns[SLOW_ROWS], index) || put64(&columns[SLOW_STARTS], start)
                || put64(&columns[SLOW_ENDS], end))
                return -1;
            continue;
        }
        int64_t type_start = start + 13;
        const char *colon = memchr(data + type_start, ':', (size_t)(end - type_start));
        int64_t colon_at = colon ? colon - data : end;
        int space = colon != NULL && colon_at + 1 < end && data[colon_at + 1] == ' ';
        const LineType *type = space ? type_of(data + type_start, (Py_ssize_t)(colon_at - type_start)) : NULL;
        Py_ssize_t fields = type ? type->fields : 0;
        Py_ssize_t prefix = type ? 0 : untyped_prefix(data + type_start, (Py_ssize_t)(end - type_start));
        int64_t after_type = colon_at + 2;
        int64_t first_semi = after_type < end ? nth_semicolon(data, after_type, end, 1) : end;
        int64_t head_end;
        if (fields > 0)
            head_end = nth_semicolon(data, after_type, end, fields);
        else if (prefix > 0)
            head_end = type_start + prefix;
        else
            head_end = colon != NULL ? colon_at + 1 + space : type_start;
        int sep = head_end < end && data[head_end] == ';';
        Head head = {type_start, head_end - type_start, 0, 0, sep, 0};
        int32_t host_key = -1, service_key = -1;
        if (type && type->host_field >= 0) {
            /* The object's fields are keyed apart: the head keeps the rest (kind, state, ...). */
            int64_t semis[MAX_OBJECT_SEMIS];
            Py_ssize_t want = type->host_field + type->objects, found = 0;
            for (int64_t at = after_type; found < want && at < head_end;) {
                const char *semi = memchr(data + at, ';', (size_t)(head_end - at));
                if (semi == NULL)
                    break;
                semis[found++] = semi - data;
                at = semi - data + 1;
            }
            if (found < want && head_end < end && data[head_end] == ';' && found + 1 == want)
                semis[found++] = head_end;
            if (found == want) {
                int64_t host_start = type->host_field ? semis[type->host_field - 1] + 1 : after_type;
                int64_t host_end = semis[type->host_field];
                int64_t service_start = host_end + 1, service_end = type->objects > 1 ? semis[want - 1] : host_end;
                if (host_end > host_start && (type->objects == 1 || service_end > service_start)) {
                    host_key = span_key(hosts, data, host_start, host_end);
                    if (type->objects > 1)
                        service_key = span_key(services, data, service_start, service_end);
                    if (host_key < 0 || (type->objects > 1 && service_key < 0))
                        return -1;
                    head.size = host_start - type_start;
                    head.start2 = semis[want - 1];
                    head.size2 = head_end - head.start2;
                    head.objects = (int)type->objects;
                }
            }
        }
        int32_t key = head_key(table, data, &head);
        if (key < 0)
            return -1;
        int64_t row = out->used++; /* at most one per "\n": the columns were sized so */
        out->rows[row] = index;
        out->epochs[row] = epoch;
        out->keys[row] = key;
        out->head_starts[row] = type_start;
        out->line_ends[row] = end;
        out->first_semis[row] = first_semi;
        out->head_ends[row] = head_end;
        out->host_keys[row] = host_key;
        out->service_keys[row] = service_key;
    }
    return line;
}

/* The names of a span table (hosts or services) as a list of bytes, by key. */
static PyObject *
span_names(const HeadTable *table, const char *data)
{
    const Head *spans = (const Head *)table->heads.data;
    Py_ssize_t count = (Py_ssize_t)(table->heads.used / sizeof(Head));
    PyObject *names = PyList_New(count);
    for (Py_ssize_t key = 0; names != NULL && key < count; key++) {
        PyObject *name = PyBytes_FromStringAndSize(data + spans[key].start, spans[key].size);
        if (name == NULL) {
            Py_CLEAR(names);
            break;
        }
        PyList_SET_ITEM(names, key, name);
    }
    return names;
}

static PyObject *
split(PyObject *self, PyObject *args)
{
    Py_buffer view, bounds;
    if (!PyArg_ParseTuple(args, "y*y*", &view, &bounds))
        return NULL;
    Column columns[N_COLUMNS];
    memset(columns, 0, sizeof columns);
    LineColumns out;
    memset(&out, 0, sizeof out);
    HeadTable table = {0}, hosts = {0}, services = {0};
    PyObject *result = NULL, *heads = NULL, *seps = NULL, *part_lines = NULL, *host_names = NULL,
             *service_names = NULL;
    Py_ssize_t parts = bounds.len / (Py_ssize_t)sizeof(int64_t);
    int64_t lines = -1;
    if (N_TYPES == 0) {
        PyErr_SetString(PyExc_RuntimeError, "split: set_types was not called");
        goto done;
    }
    if (bounds.len % sizeof(int64_t) || (parts == 0 && view.len > 0)) {
        PyErr_SetString(PyExc_ValueError, "split: bounds must be the int64 ends of the buffer's parts");
        goto done;
    }
    part_lines = PyBytes_FromStringAndSize(NULL, parts * (Py_ssize_t)sizeof(int64_t));
    if (part_lines == NULL)
        goto done;
    int64_t *counts = (int64_t *)PyBytes_AS_STRING(part_lines);
    memset(counts, 0, parts * sizeof(int64_t));
    int64_t newlines = 0;
    Py_BEGIN_ALLOW_THREADS
    for (const char *at = view.buf, *stop = at + view.len; (at = memchr(at, '\n', (size_t)(stop - at))) != NULL; at++)
        newlines++;
    Py_END_ALLOW_THREADS
    for (int i = 0; i < N_LINE_COLUMNS; i++) {
        out.bytes[i] = PyBytes_FromStringAndSize(NULL, newlines * WIDTH(i));
        if (out.bytes[i] == NULL)
            goto done;
    }
    out.rows = (int64_t *)PyBytes_AS_STRING(out.bytes[ROWS]);
    out.epochs = (int64_t *)PyBytes_AS_STRING(out.bytes[EPOCHS]);
    out.keys = (int32_t *)PyBytes_AS_STRING(out.bytes[KEYS]);
    out.head_starts = (int64_t *)PyBytes_AS_STRING(out.bytes[HEAD_STARTS]);
    out.line_ends = (int64_t *)PyBytes_AS_STRING(out.bytes[LINE_ENDS]);
    out.first_semis = (int64_t *)PyBytes_AS_STRING(out.bytes[FIRST_SEMIS]);
    out.head_ends = (int64_t *)PyBytes_AS_STRING(out.bytes[HEAD_ENDS]);
    out.host_keys = (int32_t *)PyBytes_AS_STRING(out.bytes[HOST_KEYS]);
    out.service_keys = (int32_t *)PyBytes_AS_STRING(out.bytes[SERVICE_KEYS]);
    if (heads_grow(&table, view.buf) == 0 && heads_grow(&hosts, view.buf) == 0 && heads_grow(&services, view.buf) == 0) {
        Py_BEGIN_ALLOW_THREADS
        lines = split_lines(view.buf, (int64_t)view.len, bounds.buf, parts, counts, &out, columns, &table, &hosts,
                            &services);
        Py_END_ALLOW_THREADS
    }
    if (lines < 0) {
        PyErr_NoMemory();
        goto done;
    }
    const Head *distinct = (const Head *)table.heads.data;
    Py_ssize_t count = (Py_ssize_t)(table.heads.used / sizeof(Head));
    heads = PyList_New(count);
    seps = PyBytes_FromStringAndSize(NULL, count);
    if (heads == NULL || seps == NULL)
        goto done;
    for (Py_ssize_t key = 0; key < count; key++) {
        const Head *one = &distinct[key];
        /* A head whose object was cut out reads "TYPE: ...\x01[;\x02]...": the parser sees
         * placeholders where the host and service were, taken per line from their own keys. */
        Py_ssize_t size = (Py_ssize_t)(one->size + (one->objects ? (one->objects > 1 ? 3 : 1) + one->size2 : 0));
        PyObject *head = PyBytes_FromStringAndSize(NULL, size);
        if (head == NULL)
            goto done;
        char *text = PyBytes_AS_STRING(head);
        memcpy(text, (const char *)view.buf + one->start, (size_t)one->size);
        if (one->objects) {
            char *at = text + one->size;
            *at++ = '\x01';
            if (one->objects > 1) {
                *at++ = ';';
                *at++ = '\x02';
            }
            memcpy(at, (const char *)view.buf + one->start2, (size_t)one->size2);
        }
        PyList_SET_ITEM(heads, key, head);
        PyBytes_AS_STRING(seps)[key] = (char)one->sep;
    }
    host_names = span_names(&hosts, view.buf);
    service_names = span_names(&services, view.buf);
    if (host_names == NULL || service_names == NULL)
        goto done;
    PyObject *made[N_COLUMNS];
    int complete = 1;
    for (int i = 0; i < N_COLUMNS; i++) {
        if (i < N_LINE_COLUMNS) {
            /* Cut to the lines written (the object moves: it is ours alone). */
            if (_PyBytes_Resize(&out.bytes[i], out.used * WIDTH(i)) < 0)
                out.bytes[i] = NULL; /* freed by _PyBytes_Resize */
            made[i] = out.bytes[i];
            out.bytes[i] = NULL;
        }
        else
            made[i] = column_bytes(&columns[i]);
        complete = complete && made[i] != NULL;
    }
    if (complete)
        result = Py_BuildValue("(OOOOOOOOOOOOOOOOO)", part_lines, made[ROWS], made[EPOCHS], made[KEYS],
                               made[HEAD_STARTS], made[LINE_ENDS], made[FIRST_SEMIS], heads, seps,
                               made[SLOW_ROWS], made[SLOW_STARTS], made[SLOW_ENDS], made[HEAD_ENDS],
                               made[HOST_KEYS], made[SERVICE_KEYS], host_names, service_names);
    for (int i = 0; i < N_COLUMNS; i++)
        Py_XDECREF(made[i]);
done:
    for (int i = 0; i < N_LINE_COLUMNS; i++)
        Py_XDECREF(out.bytes[i]);
    Py_XDECREF(part_lines);
    Py_XDECREF(heads);
    Py_XDECREF(seps);
    Py_XDECREF(host_names);
    Py_XDECREF(service_names);
    for (int i = 0; i < N_COLUMNS; i++)
        free(columns[i].data);
    HeadTable *tables[] = {&table, &hosts, &services};
    for (int i = 0; i < 3; i++) {
        free(tables[i]->hashes);
        free(tables[i]->keys);
        free(tables[i]->heads.data);
    }
    PyBuffer_Release(&view);
    PyBuffer_Release(&bounds);
    return result;
}

/* ---- valid_utf8 ---------------------------------------------------------------- */

/* Whether data is UTF-8 as Python's strict decoder takes it: no overlong forms,
 * no surrogates, nothing above U+10FFFF. Eight ASCII bytes a step. */
static int
is_utf8(const unsigned char *data, Py_ssize_t size)
{
    Py_ssize_t i = 0;
    while (i < size) {
        /* Logs are nearly all ASCII: 32 bytes a step while no high bit is set (one test per
           four words; the 8-byte step below picks up where a block holds a non-ASCII byte). */
        while (i + 32 <= size) {
            uint64_t words[4];
            memcpy(words, data + i, 32);
            if (((words[0] | words[1] | words[2] | words[3]) & 0x8080808080808080ULL) != 0)
                break;
            i += 32;
        }
        if (i + 8 <= size) {
            uint64_t word;
            memcpy(&word, data + i, 8);
            if ((word & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        unsigned char c = data[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        Py_ssize_t length;
        unsigned char low = 0x80, high = 0xBF; /* the range of the second byte */
        if (c >= 0xC2 && c <= 0xDF)
            length = 2;
        else if (c >= 0xE0 && c <= 0xEF) {
            length = 3;
            if (c == 0xE0)
                low = 0xA0; /* overlong */
            else if (c == 0xED)
                high = 0x9F; /* surrogates */
        }
        else if (c >= 0xF0 && c <= 0xF4) {
            length = 4;
            if (c == 0xF0)
                low = 0x90; /* overlong */
            else if (c == 0xF4)
                high = 0x8F; /* above U+10FFFF */
        }
        else
            return 0;
        if (i + length > size || data[i + 1] < low || data[i + 1] > high)
            return 0;
        for (Py_ssize_t k = 2; k < length; k++)
            if (data[i + k] < 0x80 || data[i + k] > 0xBF)
                return 0;
        i += length;
    }
    return 1;
}

static PyObject *
valid_utf8(PyObject *self, PyObject *args)
{
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view))
        return NULL;
    int valid;
    Py_BEGIN_ALLOW_THREADS
    valid = is_utf8(view.buf, view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyBool_FromLong(valid);
}

/* ---- gather and hash_spans --------------------------------------------------- */

typedef struct {
    Py_buffer view, starts, ends, extra;
    Py_ssize_t n;
    int64_t total; /* bytes in all spans */
} Spans;

/* Parses (buffer, starts, ends[, extra]) and checks every span; 0, or -1 with an error set. */
static int
spans_open(PyObject *args, const char *name, Spans *s)
{
    memset(s, 0, sizeof(*s));
    if (!PyArg_ParseTuple(args, "y*y*y*|y*", &s->view, &s->starts, &s->ends, &s->extra)) {
        memset(s, 0, sizeof(*s)); /* the parser released what it had taken */
        return -1;
    }
    s->n = s->starts.len / (Py_ssize_t)sizeof(int64_t);
    if (s->starts.len % sizeof(int64_t) || s->ends.len != s->starts.len) {
        PyErr_Format(PyExc_ValueError, "%s: starts and ends must be int64 arrays of one length", name);
        return -1;
    }
    const int64_t *start = s->starts.buf, *end = s->ends.buf;
    int64_t size = s->view.len, total_size = s->view.len + (s->extra.obj ? s->extra.len : 0);
    for (Py_ssize_t i = 0; i < s->n; i++) {
        if (end[i] <= start[i])
            continue;
        if (start[i] < 0 || end[i] > total_size || (start[i] < size && end[i] > size)) {
            PyErr_Format(PyExc_IndexError, "%s: a span lies outside the buffer and the extra bytes", name);
            return -1;
        }
        s->total += end[i] - start[i];
    }
    return 0;
}

static void
spans_close(Spans *s)
{
    if (s->view.obj)
        PyBuffer_Release(&s->view);
    if (s->starts.obj)
        PyBuffer_Release(&s->starts);
    if (s->ends.obj)
        PyBuffer_Release(&s->ends);
    if (s->extra.obj)
        PyBuffer_Release(&s->extra);
}

static const char *
span_bytes(const Spans *s, int64_t start)
{
    return start < s->view.len ? (const char *)s->view.buf + start
                               : (const char *)s->extra.buf + (start - s->view.len);
}

static PyObject *
gather(PyObject *self, PyObject *args)
{
    Spans s;
    PyObject *offsets = NULL, *values = NULL, *result = NULL;
    if (spans_open(args, "gather", &s) < 0)
        goto done;
    offsets = PyBytes_FromStringAndSize(NULL, (s.n + 1) * (Py_ssize_t)sizeof(int64_t));
    values = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)s.total);
    if (offsets == NULL || values == NULL)
        goto done;
    int64_t *offset = (int64_t *)PyBytes_AS_STRING(offsets);
    char *out = PyBytes_AS_STRING(values);
    const int64_t *start = s.starts.buf, *end = s.ends.buf;
    Py_BEGIN_ALLOW_THREADS
    int64_t at = 0;
    offset[0] = 0;
    for (Py_ssize_t i = 0; i < s.n; i++) {
        if (end[i] > start[i]) {
            memcpy(out + at, span_bytes(&s, start[i]), (size_t)(end[i] - start[i]));
            at += end[i] - start[i];
        }
        offset[i + 1] = at;
    }
    Py_END_ALLOW_THREADS
    result = PyTuple_Pack(2, offsets, values);
done:
    Py_XDECREF(offsets);
    Py_XDECREF(values);
    spans_close(&s);
    return result;
}

static PyObject *
hash_spans(PyObject *self, PyObject *args)
{
    Spans s;
    PyObject *hashes = NULL;
    if (spans_open(args, "hash_spans", &s) < 0)
        goto done;
    hashes = PyBytes_FromStringAndSize(NULL, s.n * (Py_ssize_t)sizeof(uint64_t));
    if (hashes == NULL)
        goto done;
    uint64_t *out = (uint64_t *)PyBytes_AS_STRING(hashes);
    const int64_t *start = s.starts.buf, *end = s.ends.buf;
    Py_BEGIN_ALLOW_THREADS
    /* The heads' hash: it tells texts apart for the overlap check without copying them (not a
       cryptographic hash: the texts compared are one node's own lines). */
    for (Py_ssize_t i = 0; i < s.n; i++)
        out[i] = end[i] > start[i] ? span_hash(span_bytes(&s, start[i]), (Py_ssize_t)(end[i] - start[i]))
                                   : span_hash("", 0);
    Py_END_ALLOW_THREADS
done:
    spans_close(&s);
    return hashes;
}


static PyObject *
output_spans(PyObject *self, PyObject *args)
{
    enum { ROWS, KEYS, HEAD_STARTS, LINE_ENDS, FIRST_SEMIS, HEAD_LENGTHS, SEPS, RULES, VIEWS };
    Py_buffer v[VIEWS] = {{0}};
    PyObject *starts = NULL, *ends = NULL, *result = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]))
        return NULL;
    Py_ssize_t n = v[ROWS].len / 8, lines = v[HEAD_STARTS].len / 8, heads = v[SEPS].len;
    if (v[ROWS].len % 8 || v[KEYS].len != lines * 4 || v[LINE_ENDS].len != lines * 8
        || v[FIRST_SEMIS].len != lines * 8 || v[HEAD_LENGTHS].len != heads * 8 || v[RULES].len != heads) {
        PyErr_SetString(PyExc_ValueError, "output_spans: columns of split's lengths and one entry per key expected");
        goto done;
    }
    const int64_t *rows = v[ROWS].buf;
    const int32_t *keys = v[KEYS].buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (rows[i] < 0 || rows[i] >= lines || keys[rows[i]] < 0 || keys[rows[i]] >= heads) {
            PyErr_SetString(PyExc_IndexError, "output_spans: a row or key out of range");
            goto done;
        }
    starts = PyBytes_FromStringAndSize(NULL, n * 8);
    ends = PyBytes_FromStringAndSize(NULL, n * 8);
    if (starts == NULL || ends == NULL)
        goto done;
    int64_t *start = (int64_t *)PyBytes_AS_STRING(starts), *end = (int64_t *)PyBytes_AS_STRING(ends);
    const int64_t *head_start = v[HEAD_STARTS].buf, *line_end = v[LINE_ENDS].buf, *semi = v[FIRST_SEMIS].buf;
    const int64_t *head_length = v[HEAD_LENGTHS].buf;
    const uint8_t *sep = v[SEPS].buf, *rule = v[RULES].buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t row = rows[i], key = keys[row], b = head_start[row], e = line_end[row], h = b + head_length[key];
        end[i] = e;
        switch (rule[key]) {
        case 1:
            start[i] = h;
            break;
        case 2:
            start[i] = b;
            break;
        case 3:
            start[i] = semi[row] < e ? semi[row] + 1 : e;
            break;
        default:
            start[i] = sep[key] ? h + 1 : e;
        }
    }
    Py_END_ALLOW_THREADS
    result = PyTuple_Pack(2, starts, ends);
done:
    Py_XDECREF(starts);
    Py_XDECREF(ends);
    for (int i = 0; i < VIEWS; i++)
        PyBuffer_Release(&v[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"set_types", set_types, METH_VARARGS,
     "set_types(rows[, prefixes]) -> None: the line types (tag, fields, host_field, objects) and the"
     " untyped prefixes split knows."},
    {"split", split, METH_VARARGS,
     "split(buffer, bounds) -> line columns, distinct heads and slow lines: see the C file's header."},
    {"gather", gather, METH_VARARGS,
     "gather(buffer, starts, ends[, extra]) -> (int64 offsets, values) of an Arrow large_string column."},
    {"output_spans", output_spans, METH_VARARGS,
     "output_spans(rows, keys, head_starts, line_ends, first_semis, head_lengths, seps, rules) -> (starts, ends)."},
    {"hash_spans", hash_spans, METH_VARARGS,
     "hash_spans(buffer, starts, ends[, extra]) -> uint64 per span (bytes): the texts told apart uncopied."},
    {"valid_utf8", valid_utf8, METH_VARARGS,
     "valid_utf8(buffer) -> whether bytes.decode('utf-8') would take it, without the GIL."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fastingest",
    .m_doc = "nagtune's analytics ingest: Nagios log lines to columns in C.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__fastingest(void)
{
    return PyModule_Create(&module);
}
