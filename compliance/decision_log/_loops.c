/* The decision log's two hot loops in C, for compliance/decision_log (encoding.py and chain.py),
 * which keeps the Python versions as the reference and the fallback when this extension is not
 * built (the tests compare the two). Neither changes a stored byte.
 *
 *     chain(prev, first_seq, shared, n, columns[, key]) -> bytes
 *
 * The format-3 hash chain (record_texts() and chain_hashes()) computed from Arrow string arrays
 * without a Python object per record.
 * prev       the 32-byte hash of the record before the first
 * first_seq  the first record's seq
 * shared     the bytes written after each record's seq: b"\n{batch}\n{batch_hash}\n"
 * n          the number of records
 * columns    a sequence of (offsets, data, offset): an Arrow string or binary array's 32-bit
 *            offsets buffer, its data buffer (None when it holds no bytes) and the array's offset
 * key        the log key's bytes, or None (the default) for a chain that is not keyed
 * Record i's hash is sha256(hash of record i-1 || seq as decimal || shared || each column's value
 * i, in column order), or HMAC-SHA256 under key of the same bytes (RFC 2104: the key's pads are
 * hashed once, and each record's hash continues from copies of those two states); the result is
 * the n hashes end to end. The GIL is released while hashing.
 *
 *     lines(n, pieces) -> (offsets, data) | int
 *
 * n rows of text, each the concatenation of the pieces' values for that row (json_rows()): a
 * piece is bytes (the same for every row), an Arrow string array as (offsets, data, offset) (its
 * values copied as they are), or n Python objects, in a list or a contiguous one-dimensional numpy
 * array of objects (read through its __array_interface__), each written as JSON: a str that
 * JSON holds verbatim between quotes (no quote, backslash or control character) in quotes, True,
 * False, and None or a float NaN as null (the values are read with the GIL held, then copied
 * without it). Returns an Arrow string array's 32-bit offsets and data,
 * or, when a list holds any other value, the index of that piece (for the caller to encode that
 * column itself).
 *
 *     verbatim(buffer) -> bool
 *
 * Whether the bytes hold no quote, backslash or control character (the test lines() applies to
 * each string, over a whole Arrow column's data at once).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <openssl/evp.h>

#define MAX_COLUMNS 8

typedef struct {
    Py_buffer offsets;
    Py_buffer data;
    int have_offsets, have_data;
    const int32_t *offs;      /* offsets + the array's offset */
    const unsigned char *bytes;
} column_t;

/* Opens the Arrow string array of n values whose buffers are offsets (int32) and data (None when
   it holds no bytes), starting at value offset: takes the buffers (release() gives them back) and
   checks that every offset lies inside the data and none decreases. -1 with an exception set. */
static int open_column(PyObject *offsets, PyObject *data, Py_ssize_t offset, Py_ssize_t n, column_t *c) {
    if (PyObject_GetBuffer(offsets, &c->offsets, PyBUF_SIMPLE) < 0) return -1;
    c->have_offsets = 1;
    if (data != Py_None) {
        if (PyObject_GetBuffer(data, &c->data, PyBUF_SIMPLE) < 0) return -1;
        c->have_data = 1;
    }
    if (offset < 0 || (c->offsets.len / 4) < offset + n + 1) {
        PyErr_SetString(PyExc_ValueError, "offsets buffer too short for the array"); return -1;
    }
    c->offs = (const int32_t *)c->offsets.buf + offset;
    c->bytes = c->have_data ? (const unsigned char *)c->data.buf : (const unsigned char *)"";
    if (c->offs[0] < 0 || c->offs[n] > (c->have_data ? c->data.len : 0)) {
        PyErr_SetString(PyExc_ValueError, "offsets outside the data buffer"); return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (c->offs[i + 1] < c->offs[i]) { PyErr_SetString(PyExc_ValueError, "offsets decrease"); return -1; }
    return 0;
}

static void release(column_t *cols, int k) {
    for (int j = 0; j < k; j++) {
        if (cols[j].have_offsets) PyBuffer_Release(&cols[j].offsets);
        if (cols[j].have_data) PyBuffer_Release(&cols[j].data);
    }
}

/* The decimal digits of v >= 0 (as Arrow's and Python's int-to-string casts write them), written
 * to end before `end`; returns where they begin. */
static char *decimal(unsigned long long v, char *end) {
    char *p = end;
    do { *--p = (char)('0' + v % 10); v /= 10; } while (v);
    return p;
}

#define SHA256_BLOCK 64

/* The two HMAC-SHA256 states after the key's inner and outer pads: 0 on failure. */
static int hmac_pads(const EVP_MD *md, const unsigned char *key, size_t keylen, EVP_MD_CTX *inner,
                     EVP_MD_CTX *outer) {
    unsigned char k0[SHA256_BLOCK], ipad[SHA256_BLOCK], opad[SHA256_BLOCK];
    unsigned int len = 0;
    memset(k0, 0, sizeof k0);
    if (keylen > SHA256_BLOCK) {
        if (!EVP_Digest(key, keylen, k0, &len, md, NULL)) return 0;
    } else if (keylen) {
        memcpy(k0, key, keylen);
    }
    for (int i = 0; i < SHA256_BLOCK; i++) { ipad[i] = k0[i] ^ 0x36; opad[i] = k0[i] ^ 0x5c; }
    return EVP_DigestInit_ex(inner, md, NULL) && EVP_DigestUpdate(inner, ipad, SHA256_BLOCK)
        && EVP_DigestInit_ex(outer, md, NULL) && EVP_DigestUpdate(outer, opad, SHA256_BLOCK);
}

static PyObject *chain(PyObject *self, PyObject *args) {
    Py_buffer prev, shared, key = {0};
    long long first_seq;
    Py_ssize_t n;
    PyObject *columns;
    if (!PyArg_ParseTuple(args, "y*Ly*nO|z*", &prev, &first_seq, &shared, &n, &columns, &key))
        return NULL;
    int keyed = key.buf != NULL;
    PyObject *result = NULL, *seq = NULL;
    column_t cols[MAX_COLUMNS];
    Py_ssize_t ncols = 0, k;
    unsigned char *out;
    int failed = 0;
    memset(cols, 0, sizeof cols);

    if (prev.len != 32) { PyErr_SetString(PyExc_ValueError, "prev must be 32 bytes"); goto done; }
    if (n < 0) { PyErr_SetString(PyExc_ValueError, "n must not be negative"); goto done; }
    if (first_seq < 0 || first_seq > LLONG_MAX - n) {
        PyErr_SetString(PyExc_OverflowError, "seqs must be from 0 to 2**63 - 1"); goto done;
    }
    seq = PySequence_Fast(columns, "columns must be a sequence");
    if (!seq) goto done;
    ncols = PySequence_Fast_GET_SIZE(seq);
    if (ncols > MAX_COLUMNS) { PyErr_SetString(PyExc_ValueError, "too many columns"); goto done; }
    for (k = 0; k < ncols; k++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, k), *offsets, *data;
        Py_ssize_t offset;
        if (!PyArg_ParseTuple(item, "OOn;a column is (offsets, data, offset)", &offsets, &data, &offset))
            goto done;
        if (open_column(offsets, data, offset, n, &cols[k]) < 0) goto done;
    }

    result = PyBytes_FromStringAndSize(NULL, 32 * n);
    if (!result) goto done;
    out = (unsigned char *)PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_MD_CTX *inner = keyed ? EVP_MD_CTX_new() : NULL, *outer = keyed ? EVP_MD_CTX_new() : NULL;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);   /* fetched once, not per record */
#else
    const EVP_MD *md = EVP_sha256();
#endif
    if (!ctx || !md || (keyed && (!inner || !outer))) failed = 1;
    if (keyed && !failed) failed = !hmac_pads(md, key.buf, (size_t)key.len, inner, outer);
    unsigned char inner_hash[32];
    const unsigned char *last = (const unsigned char *)prev.buf;
    char digits[24];
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        char *d = decimal((unsigned long long)(first_seq + i), digits + sizeof digits);
        unsigned int len = 0;
        failed = !(keyed ? EVP_MD_CTX_copy_ex(ctx, inner) : EVP_DigestInit_ex(ctx, md, NULL))
              || !EVP_DigestUpdate(ctx, last, 32)
              || !EVP_DigestUpdate(ctx, d, (size_t)(digits + sizeof digits - d))
              || !EVP_DigestUpdate(ctx, shared.buf, (size_t)shared.len);
        for (Py_ssize_t j = 0; j < ncols && !failed; j++) {
            const column_t *c = &cols[j];
            failed = !EVP_DigestUpdate(ctx, c->bytes + c->offs[i], (size_t)(c->offs[i + 1] - c->offs[i]));
        }
        if (!failed && keyed)
            failed = !EVP_DigestFinal_ex(ctx, inner_hash, &len) || len != 32
                  || !EVP_MD_CTX_copy_ex(ctx, outer) || !EVP_DigestUpdate(ctx, inner_hash, 32);
        if (!failed) failed = !EVP_DigestFinal_ex(ctx, out, &len) || len != 32;
        last = out;
        out += 32;
    }
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD_free(md);
#endif
    EVP_MD_CTX_free(ctx);
    EVP_MD_CTX_free(inner);
    EVP_MD_CTX_free(outer);
    Py_END_ALLOW_THREADS
    if (failed) {
        Py_CLEAR(result);
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL sha256 failed");
    }

done:
    release(cols, MAX_COLUMNS);      /* the flags say which buffers are held */
    Py_XDECREF(seq);
    PyBuffer_Release(&prev);
    PyBuffer_Release(&shared);
    if (keyed) PyBuffer_Release(&key);
    return result;
}


enum { LITERAL, ARROW, OBJECTS };

typedef struct {
    PyObject *value;           /* a reference held until the end, which keeps s alive */
    const char *s;
    Py_ssize_t len;
    int quoted;
} text_t;

typedef struct {
    int kind;
    Py_buffer literal;         /* LITERAL */
    column_t column;           /* ARROW */
    text_t *texts;             /* OBJECTS: each value's text, read without the GIL */
    Py_ssize_t held;           /* OBJECTS: how many texts hold their value */
} piece_t;

/* The values of a numpy array of objects, one-dimensional and contiguous, of length n, read
 * through the array interface (no numpy headers needed); NULL with an exception if it is not. */
static PyObject **object_array(PyObject *array, Py_ssize_t n) {
    PyObject *face = PyObject_GetAttrString(array, "__array_interface__"), *v;
    PyObject **items = NULL;
    if (!face) return NULL;
    if (!PyDict_Check(face)) goto bad;
    v = PyDict_GetItemString(face, "typestr");
    if (!v || !PyUnicode_Check(v) || PyUnicode_CompareWithASCIIString(v, "|O") != 0) goto bad;
    v = PyDict_GetItemString(face, "strides");
    if (v && v != Py_None) goto bad;
    v = PyDict_GetItemString(face, "shape");
    if (!v || !PyTuple_Check(v) || PyTuple_GET_SIZE(v) != 1 || PyLong_AsSsize_t(PyTuple_GET_ITEM(v, 0)) != n) goto bad;
    v = PyDict_GetItemString(face, "data");
    if (!v || !PyTuple_Check(v) || PyTuple_GET_SIZE(v) < 1) goto bad;
    items = (PyObject **)PyLong_AsVoidPtr(PyTuple_GET_ITEM(v, 0));
    if (!items && n) goto bad;
    Py_DECREF(face);
    return items ? items : (PyObject **)&items;        /* n == 0: anything not NULL */
bad:
    Py_DECREF(face);
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "an array of values must be a contiguous 1-d object array of n values");
    return NULL;
}

/* Whether the UTF-8 text can stand between JSON quotes as it is (no branch per byte: vectorized). */
static int verbatim(const unsigned char *s, Py_ssize_t len) {
    unsigned char bad = 0;
    for (Py_ssize_t i = 0; i < len; i++)
        bad |= (unsigned char)((s[i] < 0x20) | (s[i] == '"') | (s[i] == '\\'));
    return !bad;
}

/* The JSON text of one value: its bytes (*quoted: to be written between quotes), or NULL when
 * this function does not encode it. A str's UTF-8 is cached in the str by CPython. */
static const char *json_value(PyObject *v, Py_ssize_t *len, int *quoted) {
    *quoted = 0;
    if (PyUnicode_Check(v)) {
        const char *s = PyUnicode_AsUTF8AndSize(v, len);
        if (!s) { PyErr_Clear(); return NULL; }            /* lone surrogates: the caller's error */
        if (!verbatim((const unsigned char *)s, *len)) return NULL;
        *quoted = 1;
        return s;
    }
    if (v == Py_True) { *len = 4; return "true"; }
    if (v == Py_False) { *len = 5; return "false"; }
    if (v == Py_None || (PyFloat_CheckExact(v) && isnan(PyFloat_AS_DOUBLE(v)))) { *len = 4; return "null"; }
    return NULL;
}

static void release_pieces(piece_t *pieces, Py_ssize_t count) {
    for (Py_ssize_t j = 0; j < count; j++) {
        if (pieces[j].kind == LITERAL && pieces[j].literal.obj) PyBuffer_Release(&pieces[j].literal);
        if (pieces[j].kind == ARROW) release(&pieces[j].column, 1);
        for (Py_ssize_t i = 0; i < pieces[j].held; i++) Py_DECREF(pieces[j].texts[i].value);
        PyMem_Free(pieces[j].texts);
    }
}

static PyObject *lines(PyObject *self, PyObject *args) {
    Py_ssize_t n, count = 0, j, i;
    PyObject *list, *seq = NULL, *result = NULL, *offsets = NULL, *data = NULL;
    piece_t *pieces = NULL;
    long long total = 0;
    int32_t *offs;
    char *start, *out;
    if (!PyArg_ParseTuple(args, "nO", &n, &list)) return NULL;
    if (n < 0) { PyErr_SetString(PyExc_ValueError, "n must not be negative"); return NULL; }
    seq = PySequence_Fast(list, "pieces must be a sequence");
    if (!seq) return NULL;
    count = PySequence_Fast_GET_SIZE(seq);
    pieces = PyMem_Calloc(count ? count : 1, sizeof *pieces);
    if (!pieces) { PyErr_NoMemory(); goto done; }
    for (j = 0; j < count; j++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, j);
        piece_t *p = &pieces[j];
        if (PyBytes_Check(item)) {
            p->kind = LITERAL;
            if (PyObject_GetBuffer(item, &p->literal, PyBUF_SIMPLE) < 0) goto done;
            total += (long long)n * p->literal.len;
        } else if (!PyTuple_Check(item)) {                 /* a list or an array of values */
            PyObject **items = NULL;
            p->kind = OBJECTS;
            if (PyList_CheckExact(item)) {
                if (PyList_GET_SIZE(item) != n) { PyErr_SetString(PyExc_ValueError, "a list of another length"); goto done; }
            } else if (!(items = object_array(item, n))) {
                goto done;
            }
            p->texts = PyMem_Malloc((n ? n : 1) * sizeof *p->texts);
            if (!p->texts) { PyErr_NoMemory(); goto done; }
            for (i = 0; i < n; i++) {
                text_t *t = &p->texts[i];
                if (!items && i >= PyList_GET_SIZE(item)) {
                    PyErr_SetString(PyExc_RuntimeError, "a list changed while it was read"); goto done;
                }
                t->value = items ? items[i] : PyList_GET_ITEM(item, i);
                Py_INCREF(t->value);
                p->held++;
                t->s = json_value(t->value, &t->len, &t->quoted);
                if (!t->s) {
                    result = PyLong_FromSsize_t(j);
                    goto done;
                }
                total += t->len + 2 * t->quoted;
            }
        } else {
            PyObject *o, *d;
            Py_ssize_t offset;
            p->kind = ARROW;
            column_t *c = &p->column;
            if (!PyArg_ParseTuple(item, "OOn;a piece is bytes, a list or (offsets, data, offset)", &o, &d, &offset))
                goto done;
            if (open_column(o, d, offset, n, c) < 0) goto done;
            total += c->offs[n] - c->offs[0];
        }
    }
    if (total > INT32_MAX) { PyErr_SetString(PyExc_OverflowError, "more than 2 GiB of text"); goto done; }

    offsets = PyBytes_FromStringAndSize(NULL, 4 * (n + 1));
    data = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
    if (!offsets || !data) goto done;
    offs = (int32_t *)PyBytes_AS_STRING(offsets);
    start = out = PyBytes_AS_STRING(data);
    offs[0] = 0;
    Py_BEGIN_ALLOW_THREADS             /* all read from buffers and texts held until the end */
    for (i = 0; i < n; i++) {
        for (j = 0; j < count; j++) {
            const piece_t *p = &pieces[j];
            if (p->kind == LITERAL) {
                memcpy(out, p->literal.buf, (size_t)p->literal.len);
                out += p->literal.len;
            } else if (p->kind == ARROW) {
                const column_t *c = &p->column;
                size_t len = (size_t)(c->offs[i + 1] - c->offs[i]);
                memcpy(out, c->bytes + c->offs[i], len);
                out += len;
            } else {
                const text_t *t = &p->texts[i];
                if (t->quoted) *out++ = '"';
                memcpy(out, t->s, (size_t)t->len);
                out += t->len;
                if (t->quoted) *out++ = '"';
            }
        }
        offs[i + 1] = (int32_t)(out - start);
    }
    Py_END_ALLOW_THREADS
    result = PyTuple_Pack(2, offsets, data);

done:
    if (pieces) release_pieces(pieces, count);
    PyMem_Free(pieces);
    Py_XDECREF(offsets);
    Py_XDECREF(data);
    Py_XDECREF(seq);
    return result;
}

static PyObject *verbatim_buffer(PyObject *self, PyObject *arg) {
    Py_buffer view;
    int ok;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) return NULL;
    Py_BEGIN_ALLOW_THREADS
    ok = verbatim((const unsigned char *)view.buf, view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    return PyBool_FromLong(ok);
}

static PyMethodDef methods[] = {
    {"chain", chain, METH_VARARGS,
     "chain(prev, first_seq, shared, n, columns[, key]) -> bytes: the chain hashes of n records "
     "read from Arrow string arrays' buffers (HMAC-SHA256 under key when given), 32 bytes each, end "
     "to end."},
    {"lines", lines, METH_VARARGS,
     "lines(n, pieces) -> (offsets, data) | int: n rows of text joined from the pieces (bytes, Arrow "
     "string arrays, lists of values written as JSON), as an Arrow string array's buffers; or the "
     "index of a list holding a value it does not encode."},
    {"verbatim", verbatim_buffer, METH_O,
     "verbatim(buffer) -> bool: whether the bytes hold no quote, backslash or control character "
     "(UTF-8 text JSON holds verbatim between quotes)."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "compliance.decision_log._loops",
    "The decision log's hash chain and JSON lines in C; see compliance.decision_log.", -1, methods
};

PyMODINIT_FUNC PyInit__loops(void) { return PyModule_Create(&module); }
