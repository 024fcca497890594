/*
 * irq.h — an interrupt request line as a tiny object (after TinyEMU's IRQSignal).
 *
 * A device holds a `struct irq_line` and raises or lowers it without knowing which controller it is
 * wired to; the board (emu/pc.c) connects each line to an input of the 8259 pair. Levels are 0/1;
 * the 8259 is programmed edge-triggered by every PC OS, so a device signals an event with
 * irq_pulse() (raise then lower).
 */
#ifndef VMLAB_IRQ_H
#define VMLAB_IRQ_H

struct irq_line {
    void (*set)(void *opaque, int n, int level);  /* NULL: line not connected */
    void *opaque;                                 /* the controller */
    int n;                                        /* input number on that controller */
};

static inline void irq_set(const struct irq_line *l, int level)
{
    if (l->set)
        l->set(l->opaque, l->n, level);
}
static inline void irq_raise(const struct irq_line *l) { irq_set(l, 1); }
static inline void irq_lower(const struct irq_line *l) { irq_set(l, 0); }
static inline void irq_pulse(const struct irq_line *l)
{
    irq_set(l, 1);
    irq_set(l, 0);
}

#endif
