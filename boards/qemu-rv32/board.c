// board.c: what umqtt_rs needs from MicroPython's qemu port on the RISC-V
// virt machine that the port (1.25) does not provide.  Both definitions are
// weak: a port (or libc) that has its own wins.
//
// - mp_hal_ticks_ms(), for keepalive and timeouts: the 64-bit mtime counter
//   of the CLINT, 10 MHz on qemu's virt machine.
// - abort(), called by the Rust core's panic handler (a panic halts; none
//   should be reachable): report and stop qemu with a failure status.

#include <stdint.h>
#include <stdlib.h>

#include "py/mphal.h"

#define CLINT_MTIME_LO (*(volatile uint32_t *)0x0200bff8)
#define CLINT_MTIME_HI (*(volatile uint32_t *)0x0200bffc)
#define MTIME_PER_MS (10000u)

__attribute__((weak)) mp_uint_t mp_hal_ticks_ms(void) {
    uint32_t hi, lo;
    do {
        hi = CLINT_MTIME_HI;
        lo = CLINT_MTIME_LO;
    } while (hi != CLINT_MTIME_HI);
    // 2^64 / 10^4 ms is far away; the truncation to mp_uint_t wraps as
    // ticks_ms does everywhere.
    uint64_t t = ((uint64_t)hi << 32) | lo;
    return (mp_uint_t)(t / MTIME_PER_MS);
}

__attribute__((weak)) void abort(void) {
    mp_hal_stdout_tx_str("umqtt_rs: abort\r\n");
    exit(134);
}
