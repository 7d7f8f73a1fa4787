/* Per-object grouping of event rows in C: the sorts and interval joins that the
 * episode builder and the ranking do on millions of rows. Optional: without
 * it, nagtune.analytics.findings._groups does the same with numpy and pandas (same
 * answers, several times slower).
 *
 * Keys are int64 (one per host or service object), times int64 (ns). Every
 * array is a buffer of native int64; results are bytes of native int64 (or
 * one byte per row for flags) for numpy.frombuffer.
 *
 * order_by_key_time(keys[, times]) -> order: the rows sorted by key, then
 * time, ties in row order: numpy.lexsort((times, keys)), or without times
 * numpy.argsort(keys, kind="stable"). Keys repeat enormously (a few thousand
 * objects in millions of rows) and each object's rows usually come in time
 * order already, so this is a counting sort over a hash of the distinct keys,
 * O(n), and only a group found out of time order is sorted on its own.
 *
 * locate(ep_keys, ep_starts, ep_ends, keys, times) -> index per point: of
 * the episodes with the point's key, the one with the latest start at or
 * before the point's time (ties: the later row); its row if the point is at
 * or before its end, else -1. What pandas.merge_asof(direction="backward")
 * followed by "time <= end" gives.
 *
 * overlapping(ep_keys, ep_starts, ep_ends, iv_keys, iv_starts, iv_ends) ->
 * one byte per episode: whether an interval of its key overlaps it (starts
 * at or before its end and ends at or after its start).
 *
 * episode_runs(rows, keys, times, states, kinds, types, attempts,
 *              severity_of_state, is_alert_kind, is_hard_type) -> columns of
 * the problem episodes in observation rows sorted by key then time (rows:
 * their positions in the event columns; keys: sorted, one per row). Event
 * columns: times int64, states/kinds/types/attempts int16 (category codes,
 * -1 missing; attempts -1 missing); the three tables hold one int8 per code,
 * code -1 last. A problem runs from a row of severity > 0 after a row of its
 * key that was not (or its key's first row) through its rows until the
 * first row of severity 0 after it, the recovery, included. Returns
 * (first, start, end, first_hard, severity, recovered, max_attempt, alerts,
 * before_window): first is the problem's first position in rows; end the
 * time of its last row; first_hard the first HARD problem row's time
 * (INT64_MIN: none); severity (int8) the worst; max_attempt the highest
 * attempt of its problem rows (0 when missing); alerts how many of its rows
 * are alerts; before_window (uint8) whether its first row is its key's first
 * and not an alert (a state snapshot). analytics/findings/episodes.py keeps the numpy
 * version the tests hold this to.
 *
 * flap_percent(keys, times, recorded, states, ok, default_interval, history,
 *              low, slope) -> float64 per alert row: Nagios' percent state
 * change after each recorded row (0 on the others), its unlogged checks put
 * back, for rows sorted by key then time (times in seconds; recorded, ok:
 * one byte per row; states: int64 codes). The very arithmetic, in the same
 * order, of the numpy version in analytics/findings/flapping.py (percent_at_alerts),
 * which the tests hold this to bit for bit.
 *
 * All run without the GIL. tests/test_analytics_groups.py holds them to
 * brute force with hypothesis.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

typedef struct {
    int64_t *keys;    /* distinct keys, in first-seen order */
    int64_t *counts;  /* rows per distinct key */
    Py_ssize_t distinct;
    int64_t *slot_key;
    int32_t *slot_id; /* -1: empty */
    Py_ssize_t capacity;
} KeyTable;

static uint64_t
mix(uint64_t x)
{
    /* splitmix64's finaliser: object keys are structured (codes times powers of two) */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static void
table_free(KeyTable *t)
{
    free(t->keys);
    free(t->counts);
    free(t->slot_key);
    free(t->slot_id);
}

static int
table_grow(KeyTable *t)
{
    Py_ssize_t capacity = t->capacity ? t->capacity * 2 : 1024;
    int64_t *slot_key = malloc(sizeof(int64_t) * capacity);
    int32_t *slot_id = malloc(sizeof(int32_t) * capacity);
    int64_t *keys = realloc(t->keys, sizeof(int64_t) * (capacity / 2));
    int64_t *counts = realloc(t->counts, sizeof(int64_t) * (capacity / 2));
    if (keys)
        t->keys = keys;
    if (counts)
        t->counts = counts;
    if (!slot_key || !slot_id || !keys || !counts) {
        free(slot_key);
        free(slot_id);
        return -1;
    }
    for (Py_ssize_t i = 0; i < capacity; i++)
        slot_id[i] = -1;
    for (Py_ssize_t id = 0; id < t->distinct; id++) {
        uint64_t at = mix((uint64_t)t->keys[id]) & (uint64_t)(capacity - 1);
        while (slot_id[at] >= 0)
            at = (at + 1) & (uint64_t)(capacity - 1);
        slot_key[at] = t->keys[id];
        slot_id[at] = (int32_t)id;
    }
    free(t->slot_key);
    free(t->slot_id);
    t->slot_key = slot_key;
    t->slot_id = slot_id;
    t->capacity = capacity;
    return 0;
}

/* The id of key (first-seen order), adding it if new; -1 when out of memory. */
static int32_t
table_id(KeyTable *t, int64_t key)
{
    uint64_t mask = (uint64_t)(t->capacity - 1);
    uint64_t at = mix((uint64_t)key) & mask;
    while (t->slot_id[at] >= 0) {
        if (t->slot_key[at] == key)
            return t->slot_id[at];
        at = (at + 1) & mask;
    }
    if ((t->distinct + 1) * 2 > t->capacity || t->distinct >= INT32_MAX) {
        if (t->distinct >= INT32_MAX || table_grow(t) < 0)
            return -1;
        return table_id(t, key);
    }
    int32_t id = (int32_t)t->distinct++;
    t->slot_key[at] = key;
    t->slot_id[at] = id;
    t->keys[id] = key;
    t->counts[id] = 0;
    return id;
}

typedef struct {
    int64_t time;
    int64_t row;
} TimedRow;

static int
by_time_then_row(const void *a, const void *b)
{
    const TimedRow *x = a, *y = b;
    if (x->time != y->time)
        return x->time < y->time ? -1 : 1;
    return x->row < y->row ? -1 : (x->row > y->row);
}

typedef struct {
    int64_t key;
    int32_t id;
} KeyId;

static int
by_key(const void *a, const void *b)
{
    const KeyId *x = a, *y = b;
    return x->key < y->key ? -1 : (x->key > y->key);
}

/* order[0..n) = rows by key, then time (if times), then row. 0, or -1 when out of memory. */
static int
order_rows(const int64_t *keys, const int64_t *times, Py_ssize_t n, int64_t *order)
{
    KeyTable t = {0};
    int32_t *ids = malloc(sizeof(int32_t) * (n ? n : 1));
    int status = -1;
    KeyId *sorted = NULL;
    int64_t *next = NULL, *last_time = NULL;
    char *unordered = NULL;
    if (!ids || table_grow(&t) < 0)
        goto done;
    for (Py_ssize_t i = 0; i < n; i++) {
        int32_t id = table_id(&t, keys[i]);
        if (id < 0)
            goto done;
        ids[i] = id;
        t.counts[id]++;
    }
    Py_ssize_t d = t.distinct;
    sorted = malloc(sizeof(KeyId) * (d ? d : 1));
    next = malloc(sizeof(int64_t) * (d ? d : 1));
    last_time = malloc(sizeof(int64_t) * (d ? d : 1));
    unordered = calloc(d ? d : 1, 1);
    if (!sorted || !next || !last_time || !unordered)
        goto done;
    for (Py_ssize_t id = 0; id < d; id++) {
        sorted[id].key = t.keys[id];
        sorted[id].id = (int32_t)id;
        last_time[id] = INT64_MIN;
    }
    qsort(sorted, (size_t)d, sizeof(KeyId), by_key);
    int64_t at = 0;
    for (Py_ssize_t k = 0; k < d; k++) {
        next[sorted[k].id] = at;
        at += t.counts[sorted[k].id];
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        order[next[id]++] = i;
        if (times) {
            if (times[i] < last_time[id])
                unordered[id] = 1;
            last_time[id] = times[i];
        }
    }
    if (times) {
        /* next[id] is now the end of the group's run */
        TimedRow *scratch = NULL;
        Py_ssize_t scratch_size = 0;
        for (Py_ssize_t id = 0; id < d; id++) {
            if (!unordered[id])
                continue;
            Py_ssize_t size = t.counts[id], begin = next[id] - size;
            if (size > scratch_size) {
                TimedRow *grown = realloc(scratch, sizeof(TimedRow) * size);
                if (!grown) {
                    free(scratch);
                    goto done;
                }
                scratch = grown;
                scratch_size = size;
            }
            for (Py_ssize_t j = 0; j < size; j++) {
                scratch[j].row = order[begin + j];
                scratch[j].time = times[scratch[j].row];
            }
            qsort(scratch, (size_t)size, sizeof(TimedRow), by_time_then_row);
            for (Py_ssize_t j = 0; j < size; j++)
                order[begin + j] = scratch[j].row;
        }
        free(scratch);
    }
    status = 0;
done:
    free(ids);
    free(sorted);
    free(next);
    free(last_time);
    free(unordered);
    table_free(&t);
    return status;
}

/* A buffer argument as int64 values; sets *n, or fails when sizes disagree. */
static int
int64_view(Py_buffer *view, Py_ssize_t *n, const char *what)
{
    if (view->len % (Py_ssize_t)sizeof(int64_t)) {
        PyErr_Format(PyExc_ValueError, "%s: not a buffer of int64", what);
        return -1;
    }
    Py_ssize_t count = view->len / (Py_ssize_t)sizeof(int64_t);
    if (*n >= 0 && count != *n) {
        PyErr_Format(PyExc_ValueError, "%s: %zd values where %zd were expected", what, count, *n);
        return -1;
    }
    *n = count;
    return 0;
}

static void
release_all(Py_buffer *views, int count)
{
    for (int i = 0; i < count; i++)
        if (views[i].obj)
            PyBuffer_Release(&views[i]);
}

static PyObject *
order_by_key_time(PyObject *self, PyObject *args)
{
    Py_buffer views[2] = {{0}};
    PyObject *result = NULL;
    if (!PyArg_ParseTuple(args, "y*|y*", &views[0], &views[1]))
        return NULL;
    Py_ssize_t n = -1;
    if (int64_view(&views[0], &n, "keys") < 0 || (views[1].obj && int64_view(&views[1], &n, "times") < 0))
        goto done;
    result = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(int64_t));
    if (!result)
        goto done;
    int status;
    const int64_t *keys = views[0].buf, *times = views[1].obj ? views[1].buf : NULL;
    int64_t *order = (int64_t *)PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS
    status = order_rows(keys, times, n, order);
    Py_END_ALLOW_THREADS
    if (status < 0) {
        Py_CLEAR(result);
        PyErr_NoMemory();
    }
done:
    release_all(views, 2);
    return result;
}

/* For each point (in key-then-time order), the episode (in key-then-start order) it falls in. */
static void
locate_sorted(const int64_t *ep_keys, const int64_t *ep_starts, const int64_t *ep_ends, const int64_t *ep_order,
              Py_ssize_t m, const int64_t *keys, const int64_t *times, const int64_t *order, Py_ssize_t n,
              int64_t *found)
{
    Py_ssize_t e = 0;
    for (Py_ssize_t p = 0; p < n; p++) {
        int64_t row = order[p], key = keys[row], time = times[row];
        while (e < m && ep_keys[ep_order[e]] < key)
            e++;
        /* the last episode of this key starting at or before the point */
        while (e + 1 < m && ep_keys[ep_order[e + 1]] == key && ep_starts[ep_order[e + 1]] <= time)
            e++;
        found[row] = -1;
        if (e < m) {
            int64_t ep = ep_order[e];
            if (ep_keys[ep] == key && ep_starts[ep] <= time && time <= ep_ends[ep])
                found[row] = ep;
        }
    }
}

/* Episodes (key, start, end) joined with other rows (key, time[, end]), each side in
   key-then-time order: the kernel fills out from the two orders. */
typedef void (*JoinKernel)(const int64_t *const *episodes, const int64_t *episode_order, Py_ssize_t m,
                           const int64_t *const *others, const int64_t *other_order, Py_ssize_t n, char *out);

static void
locate_kernel(const int64_t *const *ep, const int64_t *ep_order, Py_ssize_t m, const int64_t *const *points,
              const int64_t *order, Py_ssize_t n, char *out)
{
    locate_sorted(ep[0], ep[1], ep[2], ep_order, m, points[0], points[1], order, n, (int64_t *)out);
}

static void
overlapping_kernel(const int64_t *const *ep, const int64_t *ep_order, Py_ssize_t m, const int64_t *const *iv,
                   const int64_t *iv_order, Py_ssize_t n, char *hit)
{
    /* Episodes by end, intervals by start: walking both, the intervals started by an
       episode's end are behind the cursor, and the latest end among them decides. */
    const int64_t *ep_keys = ep[0], *ep_starts = ep[1], *ep_ends = ep[2];
    const int64_t *iv_keys = iv[0], *iv_starts = iv[1], *iv_ends = iv[2];
    Py_ssize_t i = 0;
    int64_t current = 0, latest_end = INT64_MIN;
    int started = 0;
    for (Py_ssize_t e = 0; e < m; e++) {
        int64_t row = ep_order[e], key = ep_keys[row];
        if (!started || key != current) {
            current = key;
            started = 1;
            latest_end = INT64_MIN;
            while (i < n && iv_keys[iv_order[i]] < key)
                i++;
        }
        while (i < n && iv_keys[iv_order[i]] == key && iv_starts[iv_order[i]] <= ep_ends[row]) {
            if (iv_ends[iv_order[i]] > latest_end)
                latest_end = iv_ends[iv_order[i]];
            i++;
        }
        hit[row] = latest_end != INT64_MIN && latest_end >= ep_starts[row];
    }
}

/* Parses (ep_keys, ep_starts, ep_ends, other columns...), orders the episodes by key then
   the column episode_time (1: start, 2: end) and the others by key then their second
   column, and runs the kernel into bytes of out_size per episode (per_episode) or per
   other row. */
static PyObject *
join(PyObject *args, int other_columns, int episode_time, Py_ssize_t out_size, int per_episode, JoinKernel kernel)
{
    static const char *names[] = {"ep_keys", "ep_starts", "ep_ends", "keys", "times", "ends"};
    Py_buffer views[6] = {{0}};
    PyObject *result = NULL;
    int64_t *ep_order = NULL, *order = NULL;
    int columns = 3 + other_columns;
    if (!PyArg_ParseTuple(args, other_columns == 2 ? "y*y*y*y*y*" : "y*y*y*y*y*y*", &views[0], &views[1],
                          &views[2], &views[3], &views[4], &views[5]))
        return NULL;
    Py_ssize_t m = -1, n = -1;
    const int64_t *ep[3], *others[3];
    for (int c = 0; c < columns; c++) {
        if (int64_view(&views[c], c < 3 ? &m : &n, names[c]) < 0)
            goto done;
        if (c < 3)
            ep[c] = views[c].buf;
        else
            others[c - 3] = views[c].buf;
    }
    result = PyBytes_FromStringAndSize(NULL, (per_episode ? m : n) * out_size);
    ep_order = malloc(sizeof(int64_t) * (m ? m : 1));
    order = malloc(sizeof(int64_t) * (n ? n : 1));
    if (!result || !ep_order || !order) {
        Py_CLEAR(result);
        PyErr_NoMemory();
        goto done;
    }
    int status;
    char *out = PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS
    status = order_rows(ep[0], ep[episode_time], m, ep_order);
    if (status == 0)
        status = order_rows(others[0], others[1], n, order);
    if (status == 0)
        kernel(ep, ep_order, m, others, order, n, out);
    Py_END_ALLOW_THREADS
    if (status < 0) {
        Py_CLEAR(result);
        PyErr_NoMemory();
    }
done:
    free(ep_order);
    free(order);
    release_all(views, columns);
    return result;
}

static PyObject *
locate(PyObject *self, PyObject *args)
{
    return join(args, 2, 1, sizeof(int64_t), 0, locate_kernel);
}

static PyObject *
overlapping(PyObject *self, PyObject *args)
{
    return join(args, 3, 2, 1, 1, overlapping_kernel);
}

typedef struct {
    int64_t *first, *start, *end, *first_hard, *max_attempt, *alerts;
    int8_t *severity;
    uint8_t *recovered, *before_window;
} Runs;

static Py_ssize_t
find_runs(const int64_t *rows, const int64_t *keys, Py_ssize_t n, const int64_t *times, const int16_t *states,
          const int16_t *kinds, const int16_t *types, const int16_t *attempts, const int8_t *severity_of,
          Py_ssize_t n_states, const int8_t *alert_of, Py_ssize_t n_kinds, const int8_t *hard_of, Py_ssize_t n_types,
          Runs *out)
{
    /* A code outside its table (never from pandas) reads as the missing value's entry. */
#define LOOKUP(table, size, code) ((table)[((code) >= 0 && (code) < (size) - 1) ? (code) : (size) - 1])
    Py_ssize_t count = -1;
    int open = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t row = rows[i];
        int same = i > 0 && keys[i] == keys[i - 1];
        int8_t severity = LOOKUP(severity_of, n_states, states[row]);
        int alert = LOOKUP(alert_of, n_kinds, kinds[row]) != 0;
        if (open && !same)
            open = 0; /* the key's last problem stays open */
        if (severity > 0 && !open) {
            count++;
            open = 1;
            out->first[count] = i;
            out->start[count] = times[row];
            out->first_hard[count] = INT64_MIN;
            out->severity[count] = 0;
            out->recovered[count] = 0;
            out->max_attempt[count] = 0;
            out->alerts[count] = 0;
            out->before_window[count] = !alert && !same;
        }
        else if (!open)
            continue;
        out->end[count] = times[row];
        out->alerts[count] += alert;
        if (severity > 0) {
            if (severity > out->severity[count])
                out->severity[count] = severity;
            if (attempts[row] > out->max_attempt[count])
                out->max_attempt[count] = attempts[row];
            if (LOOKUP(hard_of, n_types, types[row]) && out->first_hard[count] == INT64_MIN)
                out->first_hard[count] = times[row];
        }
        else {
            out->recovered[count] = 1;
            open = 0;
        }
    }
#undef LOOKUP
    return count + 1;
}

static PyObject *
episode_runs(PyObject *self, PyObject *args)
{
    enum { ROWS, KEYS, TIMES, STATES, KINDS, TYPES, ATTEMPTS, SEVERITY, ALERT, HARD, VIEWS };
    Py_buffer views[VIEWS] = {{0}};
    PyObject *result = NULL;
    Runs runs = {0};
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*y*y*y*y*y*", &views[0], &views[1], &views[2], &views[3], &views[4],
                          &views[5], &views[6], &views[7], &views[8], &views[9]))
        return NULL;
    Py_ssize_t n = -1, events = -1;
    if (int64_view(&views[ROWS], &n, "rows") < 0 || int64_view(&views[KEYS], &n, "keys") < 0
        || int64_view(&views[TIMES], &events, "times") < 0)
        goto done;
    for (int v = STATES; v <= ATTEMPTS; v++)
        if (views[v].len != events * (Py_ssize_t)sizeof(int16_t)) {
            PyErr_SetString(PyExc_ValueError, "episode_runs: an event column is not int16 of the times' length");
            goto done;
        }
    for (int v = SEVERITY; v <= HARD; v++)
        if (views[v].len < 1) {
            PyErr_SetString(PyExc_ValueError, "episode_runs: a table needs the missing code's entry");
            goto done;
        }
    const int64_t *rows = views[ROWS].buf;
    for (Py_ssize_t i = 0; i < n; i++)
        if (rows[i] < 0 || rows[i] >= events) {
            PyErr_SetString(PyExc_IndexError, "episode_runs: a row outside the event columns");
            goto done;
        }
    Py_ssize_t size = n ? n : 1;
    runs.first = malloc(sizeof(int64_t) * size);
    runs.start = malloc(sizeof(int64_t) * size);
    runs.end = malloc(sizeof(int64_t) * size);
    runs.first_hard = malloc(sizeof(int64_t) * size);
    runs.max_attempt = malloc(sizeof(int64_t) * size);
    runs.alerts = malloc(sizeof(int64_t) * size);
    runs.severity = malloc(size);
    runs.recovered = malloc(size);
    runs.before_window = malloc(size);
    if (!runs.first || !runs.start || !runs.end || !runs.first_hard || !runs.max_attempt || !runs.alerts
        || !runs.severity || !runs.recovered || !runs.before_window) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t found;
    Py_BEGIN_ALLOW_THREADS
    found = find_runs(rows, views[KEYS].buf, n, views[TIMES].buf, views[STATES].buf, views[KINDS].buf,
                      views[TYPES].buf, views[ATTEMPTS].buf, views[SEVERITY].buf, views[SEVERITY].len,
                      views[ALERT].buf, views[ALERT].len, views[HARD].buf, views[HARD].len, &runs);
    Py_END_ALLOW_THREADS
    Py_ssize_t wide = found * (Py_ssize_t)sizeof(int64_t);
    result = Py_BuildValue("(y#y#y#y#y#y#y#y#y#)", (char *)runs.first, wide, (char *)runs.start, wide,
                           (char *)runs.end, wide, (char *)runs.first_hard, wide, (char *)runs.severity, found,
                           (char *)runs.recovered, found, (char *)runs.max_attempt, wide, (char *)runs.alerts, wide,
                           (char *)runs.before_window, found);
done:
    free(runs.first);
    free(runs.start);
    free(runs.end);
    free(runs.first_hard);
    free(runs.max_attempt);
    free(runs.alerts);
    free(runs.severity);
    free(runs.recovered);
    free(runs.before_window);
    release_all(views, VIEWS);
    return result;
}


/* ---- flap_percent ---------------------------------------------------------------- */

typedef struct {
    double default_interval, low, slope;
    int64_t history;
} FlapModel;

/* One key's rows [g0, g1). pos/chg: scratch for its recorded rows. */
static void
flap_key(const int64_t *times, const uint8_t *recorded, const int64_t *states, const uint8_t *ok, Py_ssize_t g0,
         Py_ssize_t g1, const FlapModel *model, double *percent, int64_t *pos, uint8_t *chg)
{
    /* The check interval: the shortest positive gap after a recorded row, at most the default. */
    double shortest = INFINITY;
    for (Py_ssize_t i = g0; i + 1 < g1; i++) {
        double gap = (double)(times[i + 1] - times[i]);
        if (recorded[i] && gap > 0 && gap < shortest)
            shortest = gap;
    }
    double interval = shortest < model->default_interval ? shortest : model->default_interval;
    int64_t window = model->history - 2; /* a change counts while at most this many checks back */
    Py_ssize_t m = 0, first = 0;
    int64_t position = 0, previous_fill = 0, previous_state = 0, changes = 0, change_positions = 0;
    for (Py_ssize_t i = g0; i < g1; i++) {
        percent[i] = 0.0;
        if (!recorded[i])
            continue;
        /* Unlogged checks after this row: the gap in intervals, rounded half to even, minus one. */
        double gap = i + 1 < g1 ? (double)(times[i + 1] - times[i]) : 0.0;
        double checks = rint(gap / interval) - 1;
        int64_t fill = (int64_t)(checks < 0 ? 0 : checks > model->history - 1 ? model->history - 1 : checks);
        int change;
        if (m == 0) /* the history starts all OK, as Nagios' does */
            change = !ok[i];
        else {
            position += 1 + previous_fill;
            change = states[i] != previous_state;
        }
        previous_fill = fill;
        previous_state = states[i];
        pos[m] = position;
        chg[m] = (uint8_t)change;
        m++;
        changes += change;
        change_positions += change ? position : 0;
        while (pos[first] < position - window) {
            changes -= chg[first];
            change_positions -= chg[first] ? pos[first] : 0;
            first++;
        }
        double weighted = (double)changes * (model->low + (double)(window - position) * model->slope);
        weighted += model->slope * (double)change_positions;
        percent[i] = weighted * 100.0 / (double)(model->history - 1);
    }
}

static PyObject *
flap_percent(PyObject *self, PyObject *args)
{
    enum { KEYS, TIMES, RECORDED, STATES, OK, VIEWS };
    Py_buffer views[VIEWS] = {{0}};
    FlapModel model;
    PyObject *result = NULL;
    int64_t *pos = NULL;
    uint8_t *chg = NULL;
    if (!PyArg_ParseTuple(args, "y*y*y*y*y*dLdd", &views[0], &views[1], &views[2], &views[3], &views[4],
                          &model.default_interval, &model.history, &model.low, &model.slope))
        return NULL;
    Py_ssize_t n = -1;
    if (int64_view(&views[KEYS], &n, "keys") < 0 || int64_view(&views[TIMES], &n, "times") < 0
        || int64_view(&views[STATES], &n, "states") < 0)
        goto done;
    if (views[RECORDED].len != n || views[OK].len != n || model.history < 2 || !(model.default_interval > 0)) {
        PyErr_SetString(PyExc_ValueError, "flap_percent: recorded and ok need one byte per row; history >= 2, "
                                          "default_interval > 0");
        goto done;
    }
    result = PyBytes_FromStringAndSize(NULL, n * (Py_ssize_t)sizeof(double));
    pos = malloc(sizeof(int64_t) * (n ? n : 1));
    chg = malloc(n ? n : 1);
    if (result == NULL || pos == NULL || chg == NULL) {
        Py_CLEAR(result);
        PyErr_NoMemory();
        goto done;
    }
    const int64_t *keys = views[KEYS].buf;
    double *percent = (double *)PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t g0 = 0, g1; g0 < n; g0 = g1) {
        for (g1 = g0 + 1; g1 < n && keys[g1] == keys[g0]; g1++)
            ;
        flap_key(views[TIMES].buf, views[RECORDED].buf, views[STATES].buf, views[OK].buf, g0, g1, &model, percent,
                 pos, chg);
    }
    Py_END_ALLOW_THREADS
done:
    free(pos);
    free(chg);
    release_all(views, VIEWS);
    return result;
}

static PyMethodDef methods[] = {
    {"order_by_key_time", order_by_key_time, METH_VARARGS,
     "order_by_key_time(keys[, times]) -> int64 order by key, then time, then row."},
    {"locate", locate, METH_VARARGS,
     "locate(ep_keys, ep_starts, ep_ends, keys, times) -> int64 episode row per point, -1 for none."},
    {"overlapping", overlapping, METH_VARARGS,
     "overlapping(ep_keys, ep_starts, ep_ends, iv_keys, iv_starts, iv_ends) -> one byte per episode."},
    {"flap_percent", flap_percent, METH_VARARGS,
     "flap_percent(keys, times, recorded, states, ok, default_interval, history, low, slope) -> float64 per row."},
    {"episode_runs", episode_runs, METH_VARARGS,
     "episode_runs(rows, keys, times, states, kinds, types, attempts, severity, alert, hard) -> episode columns."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fastgroups",
    .m_doc = "nagtune's analytics: per-object sorts and interval joins in C.",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC
PyInit__fastgroups(void)
{
    return PyModule_Create(&module);
}
