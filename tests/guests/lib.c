/* lib.c — the runtime every test guest links: console, checks, exit, descriptor tables, and the
 * default trap handler.
 *
 * Console: COM1, polled (wait for LSR.THRE, bit 5 of 0x3fd, then write 0x3f8); the UART is not
 * programmed, both QEMU and vmlab accept output as is. Exit: a 32-bit write of V to the
 * isa-debug-exit port 0xf4 ends the machine with status (V << 1) | 1.
 *
 * cpu_init() installs a flat GDT (ring-0 and ring-3 code and data, a TSS whose ESP0 is the top of
 * kstack), and an IDT whose 256 interrupt gates lead to the stubs in entry.S and from there to
 * trap(struct frame *). A guest overrides trap() or relies on the weak one here, which calls
 * trap_default():
 *   - vector 0x80 (if the guest made its gate DPL 3) is a tiny system-call interface, so that
 *     ring-3 code can print and check (see SYS_* in guest.h);
 *   - a trap announced by the `faulting` macro (expect_*) is printed as
 *       "trap <vec> [err=0x........] eip=at+<n> cpl=<n>"
 *     checked, and execution resumes at expect_resume. The error code is printed and checked
 *     only for vectors that push one (8, 10-14, 17). The saved EIP must be the instruction for
 *     a fault, the next one for int3, into and int n (vectors 3, 4 and >= 32); for #DF (8) it
 *     is undefined, neither printed nor checked;
 *   - anything else is unexpected: the guest prints the frame and fails.
 */
#include "guest.h"

u32 expect_at, expect_resume;          /* set by `faulting`; 0 = no trap expected */
u32 expect_vec, expect_err;
u64 gdt[8] __attribute__((aligned(8)));
u64 idt[256] __attribute__((aligned(8)));
struct {
	u32 word[26];                  /* link, esp0, ss0, ... ; word 25 high half = I/O map base */
	u8 bitmap[128];                /* ports 0..0x3ff, 1 = denied */
	u8 end;                        /* 0xff: the CPU reads two bytes at the end of the map */
} __attribute__((packed, aligned(16))) tss;
u8 kstack[4096] __attribute__((aligned(16)));
extern char trap_stubs[];              /* entry.S: 256 stubs, 16 bytes apart */

static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void con_putc(int c)
{
	while (!(inb(0x3fd) & 0x20))
		;
	outb(0x3f8, (u8)c);
}

void con_puts(const char *s)
{
	while (*s)
		con_putc(*s++);
}

void con_hex(u32 v)
{
	con_puts("0x");
	for (int shift = 28; shift >= 0; shift -= 4)
		con_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

void con_dec(u32 v)
{
	char buf[11];
	int n = 0;
	do {
		buf[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		con_putc(buf[--n]);
}

void vm_exit(u32 value)
{
	__asm__ volatile("outl %0, $0xf4" : : "a"(value));
	for (;;)
		__asm__ volatile("cli; hlt");
}

void guest_pass(void)
{
	con_puts("PASS\n");
	vm_exit(EXIT_PASS);
}

void guest_fail(void)
{
	con_puts("FAIL\n");
	vm_exit(EXIT_FAIL);
}

void check(const char *what, u32 got, u32 want)
{
	con_puts(what);
	if (got == want) {
		con_puts(": ok\n");
		return;
	}
	con_puts(": got ");
	con_hex(got);
	con_puts(", want ");
	con_hex(want);
	con_putc('\n');
	guest_fail();
}

void check_range(const char *what, u32 got, u32 lo, u32 hi)
{
	con_puts(what);
	if (got >= lo && got <= hi) {
		con_puts(": ok\n");
		return;
	}
	con_puts(": got ");
	con_hex(got);
	con_puts(", want ");
	con_hex(lo);
	con_puts("..");
	con_hex(hi);
	con_putc('\n');
	guest_fail();
}

static u64 descriptor(u32 base, u32 limit, u32 access, u32 flags)
{
	return (u64)(limit & 0xffff) | (u64)(base & 0xffffff) << 16 | (u64)access << 40 |
	       (u64)((limit >> 16) & 0xf) << 48 | (u64)flags << 52 | (u64)(base >> 24) << 56;
}

static void set_gate(int vec, u32 handler, u32 attr)
{
	idt[vec] = (u64)(handler & 0xffff) | (u64)SEL_KCODE << 16 | (u64)attr << 40 |
		   (u64)(handler >> 16) << 48;
}

void cpu_init(void)
{
	struct { u16 limit; u32 base; } __attribute__((packed)) gdtr = { sizeof gdt - 1, (u32)gdt },
		idtr = { sizeof idt - 1, (u32)idt };

	gdt[1] = descriptor(0, 0xfffff, 0x9a, 0xc);
	gdt[2] = descriptor(0, 0xfffff, 0x92, 0xc);
	gdt[3] = descriptor(0, 0xfffff, 0xfa, 0xc);
	gdt[4] = descriptor(0, 0xfffff, 0xf2, 0xc);
	gdt[5] = descriptor((u32)&tss, sizeof tss - 1, 0x89, 0);
	tss.word[1] = (u32)(kstack + sizeof kstack);
	tss.word[2] = SEL_KDATA;
	tss.word[25] = (u32)TSS_NO_BITMAP << 16;
	for (unsigned i = 0; i < sizeof tss.bitmap; i++)
		tss.bitmap[i] = 0xff;
	tss.end = 0xff;
	for (int v = 0; v < 256; v++)
		set_gate(v, (u32)(trap_stubs + 16 * v), GATE_INT0);
	__asm__ volatile("lgdt %0\n\t"
			 "ljmp %1, $1f\n"
			 "1:\tmovl %2, %%eax\n\t"
			 "movl %%eax, %%ds\n\tmovl %%eax, %%es\n\tmovl %%eax, %%ss\n\t"
			 "movl %%eax, %%fs\n\tmovl %%eax, %%gs\n\t"
			 "movl %3, %%eax\n\tltr %%ax\n\t"
			 "lidt %4"
			 : : "m"(gdtr), "i"(SEL_KCODE), "i"(SEL_KDATA), "i"(SEL_TSS), "m"(idtr)
			 : "eax", "memory");
}

static int has_error_code(u32 vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17;
}

void trap_default(struct frame *f)
{
	if (f->vec == 0x80 && f->eax == SYS_PUTS) {
		con_puts((const char *)f->ebx);
		return;
	}
	if (f->vec == 0x80 && f->eax == SYS_CHECK) {
		check((const char *)f->ebx, f->ecx, f->edx);
		return;
	}
	if (f->vec == 0x80 && f->eax == SYS_EXIT)
		guest_pass();
	con_puts("trap ");
	con_dec(f->vec);
	if (has_error_code(f->vec)) {
		con_puts(" err=");
		con_hex(f->err);
	}
	if (!expect_at) {
		con_puts(" eip=");
		con_hex(f->eip);
		con_puts(" unexpected\n");
		guest_fail();
	}
	if (f->vec != 8) {
		con_puts(" eip=at+");
		con_dec(f->eip - expect_at);
	}
	con_puts(" cpl=");
	con_dec(f->cs & 3);
	con_putc('\n');
	u32 want_eip = f->vec == 3 || f->vec == 4 || f->vec >= 32 ? expect_resume : expect_at;
	if (f->vec != expect_vec || (has_error_code(f->vec) && f->err != expect_err) ||
	    (f->vec != 8 && f->eip != want_eip)) {
		con_puts("want trap ");
		con_dec(expect_vec);
		con_puts(" err=");
		con_hex(expect_err);
		con_puts(" eip=at+");
		con_dec(want_eip - expect_at);
		con_putc('\n');
		guest_fail();
	}
	f->eip = expect_resume;
	expect_at = expect_resume = 0;
}

void fault_missed(void)
{
	con_puts("no trap where one was expected\n");
	guest_fail();
}

__attribute__((weak)) void trap(struct frame *f)
{
	trap_default(f);
}
