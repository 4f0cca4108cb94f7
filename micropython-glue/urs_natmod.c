// urs_natmod.c: what the dynamic native module (.mpy) needs besides the
// glue's own sources: the C library functions the Rust core and the compiler
// call, and the parts of MicroPython's API that py/dynruntime.h lacks, made
// from mp_fun_table and Python objects (declared in urs_natmod.h).  Empty in
// the firmware, where all of these are the firmware's own.

#include "umqtt_rs_glue.h"

#if MICROPY_ENABLE_DYNRUNTIME

// ---- C library ------------------------------------------------------------
// A natmod links no libc: the memory functions go to the firmware's through
// mp_fun_table where it has them.

void *memcpy(void *dst, const void *src, size_t n) {
    return mp_fun_table.memmove_(dst, src, n);
}
void *memmove(void *dst, const void *src, size_t n) {
    return mp_fun_table.memmove_(dst, src, n);
}
void *memset(void *s, int c, size_t n) {
    return mp_fun_table.memset_(s, c, n);
}
int memcmp(const void *a, const void *b, size_t n) {
    const uint8_t *p = a, *q = b;
    for (size_t i = 0; i < n; ++i) {
        if (p[i] != q[i]) {
            return p[i] < q[i] ? -1 : 1;
        }
    }
    return 0;
}
int bcmp(const void *a, const void *b, size_t n) {
    return memcmp(a, b, n);
}
void *memchr(const void *s, int c, size_t n) {
    const uint8_t *p = s;
    for (size_t i = 0; i < n; ++i) {
        if (p[i] == (uint8_t)c) {
            return (void *)(p + i);
        }
    }
    return NULL;
}
size_t strlen(const char *s) {
    size_t n = 0;
    while (s[n] != '\0') {
        ++n;
    }
    return n;
}

#if defined(__ARM_ARCH_6M__)
// Cortex-M0 multiplies only 32 x 32 -> 32 bits: the Rust core's 64-bit
// products call libgcc's __aeabi_lmul, which a natmod cannot reach.  Made
// of 16-bit halves so that nothing here needs a wider multiply.  (The glue
// is built -fno-jump-tables there: no __gnu_thumb1_case_* either.)
static uint64_t urs_mul_32x32(uint32_t a, uint32_t b) {
    uint32_t al = a & 0xffff, ah = a >> 16, bl = b & 0xffff, bh = b >> 16;
    uint32_t ll = al * bl, lh = al * bh, hl = ah * bl, hh = ah * bh;
    uint32_t mid = (ll >> 16) + (lh & 0xffff) + (hl & 0xffff);
    uint32_t lo = (ll & 0xffff) | (mid << 16);
    uint32_t hi = hh + (lh >> 16) + (hl >> 16) + (mid >> 16);
    return ((uint64_t)hi << 32) | lo;
}

uint64_t __aeabi_lmul(uint64_t a, uint64_t b) {
    uint32_t a_lo = (uint32_t)a, a_hi = (uint32_t)(a >> 32);
    uint32_t b_lo = (uint32_t)b, b_hi = (uint32_t)(b >> 32);
    uint64_t p = urs_mul_32x32(a_lo, b_lo);
    uint32_t cross = a_lo * b_hi + a_hi * b_lo;
    return p + ((uint64_t)cross << 32);
}
#endif

// ---- what is looked up once, at import ------------------------------------

const mp_obj_type_t *urs_type_bytes;
mp_obj_full_type_t urs_mqtt_exception_type;
// time.ticks_ms, time.sleep_ms, select.poll: built-in functions, not on the
// heap, on every port; should one be a Python function, the module's globals
// hold it too (urs_natmod_init), since the GC does not scan a natmod's BSS
// where the firmware keeps native code outside its heap.  (BSS in a natmod
// is never static: mpy_ld.py.)
mp_obj_t urs_ticks_fn;
mp_obj_t urs_sleep_fn;
mp_obj_t urs_poll_fn;

mp_int_t urs_errno[5];

// A module of the firmware, or MP_OBJ_NULL when it has none (ImportError).
static mp_obj_t import_maybe(qstr name) {
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t m = mp_import_name(name, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        nlr_pop();
        return m;
    }
    if (!urs_is_subclass(MP_OBJ_FROM_PTR(mp_obj_get_type(MP_OBJ_FROM_PTR(nlr.ret_val))), MP_OBJ_FROM_PTR(&mp_type_ImportError))) {
        nlr_jump(nlr.ret_val);
    }
    return MP_OBJ_NULL;
}

void urs_natmod_init(void) {
    mp_obj_t errno_mod = mp_import_name(MP_QSTR_errno, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    URS_CONST_TABLE qstr names[5] = { MP_QSTR_EAGAIN, MP_QSTR_ECONNRESET, MP_QSTR_EINVAL, MP_QSTR_ENOTCONN, MP_QSTR_ETIMEDOUT };
    for (size_t i = 0; i < 5; ++i) {
        urs_errno[i] = mp_obj_get_int(mp_load_attr(errno_mod, names[i]));
    }
    urs_type_bytes = (const mp_obj_type_t *)MP_OBJ_TO_PTR(mp_load_global(MP_QSTR_bytes));
    // Every port with a network has `time`; without it (ports/qemu) the
    // natmod has no clock: time stands still, so no keepalive ping and no
    // timeout fires (README, "Install on stock firmware").
    mp_obj_t time = import_maybe(MP_QSTR_time);
    urs_ticks_fn = time == MP_OBJ_NULL ? MP_OBJ_NULL : mp_load_attr(time, MP_QSTR_ticks_ms);
    urs_sleep_fn = time == MP_OBJ_NULL ? MP_OBJ_NULL : mp_load_attr(time, MP_QSTR_sleep_ms);
    mp_obj_t select = import_maybe(MP_QSTR_select);
    urs_poll_fn = select == MP_OBJ_NULL ? MP_OBJ_NULL : mp_load_attr(select, MP_QSTR_poll);
    mp_obj_t keep[3] = { urs_ticks_fn, urs_sleep_fn, urs_poll_fn };
    for (size_t i = 0; i < 3; ++i) {
        keep[i] = keep[i] == MP_OBJ_NULL ? mp_const_none : keep[i];
    }
    mp_store_global(MP_QSTR__urs_keep, mp_obj_new_tuple(3, keep));
}

mp_uint_t urs_ticks_ms(void) {
    mp_obj_t t;
    if (urs_ticks_fn == MP_OBJ_NULL) {
        return 0;
    }
    if (mp_obj_get_type(urs_ticks_fn) == mp_fun_table.type_fun_builtin_0) {
        t = ((mp_obj_fun_builtin_fixed_t *)MP_OBJ_TO_PTR(urs_ticks_fn))->fun._0();
    } else {
        t = mp_call_function_0(urs_ticks_fn);
    }
    return (mp_uint_t)MP_OBJ_SMALL_INT_VALUE(t);
}

void urs_sleep_ms(mp_uint_t ms) {
    if (urs_sleep_fn == MP_OBJ_NULL) {
        return;
    }
    mp_call_function_1(urs_sleep_fn, MP_OBJ_NEW_SMALL_INT(ms));
}

// ---- calls and types --------------------------------------------------------

mp_obj_t mp_call_function_0(mp_obj_t fun) {
    return mp_fun_table.call_function_n_kw(fun, 0, NULL);
}

mp_obj_t mp_call_function_1(mp_obj_t fun, mp_obj_t arg) {
    return mp_fun_table.call_function_n_kw(fun, 1, &arg);
}

mp_obj_t mp_call_function_2(mp_obj_t fun, mp_obj_t arg1, mp_obj_t arg2) {
    mp_obj_t args[2] = { arg1, arg2 };
    return mp_fun_table.call_function_n_kw(fun, 2, args);
}

bool urs_is_callable(mp_obj_t o) {
    return mp_obj_is_true(mp_call_function_1(mp_load_global(MP_QSTR_callable), o));
}

bool urs_is_subclass(mp_obj_t type, mp_obj_t base) {
    return mp_obj_is_true(mp_call_function_2(mp_load_global(MP_QSTR_issubclass), type, base));
}

void mp_obj_get_array_fixed_n(mp_obj_t o, size_t len, mp_obj_t **items) {
    size_t n;
    mp_obj_get_array(o, &n, items);
    if (n != len) {
        mp_raise_ValueError(MP_ERROR_TEXT("tuple/list has wrong length"));
    }
}

// A memoryview with typecode 'B' (read-only, as the firmware's are); the
// glue points it at its buffers.
mp_obj_t mp_obj_new_memoryview(byte typecode, size_t nitems, void *items) {
    mp_obj_t ba = mp_obj_new_bytearray_by_ref(nitems, items);
    mp_obj_t v = mp_call_function_1(mp_load_global(MP_QSTR_memoryview), ba);
    mp_obj_array_t *view = MP_OBJ_TO_PTR(v);
    view->typecode = typecode;
    view->free = 0;
    view->len = nitems;
    view->items = items;
    return v;
}

// ---- errors -----------------------------------------------------------------

// The message formatted into a fixed buffer (mp_printf through mp_fun_table),
// then raised as exc_type(message).
typedef struct {
    char buf[160];
    size_t len;
} urs_text_t;

static void urs_text_strn(void *env, const char *str, size_t len) {
    urs_text_t *t = env;
    for (size_t i = 0; i < len && t->len < sizeof(t->buf); ++i) {
        t->buf[t->len++] = str[i];
    }
}

NORETURN void mp_raise_msg_varg(const mp_obj_type_t *exc_type, mp_rom_error_text_t fmt, ...) {
    urs_text_t text = { .len = 0 };
    mp_print_t print = { &text, urs_text_strn };
    va_list args;
    va_start(args, fmt);
    mp_fun_table.vprintf_(&print, fmt, args);
    va_end(args);
    mp_obj_t msg = mp_obj_new_str(text.buf, text.len);
    nlr_raise(mp_obj_new_exception_arg1(exc_type, msg));
}

NORETURN void urs_raise_oserror(int err) {
    mp_obj_t arg = MP_OBJ_NEW_SMALL_INT(err);
    mp_raise_dyn(mp_fun_table.call_function_n_kw(mp_load_global(MP_QSTR_OSError), 1, &arg));
}

// ---- vstr -------------------------------------------------------------------

void vstr_init(vstr_t *vstr, size_t alloc) {
    vstr->alloc = alloc < 1 ? 1 : alloc;
    vstr->len = 0;
    vstr->buf = m_new(char, vstr->alloc);
    vstr->fixed_buf = false;
}

void vstr_init_len(vstr_t *vstr, size_t len) {
    vstr_init(vstr, len + 1);
    vstr->len = len;
}

void vstr_add_str(vstr_t *vstr, const char *str) {
    size_t n = strlen(str);
    if (vstr->len + n + 1 > vstr->alloc) {
        size_t alloc = vstr->len + n + 16;
        vstr->buf = m_renew(char, vstr->buf, vstr->alloc, alloc);
        vstr->alloc = alloc;
    }
    memcpy(vstr->buf + vstr->len, str, n);
    vstr->len += n;
}

mp_obj_t mp_obj_new_bytes_from_vstr(vstr_t *vstr) {
    mp_obj_t o = mp_obj_new_bytes((const byte *)vstr->buf, vstr->len);
    m_del(char, vstr->buf, vstr->alloc);
    vstr->buf = NULL;
    return o;
}

mp_obj_t mp_obj_new_str_from_vstr(vstr_t *vstr) {
    mp_obj_t o = mp_obj_new_str(vstr->buf, vstr->len);
    m_del(char, vstr->buf, vstr->alloc);
    vstr->buf = NULL;
    return o;
}

// ---- streams ------------------------------------------------------------------

mp_obj_t mp_stream_close(mp_obj_t stream) {
    int err;
    if (mp_get_stream_raise(stream, MP_STREAM_OP_IOCTL)->ioctl(stream, MP_STREAM_CLOSE, 0, &err) == MP_STREAM_ERROR) {
        mp_raise_OSError(err);
    }
    return mp_const_none;
}

// All of buf, as the firmware's mp_stream_write(..., MP_STREAM_RW_WRITE).
mp_obj_t mp_stream_write(mp_obj_t self_in, const void *buf, size_t len, byte flags) {
    (void)flags;
    const mp_stream_p_t *stream = mp_get_stream_raise(self_in, MP_STREAM_OP_WRITE);
    const byte *p = buf;
    size_t done = 0;
    while (done < len) {
        int err;
        mp_uint_t w = stream->write(self_in, p + done, len - done, &err);
        if (w == MP_STREAM_ERROR) {
            if (mp_is_nonblocking_error(err)) {
                urs_sleep_ms(1);
                continue;
            }
            mp_raise_OSError(err);
        }
        if (w == 0) {
            break;
        }
        done += w;
    }
    return mp_obj_new_int_from_uint(done);
}

// ---- waiting for the transport ----------------------------------------------

// urs_wait_io() of the natmod: select.poll on the transport (the firmware's
// poll waits without spinning and runs its scheduler).  False when the
// firmware has no select: urs_wait_io() asks the stream's poll ioctl then.
bool urs_wait_stream(mqtt_client_obj_t *self, mp_uint_t flags, mp_int_t timeout_ms) {
    if (urs_poll_fn == MP_OBJ_NULL) {
        return false;
    }
    // One poll object per transport, registered again only when the events
    // waited for change; ipoll() waits without making a result list.
    mp_obj_t call[4];
    if (self->poller == mp_const_none) {
        self->poller = mp_call_function_0(urs_poll_fn);
        self->poll_flags = 0;
    }
    if (self->poll_flags != flags) {
        mp_load_method(self->poller, MP_QSTR_register, call);
        call[2] = self->sock;
        call[3] = MP_OBJ_NEW_SMALL_INT(flags);
        mp_call_method_n_kw(2, 0, call);
        self->poll_flags = flags;
    }
    mp_load_method(self->poller, MP_QSTR_ipoll, call);
    call[2] = MP_OBJ_NEW_SMALL_INT(timeout_ms < 0 ? -1 : timeout_ms);
    mp_call_method_n_kw(1, 0, call);
    return true;
}

#endif // MICROPY_ENABLE_DYNRUNTIME
