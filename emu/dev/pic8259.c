/*
 * pic8259.c — the master/slave 8259A pair of the PC.
 *
 * Each chip keeps three 8-bit registers: IRR (requests latched from the inputs), IMR (masked
 * inputs) and ISR (requests being serviced). An input's rising edge sets its IRR bit (a level input,
 * ICW1 LTIM, makes IRR follow the line instead). A chip asserts its INT output when the
 * highest-priority unmasked IRR bit outranks everything in ISR. The slave's INT output is wired to
 * master input 2 and re-evaluated after every change (pic_update()), so a slave request shows on the
 * master as a rising edge on input 2, exactly as the wire does.
 *
 * Priorities are positions relative to `priority_add`: input (priority_add + p) & 7 has priority p,
 * 0 the highest. Fixed priority is priority_add = 0; rotation moves the lowest priority to the input
 * just serviced (OCW2 rotate commands, or automatic rotation in auto-EOI mode).
 *
 * The life of a request, in edge mode:
 *
 *     input 0->1 ──> IRR ──INTA──> ISR ──EOI──> (gone)
 *                     │ (auto-EOI: INTA clears it at once, ISR untouched)
 *                     └── masked in IMR: stays in IRR, delivered once unmasked
 *
 * The programming sequence: a write with bit 4 set to the command port is ICW1 and resets the chip;
 * ICW2 (vector base), ICW3 (cascade, only if ICW1 did not say "single") and ICW4 (only if ICW1 asked
 * for it) follow on the data port. After that the data port is OCW1 (IMR); the command port takes
 * OCW2 (EOI and rotation) and OCW3 (register select, poll, special mask). Bytes a real chip would
 * ignore are ignored; wider accesses act on the low byte.
 */
#include "emu/dev/pic8259.h"

#include <string.h>

enum {
    ICW1_IC4 = 0x01, ICW1_SNGL = 0x02, ICW1_LTIM = 0x08, ICW1_INIT = 0x10,
    ICW4_AEOI = 0x02, ICW4_SFNM = 0x10,
    OCW3_SEL = 0x08, OCW3_RIS = 0x01, OCW3_RR = 0x02, OCW3_POLL = 0x04,
    OCW3_SMM = 0x20, OCW3_ESMM = 0x40,
    PIC_NONE = 8,                      /* "no priority": nothing requested / in service */
};

/* Priority 0..7 of the highest-priority bit of `mask`, PIC_NONE if it is empty. */
static int priority_of(const struct pic_chip *s, uint8_t mask)
{
    if (!mask)
        return PIC_NONE;
    int p = 0;
    while (!(mask & (1u << ((p + s->priority_add) & 7))))
        p++;
    return p;
}

/* The input the chip would present to INTA now, or -1 if its INT output is low. */
static int chip_pending(const struct pic_chip *s, bool is_master)
{
    int want = priority_of(s, s->irr & ~s->imr);
    if (want == PIC_NONE)
        return -1;
    uint8_t busy = s->isr;
    if (s->special_mask)
        busy &= ~s->imr;
    if (is_master && s->sfnm)
        busy &= ~(1u << 2);
    return want < priority_of(s, busy) ? (want + s->priority_add) & 7 : -1;
}

static void chip_set_input(struct pic_chip *s, int n, int level)
{
    uint8_t bit = 1u << n;

    if (s->ltim) {
        s->irr = level ? (s->irr | bit) : (s->irr & ~bit);
    } else if (level && !(s->last_level & bit)) {
        s->irr |= bit;
    }
    s->last_level = level ? (s->last_level | bit) : (s->last_level & ~bit);
}

/* Propagate the slave's INT output to master input 2. */
static void pic_update(struct pic8259 *pic)
{
    chip_set_input(&pic->chip[0], 2, chip_pending(&pic->chip[1], false) >= 0);
}

/* INTA on one chip for input n: IRR -> ISR, or rotation only in auto-EOI mode. */
static void chip_intack(struct pic_chip *s, int n)
{
    if (s->auto_eoi) {
        if (s->rotate_aeoi)
            s->priority_add = (n + 1) & 7;
    } else {
        s->isr |= 1u << n;
    }
    if (!s->ltim)
        s->irr &= ~(1u << n);
}

static void chip_reset(struct pic_chip *s)
{
    uint8_t level = s->last_level;

    memset(s, 0, sizeof(*s));
    s->last_level = level;     /* the wires keep their levels; a high input needs a new edge */
}

static void chip_icw1(struct pic_chip *s, uint8_t v)
{
    chip_reset(s);
    s->icw4_needed = v & ICW1_IC4;
    s->single = !!(v & ICW1_SNGL);
    s->ltim = !!(v & ICW1_LTIM);
    s->icw_step = 2;
}

static void chip_ocw2(struct pic_chip *s, uint8_t v)
{
    int n = v & 7;
    int p;

    switch (v >> 5) {
    case 0: s->rotate_aeoi = 0; break;                      /* rotate in auto-EOI: clear */
    case 4: s->rotate_aeoi = 1; break;                      /* rotate in auto-EOI: set */
    case 1: case 5:                                         /* non-specific EOI (+ rotate) */
        p = priority_of(s, s->isr);
        if (p == PIC_NONE)
            break;
        n = (p + s->priority_add) & 7;
        s->isr &= ~(1u << n);
        if (v >> 5 == 5)
            s->priority_add = (n + 1) & 7;
        break;
    case 3: s->isr &= ~(1u << n); break;                    /* specific EOI */
    case 7:                                                 /* rotate on specific EOI */
        s->isr &= ~(1u << n);
        s->priority_add = (n + 1) & 7;
        break;
    case 6: s->priority_add = (n + 1) & 7; break;           /* set priority: n is lowest */
    default: break;                                         /* 2: no operation */
    }
}

static void chip_ocw3(struct pic_chip *s, uint8_t v)
{
    if (v & OCW3_POLL)
        s->poll = 1;
    if (v & OCW3_RR)
        s->read_isr = v & OCW3_RIS;
    if (v & OCW3_ESMM)
        s->special_mask = !!(v & OCW3_SMM);
}

static void chip_data_write(struct pic_chip *s, uint8_t v)
{
    switch (s->icw_step) {
    case 2:
        s->vector_base = v & 0xf8;
        s->icw_step = !s->single ? 3 : s->icw4_needed ? 4 : 0;
        break;
    case 3:                                 /* ICW3: the wiring is fixed, the value is noted only */
        s->icw_step = s->icw4_needed ? 4 : 0;
        break;
    case 4:
        s->auto_eoi = !!(v & ICW4_AEOI);
        s->sfnm = !!(v & ICW4_SFNM);
        s->icw_step = 0;
        break;
    default:
        s->imr = v;
        break;
    }
}

/* Poll command: acknowledge as INTA would, and return 0x80 | input, or 0x07 with nothing pending
 * (QEMU's answer; the datasheet leaves the low bits undefined when bit 7 is clear). */
static uint8_t chip_poll(struct pic_chip *s, bool is_master)
{
    int n = chip_pending(s, is_master);

    s->poll = 0;
    if (n < 0)
        return 0x07;
    chip_intack(s, n);
    return 0x80 | n;
}

static uint32_t pic_port_read(void *opaque, uint16_t port, int size)
{
    struct pic8259 *pic = opaque;
    bool is_master = port < 0xa0;
    struct pic_chip *s = &pic->chip[is_master ? 0 : 1];
    uint8_t v;

    if (s->poll) {
        v = chip_poll(s, is_master);
        pic_update(pic);
    } else if (port & 1) {
        v = s->imr;
    } else {
        v = s->read_isr ? s->isr : s->irr;
    }
    return v;
}

static void pic_port_write(void *opaque, uint16_t port, int size, uint32_t value)
{
    struct pic8259 *pic = opaque;
    struct pic_chip *s = &pic->chip[port < 0xa0 ? 0 : 1];
    uint8_t v = value;

    if (port & 1)
        chip_data_write(s, v);
    else if (v & ICW1_INIT)
        chip_icw1(s, v);
    else if (v & OCW3_SEL)
        chip_ocw3(s, v);
    else
        chip_ocw2(s, v);
    pic_update(pic);
}

static void pic_line_set(void *opaque, int n, int level)
{
    pic_set_irq(opaque, n, level);
}

/* Power-on state: every input masked, no vector base until the guest sends ICW1..ICW4. */
void pic_init(struct pic8259 *pic)
{
    memset(pic, 0, sizeof(*pic));
    pic->chip[0].imr = 0xff;
    pic->chip[1].imr = 0xff;
}

/* Claim 0x20-0x21 and 0xa0-0xa1; 0 or the pio_register() error. */
int pic_attach(struct pic8259 *pic, struct pio_bus *bus)
{
    int rc = pio_register(bus, 0x20, 2, "pic-master", pic_port_read, pic_port_write, pic);
    if (rc)
        return rc;
    return pio_register(bus, 0xa0, 2, "pic-slave", pic_port_read, pic_port_write, pic);
}

/* The irq_line that drives input `irq` (0..15). */
struct irq_line pic_line(struct pic8259 *pic, int irq)
{
    return (struct irq_line){ .set = pic_line_set, .opaque = pic, .n = irq };
}

/* Drive input `irq` (0..15) to `level`; the cascade input 2 and out-of-range inputs are ignored. */
void pic_set_irq(struct pic8259 *pic, int irq, int level)
{
    if (irq < 0 || irq > 15 || irq == 2)
        return;
    chip_set_input(&pic->chip[irq >> 3], irq & 7, level != 0);
    pic_update(pic);
}

/* True when the master's INT output is asserted. */
bool pic_intr(const struct pic8259 *pic)
{
    return chip_pending(&pic->chip[0], true) >= 0;
}

/* INTA on the slave, after the master acknowledged input 2: its input 0..7, or spurious 7. */
static int slave_intack(struct pic_chip *sl)
{
    int n = chip_pending(sl, false);

    if (n < 0)
        return 7;                                   /* spurious on the slave: ISR untouched */
    chip_intack(sl, n);
    return n;
}

/* INTA cycle: the vector of the winning request, or the spurious vector of input 7 / 15. */
uint8_t pic_ack(struct pic8259 *pic, int *irq)
{
    struct pic_chip *m = &pic->chip[0];
    int n = chip_pending(m, true);
    uint8_t vector;

    if (n < 0) {
        n = 7;                                      /* spurious on the master: ISR untouched */
        vector = m->vector_base + 7;
    } else {
        chip_intack(m, n);
        vector = m->vector_base + n;
        if (n == 2) {
            pic->chip[0].last_level &= ~(1u << 2);  /* INT drops during INTA: a slave request
                                                       still pending after it raises a new edge */
            n = slave_intack(&pic->chip[1]);
            vector = pic->chip[1].vector_base + n;
            n += 8;
        }
    }
    pic_update(pic);
    if (irq)
        *irq = n;
    return vector;
}
