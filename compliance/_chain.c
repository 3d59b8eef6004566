/* The decision log's hash chain (format 3), computed from Arrow string arrays without a Python
 * object per record: see compliance/decision_log.py, record_texts() and chain_hashes(), which this
 * must match byte for byte (the tests compare the two).
 *
 *     chain(prev, first_seq, shared, n, columns) -> bytes
 *
 * prev       the 32-byte hash of the record before the first
 * first_seq  the first record's seq
 * shared     the bytes written after each record's seq: b"\n{batch}\n{batch_hash}\n"
 * n          the number of records
 * columns    a sequence of (offsets, data, offset): an Arrow string or binary array's 32-bit
 *            offsets buffer, its data buffer (None when it holds no bytes) and the array's offset
 *
 * Record i's hash is sha256(hash of record i-1 || seq as decimal || shared || each column's value
 * i, in column order); the result is the n hashes end to end. The GIL is released while hashing.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
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

static PyObject *chain(PyObject *self, PyObject *args) {
    Py_buffer prev, shared;
    long long first_seq;
    Py_ssize_t n;
    PyObject *columns;
    if (!PyArg_ParseTuple(args, "y*Ly*nO", &prev, &first_seq, &shared, &n, &columns))
        return NULL;
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
        column_t *c = &cols[k];
        if (PyObject_GetBuffer(offsets, &c->offsets, PyBUF_SIMPLE) < 0) goto done;
        c->have_offsets = 1;
        if (data != Py_None) {
            if (PyObject_GetBuffer(data, &c->data, PyBUF_SIMPLE) < 0) goto done;
            c->have_data = 1;
        }
        if (offset < 0 || (c->offsets.len / 4) < offset + n + 1) {
            PyErr_SetString(PyExc_ValueError, "offsets buffer too short for the array"); goto done;
        }
        c->offs = (const int32_t *)c->offsets.buf + offset;
        c->bytes = c->have_data ? (const unsigned char *)c->data.buf : (const unsigned char *)"";
        Py_ssize_t size = c->have_data ? c->data.len : 0;
        if (c->offs[0] < 0 || c->offs[n] > size) {
            PyErr_SetString(PyExc_ValueError, "offsets outside the data buffer"); goto done;
        }
        for (Py_ssize_t i = 0; i < n; i++)
            if (c->offs[i + 1] < c->offs[i]) {
                PyErr_SetString(PyExc_ValueError, "offsets decrease"); goto done;
            }
    }

    result = PyBytes_FromStringAndSize(NULL, 32 * n);
    if (!result) goto done;
    out = (unsigned char *)PyBytes_AS_STRING(result);
    Py_BEGIN_ALLOW_THREADS
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);   /* fetched once, not per record */
#else
    const EVP_MD *md = EVP_sha256();
#endif
    if (!ctx || !md) failed = 1;
    const unsigned char *last = (const unsigned char *)prev.buf;
    char digits[24];
    for (Py_ssize_t i = 0; i < n && !failed; i++) {
        char *d = decimal((unsigned long long)(first_seq + i), digits + sizeof digits);
        unsigned int len = 0;
        failed = !EVP_DigestInit_ex(ctx, md, NULL)
              || !EVP_DigestUpdate(ctx, last, 32)
              || !EVP_DigestUpdate(ctx, d, (size_t)(digits + sizeof digits - d))
              || !EVP_DigestUpdate(ctx, shared.buf, (size_t)shared.len);
        for (Py_ssize_t j = 0; j < ncols && !failed; j++) {
            const column_t *c = &cols[j];
            failed = !EVP_DigestUpdate(ctx, c->bytes + c->offs[i], (size_t)(c->offs[i + 1] - c->offs[i]));
        }
        if (!failed) failed = !EVP_DigestFinal_ex(ctx, out, &len) || len != 32;
        last = out;
        out += 32;
    }
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    EVP_MD_free(md);
#endif
    EVP_MD_CTX_free(ctx);
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
    return result;
}


static PyMethodDef methods[] = {
    {"chain", chain, METH_VARARGS,
     "chain(prev, first_seq, shared, n, columns) -> bytes: the format-3 chain hashes of n records "
     "read from Arrow string arrays' buffers, 32 bytes each, end to end."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "compliance._chain",
    "The decision log's hash chain in C (OpenSSL sha256); see compliance.decision_log.", -1, methods
};

PyMODINIT_FUNC PyInit__chain(void) { return PyModule_Create(&module); }
