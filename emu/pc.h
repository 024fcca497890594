/*
 * pc.h — the board: which device sits at which port and IRQ line, listed once.
 *
 *   port        device                      irq
 *   0x20-0x21   8259A master                 -
 *   0xa0-0xa1   8259A slave (on master 2)    -
 *   0x40-0x43   8254 PIT                     0
 *   0x61        PIT gate 2 / speaker         -
 *   0x70-0x71   CMOS / RTC                   -
 *   0x80        POST / delay port            -
 *   0xe0-0xe3   vmlab phase marker           -
 *   0xf4-0xf7   isa-debug-exit (QEMU)        -
 *   0x3f8-0x3ff 16550A UART, COM1            4
 */
#ifndef VMLAB_PC_H
#define VMLAB_PC_H

struct machine;

/* Initialise and attach every device of the board to m's bus. 0, or -1 with errbuf set. */
int pc_build(struct machine *m, char *errbuf, unsigned errlen);

#endif
