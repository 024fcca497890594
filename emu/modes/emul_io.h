/*
 * emul_io.h — a guest IN/OUT that trapped, performed by the monitor.
 *
 * A monitor that takes the guest's port instructions on #GP (the ring-compression monitor of
 * trap-classic and bt; the hypervisor for a PV domain with I/O privilege, as Xen's
 * emulate_privileged_op does for a virtual IOPL) decodes the instruction, performs the access
 * through the funnel (emu/funnel.h: recorded as `ioemul` where the monitor's device models
 * answer, `io` where a device is touched) and moves the data to or from AL/AX/EAX. String I/O
 * (INS/OUTS) is not performed: the caller delivers the #GP instead.
 */
#ifndef VMLAB_EMUL_IO_H
#define VMLAB_EMUL_IO_H

#include <capstone/capstone.h>
#include <stdbool.h>
#include <stdint.h>

struct machine;

/* The port access of `in` (decoded at the guest's current EDX): 0 with port, size (1, 2, 4) and
 * direction, or -1 if `in` is not an IN/OUT with a register operand. */
int emul_io_decode(struct machine *m, const cs_insn *in, uint16_t *port, unsigned *size,
                   bool *is_in);

/* The qualifier the monitors give a trapped port instruction: "in1 0x80", "out4 0xe0". */
void emul_io_cause(uint16_t port, unsigned size, bool is_in, char *q, unsigned len);

/* Perform the IN/OUT `in` at guest eip (CPL cpl): the access on the bus, recorded by the funnel,
 * and the accumulator updated. EIP is left to the caller. 0, or -1 if `in` is not one. */
int emul_io(struct machine *m, const cs_insn *in, uint32_t eip, int cpl);

#endif
