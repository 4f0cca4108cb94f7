// urs_natmod.h: the MicroPython API the glue uses that a dynamic native
// module (.mpy) does not get from py/dynruntime.h, made from what it does
// get (mp_fun_table, Python objects).  Included by umqtt_rs_glue.h only when
// MICROPY_ENABLE_DYNRUNTIME; the definitions that are not inline are in
// urs_natmod.c.  Limits of the form (MicroPython's docs/develop/natmod.rst):
// no writable .data, only what mp_fun_table reaches, and qstrs that are
// values looked up at load time (MP_QSTR_x is not a constant here: tables of
// them are built at run time, see URS_CONST_TABLE).
//
// qstrs named only in this header are listed in urs_natmod.c too (mpy_ld.py
// collects them from the .c sources).
#ifndef UMQTT_RS_NATMOD_H
#define UMQTT_RS_NATMOD_H

#include "py/objarray.h"
#include "py/objlist.h"
#include "py/stream.h"
#include "py/mperrno.h"
#include "py/smallint.h"

// A table of qstrs or default objects is filled in on each call (static
// const in the firmware).
#define URS_CONST_TABLE const

// Types the firmware has and dynruntime.h does not name (builtins, looked up
// by name; the exception classes only on error paths).
#define mp_type_OSError (*(mp_obj_type_t *)(mp_load_global(MP_QSTR_OSError)))
#define mp_type_MemoryError (*(mp_obj_type_t *)(mp_load_global(MP_QSTR_MemoryError)))
#define mp_type_ImportError (*(mp_obj_type_t *)(mp_load_global(MP_QSTR_ImportError)))
// bytes is made for every message: its type is looked up once, at import
// (urs_natmod.c; types are not on the heap, the pointer may live in BSS).
extern const mp_obj_type_t *urs_type_bytes;
#undef mp_type_bytes
#define mp_type_bytes (*urs_type_bytes)

#define URS_BUILTIN_OPEN (mp_load_global(MP_QSTR_open))

#undef MP_ROM_NONE
#define MP_ROM_NONE (mp_const_none)

// The module's own types live in BSS and are filled in by mpy_init().
extern mp_obj_full_type_t urs_mqtt_exception_type;
#define mp_type_MQTTException (*(mp_obj_type_t *)&urs_mqtt_exception_type)

// errno values are the firmware's (internal ones, or its C library's: the
// esp32 port's newlib has ENOTCONN 128 where others have 107): read from its
// errno module at import.
extern mp_int_t urs_errno[5];
#undef MP_EAGAIN
#undef MP_EWOULDBLOCK
#undef MP_ECONNRESET
#undef MP_EINVAL
#undef MP_ENOTCONN
#undef MP_ETIMEDOUT
#define MP_EAGAIN (urs_errno[0])
#define MP_EWOULDBLOCK (urs_errno[0])
#define MP_ECONNRESET (urs_errno[1])
#define MP_EINVAL (urs_errno[2])
#define MP_ENOTCONN (urs_errno[3])
#define MP_ETIMEDOUT (urs_errno[4])
#undef mp_is_nonblocking_error
#define mp_is_nonblocking_error(err) ((err) == MP_EAGAIN)

// ---- nlr --------------------------------------------------------------
// mp_fun_table.nlr_push is the firmware's nlr_push when it has a native nlr,
// or nlr_push_tail plus mp_fun_table.setjmp_ when it uses setjmp (the esp32
// port).  The buffer is made big enough for either: prev and ret_val first,
// then the registers or the jmp_buf, whatever the firmware's C library
// makes of it (the firmware writes only its own part).
typedef struct _urs_nlr_buf_t {
    struct _urs_nlr_buf_t *prev;
    void *ret_val;
    union {
        void *regs[MICROPY_NLR_NUM_REGS + 1];
        unsigned long long jmpbuf[48];
    } ctx;
} urs_nlr_buf_t;
#define nlr_buf_t urs_nlr_buf_t
typedef int (*urs_setjmp_fn)(void *);
#undef nlr_push
#define nlr_push(buf) (mp_fun_table.setjmp_ == NULL \
    ? mp_fun_table.nlr_push((struct _nlr_buf_t *)(void *)(buf)) \
    : (mp_fun_table.nlr_push((struct _nlr_buf_t *)(void *)(buf)), ((urs_setjmp_fn)mp_fun_table.setjmp_)((buf)->ctx.jmpbuf)))
#undef nlr_pop
#define nlr_pop() (mp_fun_table.nlr_pop())
#undef nlr_jump
#define nlr_jump(val) (mp_raise_dyn(MP_OBJ_FROM_PTR(val)))

// ---- calls --------------------------------------------------------------
// mp_call_function_0/1/2 are defined in urs_natmod.c.
#define mp_call_method_n_kw(n_args, n_kw, args) (mp_fun_table.call_method_n_kw((n_args), (n_kw), (args)))
bool urs_is_callable(mp_obj_t o);
#define mp_obj_is_callable(o) (urs_is_callable(o))
bool urs_is_subclass(mp_obj_t type, mp_obj_t base);
#define mp_obj_is_subclass_fast(t, b) (urs_is_subclass((t), (b)))

// gc_realloc(NULL, n) is gc_alloc(n): NULL when there is no room.
#define m_malloc_maybe(n) (mp_fun_table.realloc_(NULL, (n), false))

// ---- objects --------------------------------------------------------------
#define mp_obj_dict_get_map(d) (&((mp_obj_dict_t *)MP_OBJ_TO_PTR(d))->map)
#define mp_obj_tuple_get(o, len, items) (mp_obj_get_array((o), (len), (items)))
#define mp_obj_list_get(o, len, items) (mp_obj_get_array((o), (len), (items)))
#define mp_obj_new_int_from_ull(v) (mp_obj_new_int_from_uint((mp_uint_t)(v)))
// OSError(errno), raised (dynruntime.h's does not say it never returns).
NORETURN void urs_raise_oserror(int err);
#undef mp_raise_OSError
#define mp_raise_OSError(err) (urs_raise_oserror(err))

// Defined in urs_natmod.c with the firmware's signatures (declared by
// MicroPython's headers): mp_obj_get_array_fixed_n, mp_obj_new_memoryview,
// mp_raise_msg_varg, vstr_init, vstr_init_len, vstr_add_str,
// mp_obj_new_bytes_from_vstr, mp_obj_new_str_from_vstr, mp_stream_close,
// mp_stream_write.

// ---- streams and time -----------------------------------------------------
// time.ticks_ms(): wraps at MICROPY_PY_TIME_TICKS_PERIOD, a small int.
mp_uint_t urs_ticks_ms(void);
#define mp_hal_ticks_ms() (urs_ticks_ms())
// time.sleep_ms(), which runs the port's scheduler while it waits.
void urs_sleep_ms(mp_uint_t ms);
#define mp_event_wait_ms(ms) (urs_sleep_ms(ms))
// At import: what the natmod looks up once (urs_natmod.c).
void urs_natmod_init(void);
#define URS_TICKS_MASK ((mp_uint_t)MP_SMALL_INT_POSITIVE_MASK)

#endif // UMQTT_RS_NATMOD_H
