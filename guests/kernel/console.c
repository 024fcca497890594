/*
 * console.c — the console and the few machine-level services built on it: panic, machine exit
 * through isa-debug-exit, the phase marker. The console is a pv operation: natively it is the
 * 16550 UART on COM1, polled (uart_init/uart_write, here); under a hypervisor its console call.
 *
 * Output is polled: before each byte the driver waits for the transmitter-holding register to be
 * empty (LSR bit 5). Every byte therefore costs one port read and one port write through pv_ops,
 * which is what the `io` workload measures. Only one process ever prints at a time (the workloads
 * are written that way), so console output is deterministic.
 */
#include "kernel.h"
#include "layout.h"
#include "proc.h"
#include "pvops.h"

#define COM1     0x3F8
#define UART_THR 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_THRE 0x20

void uart_init(void)
{
    pv_ops.outb(COM1 + UART_IER, 0x00);     /* no UART interrupts */
    pv_ops.outb(COM1 + UART_LCR, 0x80);     /* DLAB */
    pv_ops.outb(COM1 + 0, 0x01);            /* 115200 baud */
    pv_ops.outb(COM1 + 1, 0x00);
    pv_ops.outb(COM1 + UART_LCR, 0x03);     /* 8N1 */
    pv_ops.outb(COM1 + UART_FCR, 0xC7);     /* FIFO on, cleared */
    pv_ops.outb(COM1 + UART_MCR, 0x03);     /* DTR, RTS */
}

static void console_putc(char c)
{
    while (!(pv_ops.inb(COM1 + UART_LSR) & LSR_THRE))
        ;
    pv_ops.outb(COM1 + UART_THR, (uint8_t)c);
}

void uart_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        console_putc(s[i]);
}

void console_init(void) { pv_ops.console_init(); }
/* The bytes (often a user buffer) go through a kernel buffer: the kernel reads them itself, so a
 * bad pointer faults here whatever the console is (a hypervisor's console call would only return
 * an error). */
void console_write(const char *s, size_t n)
{
    char buf[128];
    for (size_t off = 0; off < n; off += sizeof(buf)) {
        size_t k = n - off < sizeof(buf) ? n - off : sizeof(buf);
        memcpy(buf, s + off, k);
        pv_ops.console_write(buf, k);
    }
}

int kprintf(const char *f, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, f);
    int n = vfmt(buf, sizeof(buf), f, ap);
    va_end(ap);
    console_write(buf, strlen(buf));
    return n;
}

void machine_exit(uint32_t code)
{
    pv_ops.outl(PORT_DEBUG_EXIT, code);
    for (;;) {
        pv_ops.irq_disable();
        pv_ops.halt();
    }
}

void panic(const char *f, ...)
{
    char buf[256];
    va_list ap;
    pv_ops.irq_disable();
    va_start(ap, f);
    vfmt(buf, sizeof(buf), f, ap);
    va_end(ap);
    kprintf("panic: %s [pid %d, called from %p]\n", buf, current ? current->pid : 0,
            __builtin_return_address(0));
    machine_exit(EXIT_FAILURE_CODE);
}

void phase_mark(uint32_t phase)
{
    pv_ops.outl(PORT_PHASE, phase);
}
