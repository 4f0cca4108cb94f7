// urs_session.c: the persistent session as bytes (session_bytes(),
// MQTTClient(..., session=b)) and kept in a file (session_file=): written
// whenever it changes, before any packet that depends on the change goes
// out, with write-then-rename so that a power cut leaves the old file or the
// new one, never half of one.

#include "umqtt_rs_glue.h"

#include "py/builtin.h"

static const char *session_error_text(uint32_t d) {
    switch (d) {
        case UMQTT_RS_SESSION_FOREIGN:
            return "not umqtt_rs session bytes (or another version)";
        case UMQTT_RS_SESSION_TRUNCATED:
            return "session bytes are truncated";
        case UMQTT_RS_SESSION_CHECKSUM:
            return "session bytes are damaged (checksum)";
        case UMQTT_RS_SESSION_CONNECTED:
            return "restore a session before connecting";
        default:
            return "session bytes hold an impossible state";
    }
}

// MQTTClient(..., session=b): the durable state saved by session_bytes()
// (RTC memory across deep sleep, a file), taking the memory it needs.
void urs_restore_session(mqtt_client_obj_t *self, mp_obj_t saved) {
    for (;;) {
        size_t extra_at = 0, extra_len = 0;
        umqtt_rs_bytes_t b = urs_buf_of(saved);
        umqtt_rs_status_t st = umqtt_rs_session_restore(&self->core, b, &extra_at, &extra_len);
        size_t need = umqtt_rs_error_detail(&self->core);
        if (st == UMQTT_RS_ERR_STORE_FULL) {
            urs_grow_store(self, need);
        } else if (st == UMQTT_RS_ERR_HELD_FULL) {
            urs_lend_held(self);
        } else if (st == UMQTT_RS_ERR_SESSION) {
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("session: %s"), session_error_text(need));
        } else if (st != UMQTT_RS_OK) {
            urs_raise_status(self, st);
        } else {
            self->session_data = extra_len > 0 ? mp_obj_new_bytes(b.ptr + extra_at, extra_len) : mp_const_none;
            return;
        }
    }
}

mp_obj_t urs_session_bytes(mqtt_client_obj_t *self) {
    size_t len = 0;
    umqtt_rs_bytes_t extra = urs_opt_buf_of(self->session_data);
    umqtt_rs_status_t st = umqtt_rs_session_save(&self->core, extra, NULL, 0, &len);
    if (st != UMQTT_RS_ERR_TX_FULL) {
        urs_raise_status(self, st);
    }
    vstr_t vstr;
    vstr_init_len(&vstr, umqtt_rs_error_detail(&self->core));
    extra = urs_opt_buf_of(self->session_data); // taken again after the allocation
    st = umqtt_rs_session_save(&self->core, extra, (uint8_t *)vstr.buf, vstr.len, &len);
    if (st != UMQTT_RS_OK) {
        urs_raise_status(self, st);
    }
    vstr.len = len;
    return mp_obj_new_bytes_from_vstr(&vstr);
}

// The bytes of the file at `path`; MP_OBJ_NULL when it cannot be opened.
static mp_obj_t read_file_or_null(mp_obj_t path) {
    mp_obj_t saved = MP_OBJ_NULL;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t f = mp_call_function_2(URS_BUILTIN_OPEN, path, MP_OBJ_NEW_QSTR(MP_QSTR_rb));
        mp_obj_t dest[2];
        mp_load_method(f, MP_QSTR_read, dest);
        saved = mp_call_method_n_kw(0, 0, dest);
        mp_stream_close(f);
        nlr_pop();
    } else {
        mp_obj_t e = MP_OBJ_FROM_PTR(nlr.ret_val);
        if (!mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(e)), MP_OBJ_FROM_PTR(&mp_type_OSError))) {
            nlr_jump(nlr.ret_val);
        }
    }
    return saved;
}

static mp_obj_t tmp_path_of(mqtt_client_obj_t *self) {
    vstr_t tmp;
    vstr_init(&tmp, 32);
    vstr_add_str(&tmp, mp_obj_str_get_str(self->session_file));
    vstr_add_str(&tmp, ".tmp");
    return mp_obj_new_str_from_vstr(&tmp);
}

// session_file=: the session the file holds, if it exists (ValueError when it
// is damaged or not a session).  Without PATH, PATH.tmp is the session when
// it is whole: a power cut between the remove and the rename of a write on a
// filesystem that does not rename over a file (FAT) leaves only it.  A
// damaged PATH.tmp alone is a first write cut short, before anything that
// depended on it went out: a new session.
void urs_load_session_file(mqtt_client_obj_t *self) {
    mp_obj_t saved = read_file_or_null(self->session_file);
    if (saved != MP_OBJ_NULL) {
        urs_restore_session(self, saved);
        return;
    }
    saved = read_file_or_null(tmp_path_of(self));
    if (saved == MP_OBJ_NULL) {
        return; // no file yet: a new session
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        urs_restore_session(self, saved);
        nlr_pop();
    } else {
        mp_obj_t e = MP_OBJ_FROM_PTR(nlr.ret_val);
        if (!mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(mp_obj_get_type(e)), MP_OBJ_FROM_PTR(&mp_type_ValueError))) {
            nlr_jump(nlr.ret_val);
        }
        // Nothing was restored (a failed restore changes nothing).
    }
}

// Writes the session to session_file if it changed since the last write:
// to PATH.tmp, then renamed over PATH.
void urs_persist(mqtt_client_obj_t *self) {
    if (self->session_file == mp_const_none) {
        return;
    }
    uint32_t gen = umqtt_rs_session_generation(&self->core);
    if (gen == self->saved_generation && !self->session_data_dirty) {
        return;
    }
    mp_obj_t data = urs_session_bytes(self);
    mp_obj_t tmp_path = tmp_path_of(self);
    mp_obj_t f = mp_call_function_2(URS_BUILTIN_OPEN, tmp_path, MP_OBJ_NEW_QSTR(MP_QSTR_wb));
    mp_buffer_info_t info;
    mp_get_buffer_raise(data, &info, MP_BUFFER_READ);
    mp_stream_write(f, info.buf, info.len, MP_STREAM_RW_WRITE);
    mp_stream_close(f);
    mp_obj_t os = mp_import_name(MP_QSTR_os, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_call_function_2(mp_load_attr(os, MP_QSTR_rename), tmp_path, self->session_file);
        nlr_pop();
    } else {
        // A filesystem that does not rename over a file (FAT): remove, then
        // rename (a power cut between the two leaves only PATH.tmp).
        mp_call_function_1(mp_load_attr(os, MP_QSTR_remove), self->session_file);
        mp_call_function_2(mp_load_attr(os, MP_QSTR_rename), tmp_path, self->session_file);
    }
    self->saved_generation = gen;
    self->session_data_dirty = false;
}
