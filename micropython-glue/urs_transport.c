// urs_transport.c: opening the TCP connection and TLS, as umqtt.simple does.

#include "umqtt_rs_glue.h"

// An ssl_params entry, or MP_OBJ_NULL.
static mp_obj_t ssl_param(mqtt_client_obj_t *self, qstr key) {
    if (self->ssl_params == mp_const_none) {
        return MP_OBJ_NULL;
    }
    return urs_dict_get(self->ssl_params, MP_OBJ_NEW_QSTR(key));
}

// ssl=True: ssl.wrap_socket(sock, **ssl_params) as umqtt.simple does, with
// micropython-lib's `ssl` module.  Firmware without it gets the same through
// its `tls` module: an SSLContext set up from the same parameters.
static mp_obj_t wrap_ssl_params(mqtt_client_obj_t *self, mp_obj_t sock) {
    mp_obj_t call[1 + 2 * 8] = { sock };
    size_t n_kw = 0;
    mp_map_t *params = self->ssl_params == mp_const_none ? NULL : mp_obj_dict_get_map(self->ssl_params);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t ssl_mod = mp_import_name(MP_QSTR_ssl, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        nlr_pop();
        for (size_t i = 0; params != NULL && i < params->alloc; ++i) {
            if (!mp_map_slot_is_filled(params, i)) {
                continue;
            }
            if (n_kw == 8) {
                mp_raise_ValueError(MP_ERROR_TEXT("too many ssl_params"));
            }
            call[1 + 2 * n_kw] = params->table[i].key;
            call[2 + 2 * n_kw] = params->table[i].value;
            ++n_kw;
        }
        return mp_call_function_n_kw(mp_load_attr(ssl_mod, MP_QSTR_wrap_socket), 1, n_kw, call);
    }
    if (!mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(((mp_obj_base_t *)nlr.ret_val)->type), MP_OBJ_FROM_PTR(&mp_type_ImportError))) {
        nlr_jump(nlr.ret_val);
    }
    URS_CONST_TABLE qstr known[] = {
        MP_QSTR_cert_reqs, MP_QSTR_cadata, MP_QSTR_key, MP_QSTR_cert, MP_QSTR_server_hostname, MP_QSTR_do_handshake,
    };
    for (size_t i = 0; params != NULL && i < params->alloc; ++i) {
        if (!mp_map_slot_is_filled(params, i)) {
            continue;
        }
        mp_obj_t k = params->table[i].key;
        bool ok = false;
        for (size_t j = 0; j < MP_ARRAY_SIZE(known); ++j) {
            ok |= mp_obj_is_true(mp_binary_op(MP_BINARY_OP_EQUAL, k, MP_OBJ_NEW_QSTR(known[j])));
        }
        if (!ok) {
            mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("unexpected ssl_params key '%s'"), mp_obj_str_get_str(k));
        }
    }
    mp_obj_t tls = mp_import_name(MP_QSTR_tls, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    mp_obj_t ctx = mp_call_function_1(mp_load_attr(tls, MP_QSTR_SSLContext), mp_load_attr(tls, MP_QSTR_PROTOCOL_TLS_CLIENT));
    mp_obj_t v = ssl_param(self, MP_QSTR_cert_reqs);
    mp_store_attr(ctx, MP_QSTR_verify_mode, v != MP_OBJ_NULL ? v : mp_load_attr(tls, MP_QSTR_CERT_NONE));
    if ((v = ssl_param(self, MP_QSTR_cadata)) != MP_OBJ_NULL && v != mp_const_none) {
        mp_obj_t dest[3];
        mp_load_method(ctx, MP_QSTR_load_verify_locations, dest);
        dest[2] = v;
        mp_call_method_n_kw(1, 0, dest);
    }
    mp_obj_t cert = ssl_param(self, MP_QSTR_cert), key = ssl_param(self, MP_QSTR_key);
    if ((cert != MP_OBJ_NULL && cert != mp_const_none) || (key != MP_OBJ_NULL && key != mp_const_none)) {
        mp_obj_t dest[4];
        mp_load_method(ctx, MP_QSTR_load_cert_chain, dest);
        dest[2] = cert == MP_OBJ_NULL ? mp_const_none : cert;
        dest[3] = key == MP_OBJ_NULL ? mp_const_none : key;
        mp_call_method_n_kw(2, 0, dest);
    }
    mp_obj_t wrap[2 + 2 * 2];
    mp_load_method(ctx, MP_QSTR_wrap_socket, wrap);
    wrap[2] = sock;
    n_kw = 0;
    if ((v = ssl_param(self, MP_QSTR_server_hostname)) != MP_OBJ_NULL) {
        wrap[3 + 2 * n_kw] = MP_OBJ_NEW_QSTR(MP_QSTR_server_hostname);
        wrap[4 + 2 * n_kw++] = v;
    }
    if ((v = ssl_param(self, MP_QSTR_do_handshake)) != MP_OBJ_NULL) {
        wrap[3 + 2 * n_kw] = MP_OBJ_NEW_QSTR(MP_QSTR_do_handshake_on_connect);
        wrap[4 + 2 * n_kw++] = v;
    }
    return mp_call_method_n_kw(1, n_kw, wrap);
}

// The object whose C stream functions to call for `o`, checked for `ops`.
// A Python subclass of a built-in stream type (class S(io.BytesIO))
// inherits the type's C functions, which expect the built-in object: they
// are given the instance's built-in part (called with the instance they
// would crash).  A subclass of io.IOBase keeps the instance: its functions
// call the Python methods.
mp_obj_t urs_stream_part(mp_obj_t o, int ops) {
    if (!mp_obj_is_obj(o) || !MP_OBJ_TYPE_HAS_SLOT(mp_obj_get_type(o), protocol)) {
        mp_raise_TypeError(MP_ERROR_TEXT("not a stream"));
    }
    const mp_obj_type_t *type = mp_obj_get_type(o);
    if (mp_obj_is_instance_type(type)) {
        mp_obj_t io = mp_import_name(MP_QSTR_io, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        if (!mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(type), mp_load_attr(io, MP_QSTR_IOBase))) {
            // A protocol comes only from a built-in base: the instance has
            // that part (made after __init__ when __init__ did not).
            mp_obj_t part = ((mp_obj_instance_t *)MP_OBJ_TO_PTR(o))->subobj[0];
            if (!mp_obj_is_obj(part) || !MP_OBJ_TYPE_HAS_SLOT(mp_obj_get_type(part), protocol)) {
                mp_raise_TypeError(MP_ERROR_TEXT("stream subclass without its built-in part"));
            }
            o = part;
        }
    }
    mp_get_stream_raise(o, ops);
    return o;
}

// Open the TCP connection (and TLS when asked) as umqtt.simple does.
mp_obj_t urs_open_transport(mqtt_client_obj_t *self, mp_obj_t timeout) {
    mp_obj_t socket_mod = mp_import_name(MP_QSTR_socket, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    mp_obj_t gai_args[2] = { self->server, MP_OBJ_NEW_SMALL_INT(self->port) };
    mp_obj_t infos = mp_call_function_n_kw(mp_load_attr(socket_mod, MP_QSTR_getaddrinfo), 2, 0, gai_args);
    mp_obj_t info = mp_obj_subscr(infos, MP_OBJ_NEW_SMALL_INT(0), MP_OBJ_SENTINEL);
    mp_obj_t addr = mp_obj_subscr(info, MP_OBJ_NEW_SMALL_INT(-1), MP_OBJ_SENTINEL);
    mp_obj_t sock = mp_call_function_0(mp_load_attr(socket_mod, MP_QSTR_socket));
    #if URS_WAIT_FD
    volatile int fd = -1; // its descriptor, for urs_wait_io
    #endif

    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t dest[4];
        if (timeout != mp_const_none) {
            mp_load_method(sock, MP_QSTR_settimeout, dest);
            dest[2] = timeout;
            mp_call_method_n_kw(1, 0, dest);
        }
        mp_load_method(sock, MP_QSTR_connect, dest);
        dest[2] = addr;
        mp_call_method_n_kw(1, 0, dest);
        // Each packet goes out in one write; Nagle would hold it back.
        mp_load_method_maybe(sock, MP_QSTR_setsockopt, dest);
        if (dest[0] != MP_OBJ_NULL) {
            nlr_buf_t nlr2;
            if (nlr_push(&nlr2) == 0) {
                mp_obj_t opt[5] = { dest[0], dest[1], MP_OBJ_NEW_SMALL_INT(6), MP_OBJ_NEW_SMALL_INT(1), MP_OBJ_NEW_SMALL_INT(1) };
                mp_call_method_n_kw(3, 0, opt); // IPPROTO_TCP, TCP_NODELAY, 1
                nlr_pop();
            }
        }
        #if URS_WAIT_FD
        mp_load_method(sock, MP_QSTR_fileno, dest);
        fd = mp_obj_get_int(mp_call_method_n_kw(0, 0, dest));
        #endif
        if (self->ssl == mp_const_true) {
            sock = wrap_ssl_params(self, sock);
        } else if (self->ssl != mp_const_none && self->ssl != mp_const_false) {
            mp_load_method(self->ssl, MP_QSTR_wrap_socket, dest);
            mp_obj_t call[5] = { dest[0], dest[1], sock, MP_OBJ_NEW_QSTR(MP_QSTR_server_hostname), self->server };
            sock = mp_call_method_n_kw(1, 1, call);
        }
        mp_get_stream_raise(sock, MP_STREAM_OP_READ | MP_STREAM_OP_WRITE | MP_STREAM_OP_IOCTL);
        mp_load_method(sock, MP_QSTR_setblocking, dest);
        dest[2] = mp_const_false;
        mp_call_method_n_kw(1, 0, dest);
        nlr_pop();
    } else {
        nlr_buf_t nlr2;
        if (nlr_push(&nlr2) == 0) {
            mp_stream_close(sock);
            nlr_pop();
        }
        nlr_jump(nlr.ret_val);
    }
    #if URS_WAIT_FD
    self->wait_fd = fd;
    #endif
    return sock;
}
