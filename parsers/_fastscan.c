/* The node's hot path in C: tally a buffer of nagios.log lines, and format
 * Graphite plaintext. Optional: nagtune.parsers.scan uses it when it was
 * built and falls back to the pure-Python scanner (same answers) otherwise.
 *
 * tally(buffer, counter_type) reads the buffer line by line, as the regular
 * expression _STAMPED of scan.py reads it (keep the two in step; the tests
 * compare them with hypothesis on hostile lines), and returns
 *
 *     (by_minute, texts, lines, matched)
 *
 * by_minute  {epoch // 60: counter_type {text: lines}}, minutes and texts in
 *            order of first appearance, as the Python scanner builds them;
 * texts      every distinct text, in order of first appearance;
 * lines      lines in the buffer (a last line without "\n" counts);
 * matched    lines with an "[epoch] " stamp that the pattern took.
 *
 * One difference, on purpose: a notification's text leaves out the contact
 * ("SERVICE NOTIFICATION: ;host;service;state"). No metric name carries the
 * contact, so the lines of one minute that differ only by who was told are
 * counted under one text here instead of being summed by name later.
 *
 * Python objects are made once per distinct text and per count update, never
 * per field: one bytes object per distinct text (a small open-addressing
 * table of spans finds it again), one dict update per line.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if PY_VERSION_HEX < 0x03090000 /* the node side builds on Python 3.8 too */
#define PyObject_CallNoArgs(callable) PyObject_CallObject((callable), NULL)
#endif

/* ---- distinct texts -------------------------------------------------------- */

typedef struct {
    uint64_t *hashes;
    PyObject **texts; /* borrowed: the result list holds them */
    size_t capacity;  /* a power of two */
    size_t used;
} TextTable;

static uint64_t
hash_span(const char *data, Py_ssize_t size)
{
    uint64_t hash = 1469598103934665603ULL; /* FNV-1a */
    for (Py_ssize_t i = 0; i < size; i++) {
        hash ^= (unsigned char)data[i];
        hash *= 1099511628211ULL;
    }
    return hash | 1; /* 0 marks an empty slot */
}

static int
table_init(TextTable *table)
{
    table->capacity = 1024;
    table->used = 0;
    table->hashes = PyMem_Calloc(table->capacity, sizeof(uint64_t));
    table->texts = PyMem_Calloc(table->capacity, sizeof(PyObject *));
    if (table->hashes == NULL || table->texts == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void
table_free(TextTable *table)
{
    PyMem_Free(table->hashes);
    PyMem_Free(table->texts);
}

static int
table_grow(TextTable *table)
{
    size_t capacity = table->capacity * 2;
    uint64_t *hashes = PyMem_Calloc(capacity, sizeof(uint64_t));
    PyObject **texts = PyMem_Calloc(capacity, sizeof(PyObject *));
    if (hashes == NULL || texts == NULL) {
        PyMem_Free(hashes);
        PyMem_Free(texts);
        PyErr_NoMemory();
        return -1;
    }
    for (size_t i = 0; i < table->capacity; i++) {
        if (table->hashes[i] == 0)
            continue;
        size_t slot = table->hashes[i] & (capacity - 1);
        while (hashes[slot] != 0)
            slot = (slot + 1) & (capacity - 1);
        hashes[slot] = table->hashes[i];
        texts[slot] = table->texts[i];
    }
    table_free(table);
    table->hashes = hashes;
    table->texts = texts;
    table->capacity = capacity;
    return 0;
}

/* The bytes object of this text (borrowed), made and appended to `order` the
 * first time it is seen; NULL with an exception set on failure. */
static PyObject *
table_text(TextTable *table, const char *data, Py_ssize_t size, PyObject *order)
{
    uint64_t hash = hash_span(data, size);
    size_t mask = table->capacity - 1;
    size_t slot = hash & mask;
    while (table->hashes[slot] != 0) {
        if (table->hashes[slot] == hash) {
            PyObject *text = table->texts[slot];
            if (PyBytes_GET_SIZE(text) == size && memcmp(PyBytes_AS_STRING(text), data, size) == 0)
                return text;
        }
        slot = (slot + 1) & mask;
    }
    PyObject *text = PyBytes_FromStringAndSize(data, size);
    if (text == NULL)
        return NULL;
    int failed = PyList_Append(order, text);
    Py_DECREF(text); /* the list keeps it alive until the caller drops the result */
    if (failed)
        return NULL;
    table->hashes[slot] = hash;
    table->texts[slot] = text;
    table->used++;
    if (table->used * 2 > table->capacity && table_grow(table) < 0)
        return NULL;
    return text;
}

/* ---- one line, as _STAMPED reads it ------------------------------------------ */

static int
starts(const char *p, const char *end, const char *literal, size_t size)
{
    return (size_t)(end - p) >= size && memcmp(p, literal, size) == 0;
}
#define STARTS(p, end, literal) starts((p), (end), (literal), sizeof(literal) - 1)

/* [^;\n]*+ : the end of a field that ends at ';' or the end of the line. */
static const char *
field_end(const char *p, const char *end)
{
    const char *semicolon = memchr(p, ';', end - p);
    return semicolon ? semicolon : end;
}

static int
one_of(const char *p, const char *q, const char *const *words)
{
    for (; *words; words++) {
        size_t size = strlen(*words);
        if ((size_t)(q - p) == size && memcmp(p, *words, size) == 0)
            return 1;
    }
    return 0;
}

static const char *const SERVICE_STATES[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN", NULL};
static const char *const HOST_STATES[] = {"UP", "DOWN", "UNREACHABLE", NULL};
static const char *const STATE_TYPES[] = {"SOFT", "HARD", NULL};

/* _END: ";" digits, then ";" or "\r"* up to the end of the line. */
static int
attempt_follows(const char *p, const char *end)
{
    if (p >= end || *p != ';')
        return 0;
    const char *digits = ++p;
    while (p < end && *p >= '0' && *p <= '9')
        p++;
    if (p == digits)
        return 0;
    if (p < end && *p == ';')
        return 1;
    while (p < end && *p == '\r')
        p++;
    return p == end;
}

/* "F1;...;Fn" where the fields flagged in `nonempty` must not be empty; sets
 * ends[i] to the end of each field. Returns 1 when all n fields are there and
 * each but the last ends at ';'. */
static int
fields(const char *p, const char *end, int n, const char *nonempty, const char **ends)
{
    for (int i = 0; i < n; i++) {
        const char *q = field_end(p, end);
        if (nonempty[i] && q == p)
            return 0;
        if (i < n - 1 && q == end)
            return 0;
        ends[i] = q;
        p = q + 1;
    }
    return 1;
}

typedef struct {
    const char *data; /* the text: in the buffer, or in the scratch area */
    Py_ssize_t size;
} Text;

/* The four common shapes. Alerts: fields up to the state type, the state
 * from `states`, then the attempt. Notifications: contact, host[, service],
 * state followed by ';'; their text leaves the contact out. */
typedef struct {
    const char *prefix;
    size_t size; /* of the prefix */
    int fields;
    const char *nonempty; /* which fields must not be empty */
    const char *const *states; /* NULL for a notification */
} Shape;

#define SHAPE(prefix, fields, nonempty, states) {prefix, sizeof(prefix) - 1, fields, nonempty, states}
static const Shape SHAPES[] = {
    SHAPE("SERVICE ALERT: ", 4, "\1\1\0\0", SERVICE_STATES),
    SHAPE("HOST ALERT: ", 3, "\1\0\0", HOST_STATES),
    SHAPE("SERVICE NOTIFICATION: ", 4, "\0\1\1\0", NULL),
    SHAPE("HOST NOTIFICATION: ", 3, "\0\1\0", NULL),
};

/* The text of the body of a stamped line (what follows "[epoch] "): a span of
 * the line, or for a notification one built in `scratch` (room for the
 * body's size) without the contact. */
static void
body_text(const char *p, const char *end, char *scratch, Text *text)
{
    const char *ends[4];
    for (size_t i = 0; i < sizeof(SHAPES) / sizeof(SHAPES[0]); i++) {
        const Shape *shape = &SHAPES[i];
        size_t size = shape->size;
        if (!starts(p, end, shape->prefix, size))
            continue;
        int n = shape->fields;
        if (!fields(p + size, end, n, shape->nonempty, ends))
            break;
        const char *last = ends[n - 1];
        if (shape->states != NULL) {
            if (one_of(ends[n - 3] + 1, ends[n - 2], shape->states) && one_of(ends[n - 2] + 1, last, STATE_TYPES)
                && attempt_follows(last, end)) {
                text->data = p;
                text->size = last - p;
                return;
            }
        }
        else if (last < end) {
            Py_ssize_t rest = last - ends[0]; /* from the ';' after the contact */
            memcpy(scratch, p, size);
            memcpy(scratch + size, ends[0], rest);
            text->data = scratch;
            text->size = size + rest;
            return;
        }
        break;
    }
    /* Rare lines go whole to the reference parser. */
    if (STARTS(p, end, "SERVICE FLAPPING ALERT: ") || STARTS(p, end, "SERVICE DOWNTIME ALERT: ")
        || STARTS(p, end, "HOST FLAPPING ALERT: ") || STARTS(p, end, "HOST DOWNTIME ALERT: ")
        || STARTS(p, end, "EXTERNAL COMMAND: ACKNOWLEDGE_SVC_PROBLEM;")
        || STARTS(p, end, "EXTERNAL COMMAND: ACKNOWLEDGE_HOST_PROBLEM;")) {
        text->data = p;
        text->size = end - p;
        return;
    }
    /* A shipped type whose fields did not fit: its name alone (unparsed). */
    static const char *const SHIPPED[] = {
        "SERVICE ALERT:", "HOST ALERT:", "SERVICE NOTIFICATION:", "HOST NOTIFICATION:",
        "SERVICE FLAPPING ALERT:", "HOST FLAPPING ALERT:", "SERVICE DOWNTIME ALERT:",
        "HOST DOWNTIME ALERT:", NULL,
    };
    for (const char *const *kind = SHIPPED; *kind; kind++) {
        size_t size = strlen(*kind);
        if (starts(p, end, *kind, size)) {
            text->data = p;
            text->size = size;
            return;
        }
    }
    text->data = p; /* any other stamped line */
    text->size = 0;
}

/* "[" 1-12 digits "] ": the epoch and where the body starts, or -1. */
static long long
stamp(const char *p, const char *end, const char **body)
{
    if (p >= end || *p != '[')
        return -1;
    p++;
    long long epoch = 0;
    int digits = 0;
    while (p < end && *p >= '0' && *p <= '9' && digits < 12) {
        epoch = epoch * 10 + (*p - '0');
        p++;
        digits++;
    }
    if (digits == 0 || end - p < 2 || p[0] != ']' || p[1] != ' ')
        return -1;
    *body = p + 2;
    return epoch;
}

/* ---- tally ------------------------------------------------------------------------ */

static int
count_line(PyObject *block, PyObject *text)
{
    PyObject *old = PyDict_GetItemWithError(block, text);
    long long lines = 1;
    if (old != NULL) {
        lines = PyLong_AsLongLong(old) + 1;
        if (lines == 0 && PyErr_Occurred())
            return -1;
    }
    else if (PyErr_Occurred())
        return -1;
    PyObject *value = PyLong_FromLongLong(lines);
    if (value == NULL)
        return -1;
    int failed = PyDict_SetItem(block, text, value);
    Py_DECREF(value);
    return failed;
}

static PyObject *
minute_block(PyObject *by_minute, long long minute_index, PyObject *counter_type)
{
    PyObject *key = PyLong_FromLongLong(minute_index);
    if (key == NULL)
        return NULL;
    PyObject *block = PyDict_GetItemWithError(by_minute, key);
    if (block == NULL && !PyErr_Occurred()) {
        block = PyObject_CallNoArgs(counter_type);
        if (block != NULL) {
            int failed = PyDict_SetItem(by_minute, key, block);
            Py_DECREF(block); /* by_minute keeps it */
            if (failed)
                block = NULL;
        }
    }
    Py_DECREF(key);
    return block;
}

static PyObject *
tally(PyObject *Py_UNUSED(module), PyObject *args)
{
    Py_buffer view;
    PyObject *counter_type;
    if (!PyArg_ParseTuple(args, "y*O:tally", &view, &counter_type))
        return NULL;
    const char *data = view.buf, *end_of_all = data + view.len;
    PyObject *by_minute = PyDict_New(), *order = PyList_New(0), *result = NULL;
    TextTable table = {0};
    char *scratch = NULL;
    Py_ssize_t scratch_size = 0;
    long long lines = 0, matched = 0, current_minute = -1;
    PyObject *block = NULL; /* borrowed, the Counter of current_minute */

    if (by_minute == NULL || order == NULL || table_init(&table) < 0)
        goto done;
    for (const char *p = data; p < end_of_all;) {
        const char *newline = memchr(p, '\n', end_of_all - p);
        const char *end = newline ? newline : end_of_all;
        const char *body;
        lines++;
        long long epoch = stamp(p, end, &body);
        if (epoch >= 0) {
            Text text;
            if (end - body + 32 > scratch_size) {
                PyMem_Free(scratch);
                scratch_size = (end - body + 32) * 2;
                scratch = PyMem_Malloc(scratch_size);
                if (scratch == NULL) {
                    PyErr_NoMemory();
                    goto done;
                }
            }
            body_text(body, end, scratch, &text);
            PyObject *bytes = table_text(&table, text.data, text.size, order);
            if (bytes == NULL)
                goto done;
            long long minute_index = epoch / 60;
            if (block == NULL || minute_index != current_minute) {
                block = minute_block(by_minute, minute_index, counter_type);
                if (block == NULL)
                    goto done;
                current_minute = minute_index;
            }
            if (count_line(block, bytes) < 0)
                goto done;
            matched++;
        }
        p = newline ? newline + 1 : end_of_all;
    }
    result = Py_BuildValue("(OOLL)", by_minute, order, lines, matched);
done:
    PyMem_Free(scratch);
    table_free(&table);
    Py_XDECREF(by_minute);
    Py_XDECREF(order);
    PyBuffer_Release(&view);
    return result;
}

/* ---- named columns ---------------------------------------------------------------- */

/* named_columns(by_minute, names) -> (point names, lines, minutes): every count
 * of by_minute whose text has a name, the counts of texts that share a name in
 * one minute added up; minutes as epoch seconds. */
static PyObject *
named_columns(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *by_minute, *names;
    if (!PyArg_ParseTuple(args, "O!O!:named_columns", &PyDict_Type, &by_minute, &PyDict_Type, &names))
        return NULL;
    PyObject *point_names = PyList_New(0), *values = PyList_New(0), *minutes = PyList_New(0);
    PyObject *seen = PyDict_New(); /* name -> its index, within one minute */
    PyObject *result = NULL, *minute_key, *block, *text, *count;
    Py_ssize_t position = 0;
    if (point_names == NULL || values == NULL || minutes == NULL || seen == NULL)
        goto done;
    while (PyDict_Next(by_minute, &position, &minute_key, &block)) {
        if (!PyDict_Check(block)) {
            PyErr_SetString(PyExc_TypeError, "by_minute values must be dicts");
            goto done;
        }
        long long minute_index = PyLong_AsLongLong(minute_key);
        if (minute_index == -1 && PyErr_Occurred())
            goto done;
        PyObject *minute = PyLong_FromLongLong(minute_index * 60);
        if (minute == NULL)
            goto done;
        PyDict_Clear(seen);
        Py_ssize_t inner = 0;
        int failed = 0;
        while (!failed && PyDict_Next(block, &inner, &text, &count)) {
            PyObject *name = PyDict_GetItemWithError(names, text);
            if (name == NULL) {
                failed = PyErr_Occurred() != NULL;
                continue;
            }
            PyObject *at = PyDict_GetItemWithError(seen, name);
            if (at != NULL) {
                Py_ssize_t i = PyLong_AsSsize_t(at);
                PyObject *sum = PyNumber_Add(PyList_GET_ITEM(values, i), count);
                failed = sum == NULL || PyList_SetItem(values, i, sum) < 0;
                continue;
            }
            PyObject *index = PyErr_Occurred() ? NULL : PyLong_FromSsize_t(PyList_GET_SIZE(point_names));
            failed = index == NULL || PyDict_SetItem(seen, name, index) < 0 || PyList_Append(point_names, name) < 0
                     || PyList_Append(values, count) < 0 || PyList_Append(minutes, minute) < 0;
            Py_XDECREF(index);
        }
        Py_DECREF(minute);
        if (failed)
            goto done;
    }
    result = PyTuple_Pack(3, point_names, values, minutes);
done:
    Py_XDECREF(point_names);
    Py_XDECREF(values);
    Py_XDECREF(minutes);
    Py_XDECREF(seen);
    return result;
}

/* ---- Graphite plaintext --------------------------------------------------------- */

/* " %lld" without sprintf, which parses its format for every number. */
static char *
put_number(char *out, long long number)
{
    char digits[24];
    int size = 0;
    unsigned long long magnitude = number < 0 ? 0ULL - (unsigned long long)number : (unsigned long long)number;
    do {
        digits[size++] = (char)('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    *out++ = ' ';
    if (number < 0)
        *out++ = '-';
    while (size)
        *out++ = digits[--size];
    return out;
}

static PyObject *
plaintext(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *names, *values, *times;
    if (!PyArg_ParseTuple(args, "O!O!O!:plaintext", &PyList_Type, &names, &PyList_Type, &values,
                          &PyList_Type, &times))
        return NULL;
    Py_ssize_t count = PyList_GET_SIZE(names);
    if (PyList_GET_SIZE(values) != count || PyList_GET_SIZE(times) != count) {
        PyErr_SetString(PyExc_ValueError, "names, values and times differ in length");
        return NULL;
    }
    if (count == 0)
        return PyBytes_FromStringAndSize("", 0);
    /* One pass for the size, one to write: the payload is made in place. */
    Py_ssize_t capacity = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *name = PyList_GET_ITEM(names, i);
        if (PyUnicode_Check(name) && PyUnicode_READY(name) < 0)
            return NULL;
        if (!PyUnicode_Check(name) || !PyUnicode_IS_ASCII(name)) {
            PyErr_Format(PyExc_ValueError, "metric name %R is not ASCII text", name);
            return NULL;
        }
        capacity += PyUnicode_GET_LENGTH(name) + 2 * 21 + 1; /* " -9223372036854775808" twice, "\n" */
    }
    PyObject *payload = PyBytes_FromStringAndSize(NULL, capacity);
    if (payload == NULL)
        return NULL;
    char *out = PyBytes_AS_STRING(payload), *start = out;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *name = PyList_GET_ITEM(names, i);
        long long value = PyLong_AsLongLong(PyList_GET_ITEM(values, i));
        long long when = PyLong_AsLongLong(PyList_GET_ITEM(times, i));
        if ((value == -1 || when == -1) && PyErr_Occurred()) {
            Py_DECREF(payload);
            return NULL;
        }
        Py_ssize_t size = PyUnicode_GET_LENGTH(name);
        memcpy(out, PyUnicode_DATA(name), size);
        out = put_number(put_number(out + size, value), when);
        *out++ = '\n';
    }
    if (_PyBytes_Resize(&payload, out - start) < 0)
        return NULL;
    return payload;
}

static PyMethodDef methods[] = {
    {"tally", tally, METH_VARARGS,
     "tally(buffer, counter_type) -> (by_minute, texts, lines, matched): see nagtune.parsers.scan."},
    {"named_columns", named_columns, METH_VARARGS,
     "named_columns(by_minute, names) -> (point names, lines, minutes): see nagtune.parsers.scan."},
    {"plaintext", plaintext, METH_VARARGS,
     "plaintext(names, values, times) -> b'name value time\\n' lines (names must be ASCII)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fastscan",
    .m_doc = "nagtune's node-side scanner and formatter in C.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__fastscan(void)
{
    return PyModule_Create(&module);
}
