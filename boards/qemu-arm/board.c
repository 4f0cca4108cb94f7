// board.c: what umqtt_rs needs from MicroPython's qemu port on MPS2-AN385
// that the port (1.25) does not provide.  Both definitions are weak: a port
// that has its own wins.
//
// - mp_hal_ticks_ms(), for keepalive and timeouts: timer 1 of the CMSDK dual
//   timer (0x40002000) runs free at 25 MHz / 256, 32-bit; the elapsed counts
//   are accumulated, so it stays right if called at least every 12 hours.
// - abort(), called by the Rust core's panic handler (a panic halts; none
//   should be reachable): report and stop qemu with a failure status.

#include <stdint.h>
#include <stdlib.h>

#include "py/mphal.h"

#define DUALTIMER1_LOAD (*(volatile uint32_t *)0x40002000)
#define DUALTIMER1_VALUE (*(volatile uint32_t *)0x40002004)
#define DUALTIMER1_CONTROL (*(volatile uint32_t *)0x40002008)

#define CONTROL_ENABLE (1u << 7)
#define CONTROL_PRESCALE_256 (2u << 2)
#define CONTROL_32BIT (1u << 1)

// 25 MHz / 256 = 3125 counts per 32 ms.
#define COUNTS_PER_32MS (3125u)

static uint32_t ticks_ms;
static uint32_t frac; // counts not yet worth 32 ms, times 32
static uint32_t last;
static int started;

__attribute__((weak)) mp_uint_t mp_hal_ticks_ms(void) {
    if (!started) {
        DUALTIMER1_LOAD = 0xffffffff;
        DUALTIMER1_CONTROL = CONTROL_ENABLE | CONTROL_PRESCALE_256 | CONTROL_32BIT;
        last = DUALTIMER1_VALUE;
        started = 1;
    }
    uint32_t now = DUALTIMER1_VALUE;
    uint32_t d = last - now; // the timer counts down
    last = now;
    ticks_ms += d / COUNTS_PER_32MS * 32;
    frac += d % COUNTS_PER_32MS * 32;
    ticks_ms += frac / COUNTS_PER_32MS;
    frac %= COUNTS_PER_32MS;
    return ticks_ms;
}

__attribute__((weak)) void abort(void) {
    mp_hal_stdout_tx_str("umqtt_rs: abort\r\n");
    exit(134);
}
