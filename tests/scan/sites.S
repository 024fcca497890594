/*
 * sites.S — one function per instruction class of emu/insn_class.def (int3, into, ud2 and
 * undefined aside), each holding its one site on a line marked `SITE class`, for
 * tests/scan/scan_sites.sh: `vmlab scan` must report every site with its class, function and
 * line. Built twice (tests/scan/CMakeLists.txt): with -DVARIANT_B, f_cli holds one more site
 * (sti), the one function `vmlab scan --diff` must report. f_gap holds bytes Capstone does not
 * decode between two ordinary instructions; boot_data is a local label on data in .text.
 */
    .text
    .globl _start
    .type _start, @function
_start:
    ret
    .size _start, . - _start
boot_data:
    .long 0xcf0fcfcf      /* iret bytes as data: never a site */

    .globl f_hlt
    .type f_hlt, @function
f_hlt:
    hlt    /* SITE hlt */
    nop
    .size f_hlt, . - f_hlt

    .globl f_lgdt
    .type f_lgdt, @function
f_lgdt:
    lgdt (%eax)    /* SITE lgdt */
    nop
    .size f_lgdt, . - f_lgdt

    .globl f_lidt
    .type f_lidt, @function
f_lidt:
    lidt (%eax)    /* SITE lidt */
    nop
    .size f_lidt, . - f_lidt

    .globl f_lldt
    .type f_lldt, @function
f_lldt:
    lldt %ax    /* SITE lldt */
    nop
    .size f_lldt, . - f_lldt

    .globl f_ltr
    .type f_ltr, @function
f_ltr:
    ltr %ax    /* SITE ltr */
    nop
    .size f_ltr, . - f_ltr

    .globl f_mov_to_cr
    .type f_mov_to_cr, @function
f_mov_to_cr:
    mov %eax, %cr3    /* SITE mov_to_cr */
    nop
    .size f_mov_to_cr, . - f_mov_to_cr

    .globl f_mov_from_cr
    .type f_mov_from_cr, @function
f_mov_from_cr:
    mov %cr0, %eax    /* SITE mov_from_cr */
    nop
    .size f_mov_from_cr, . - f_mov_from_cr

    .globl f_mov_dr
    .type f_mov_dr, @function
f_mov_dr:
    mov %eax, %dr7    /* SITE mov_dr */
    nop
    .size f_mov_dr, . - f_mov_dr

    .globl f_invlpg
    .type f_invlpg, @function
f_invlpg:
    invlpg (%eax)    /* SITE invlpg */
    nop
    .size f_invlpg, . - f_invlpg

    .globl f_wbinvd
    .type f_wbinvd, @function
f_wbinvd:
    wbinvd    /* SITE wbinvd */
    nop
    .size f_wbinvd, . - f_wbinvd

    .globl f_invd
    .type f_invd, @function
f_invd:
    invd    /* SITE invd */
    nop
    .size f_invd, . - f_invd

    .globl f_clts
    .type f_clts, @function
f_clts:
    clts    /* SITE clts */
    nop
    .size f_clts, . - f_clts

    .globl f_lmsw
    .type f_lmsw, @function
f_lmsw:
    lmsw %ax    /* SITE lmsw */
    nop
    .size f_lmsw, . - f_lmsw

    .globl f_rdmsr
    .type f_rdmsr, @function
f_rdmsr:
    rdmsr    /* SITE rdmsr */
    nop
    .size f_rdmsr, . - f_rdmsr

    .globl f_wrmsr
    .type f_wrmsr, @function
f_wrmsr:
    wrmsr    /* SITE wrmsr */
    nop
    .size f_wrmsr, . - f_wrmsr

    .globl f_cli
    .type f_cli, @function
f_cli:
    cli    /* SITE cli */
#ifdef VARIANT_B
    sti    /* VARIANT_B */
#endif
    nop
    .size f_cli, . - f_cli

    .globl f_sti
    .type f_sti, @function
f_sti:
    sti    /* SITE sti */
    nop
    .size f_sti, . - f_sti

    .globl f_in
    .type f_in, @function
f_in:
    inb $0x60, %al    /* SITE in */
    nop
    .size f_in, . - f_in

    .globl f_out
    .type f_out, @function
f_out:
    outb %al, $0x80    /* SITE out */
    nop
    .size f_out, . - f_out

    .globl f_ins
    .type f_ins, @function
f_ins:
    insb    /* SITE ins */
    nop
    .size f_ins, . - f_ins

    .globl f_outs
    .type f_outs, @function
f_outs:
    outsb    /* SITE outs */
    nop
    .size f_outs, . - f_outs

    .globl f_sgdt
    .type f_sgdt, @function
f_sgdt:
    sgdt (%eax)    /* SITE sgdt */
    nop
    .size f_sgdt, . - f_sgdt

    .globl f_sidt
    .type f_sidt, @function
f_sidt:
    sidt (%eax)    /* SITE sidt */
    nop
    .size f_sidt, . - f_sidt

    .globl f_sldt
    .type f_sldt, @function
f_sldt:
    sldt %ax    /* SITE sldt */
    nop
    .size f_sldt, . - f_sldt

    .globl f_smsw
    .type f_smsw, @function
f_smsw:
    smsw %ax    /* SITE smsw */
    nop
    .size f_smsw, . - f_smsw

    .globl f_str
    .type f_str, @function
f_str:
    str %ax    /* SITE str */
    nop
    .size f_str, . - f_str

    .globl f_pushf
    .type f_pushf, @function
f_pushf:
    pushf    /* SITE pushf */
    nop
    .size f_pushf, . - f_pushf

    .globl f_popf
    .type f_popf, @function
f_popf:
    popf    /* SITE popf */
    nop
    .size f_popf, . - f_popf

    .globl f_lar
    .type f_lar, @function
f_lar:
    lar %ax, %ax    /* SITE lar */
    nop
    .size f_lar, . - f_lar

    .globl f_lsl
    .type f_lsl, @function
f_lsl:
    lsl %ax, %ax    /* SITE lsl */
    nop
    .size f_lsl, . - f_lsl

    .globl f_verr
    .type f_verr, @function
f_verr:
    verr %ax    /* SITE verr */
    nop
    .size f_verr, . - f_verr

    .globl f_verw
    .type f_verw, @function
f_verw:
    verw %ax    /* SITE verw */
    nop
    .size f_verw, . - f_verw

    .globl f_push_seg
    .type f_push_seg, @function
f_push_seg:
    push %ds    /* SITE push_seg */
    nop
    .size f_push_seg, . - f_push_seg

    .globl f_pop_seg
    .type f_pop_seg, @function
f_pop_seg:
    pop %es    /* SITE pop_seg */
    nop
    .size f_pop_seg, . - f_pop_seg

    .globl f_mov_from_seg
    .type f_mov_from_seg, @function
f_mov_from_seg:
    mov %cs, %ax    /* SITE mov_from_seg */
    nop
    .size f_mov_from_seg, . - f_mov_from_seg

    .globl f_mov_to_seg
    .type f_mov_to_seg, @function
f_mov_to_seg:
    mov %ax, %ds    /* SITE mov_to_seg */
    nop
    .size f_mov_to_seg, . - f_mov_to_seg

    .globl f_far_call
    .type f_far_call, @function
f_far_call:
    lcall $0x8, $0x1000    /* SITE far_call */
    nop
    .size f_far_call, . - f_far_call

    .globl f_far_jmp
    .type f_far_jmp, @function
f_far_jmp:
    ljmp $0x8, $0x1000    /* SITE far_jmp */
    nop
    .size f_far_jmp, . - f_far_jmp

    .globl f_far_ret
    .type f_far_ret, @function
f_far_ret:
    lret    /* SITE far_ret */
    nop
    .size f_far_ret, . - f_far_ret

    .globl f_int_n
    .type f_int_n, @function
f_int_n:
    int $0x80    /* SITE int_n */
    nop
    .size f_int_n, . - f_int_n

    .globl f_iret
    .type f_iret, @function
f_iret:
    iret    /* SITE iret */
    nop
    .size f_iret, . - f_iret

    .globl f_cpuid
    .type f_cpuid, @function
f_cpuid:
    cpuid    /* SITE cpuid */
    nop
    .size f_cpuid, . - f_cpuid

    .globl f_rdtsc
    .type f_rdtsc, @function
f_rdtsc:
    rdtsc    /* SITE rdtsc */
    nop
    .size f_rdtsc, . - f_rdtsc

    .globl f_rdpmc
    .type f_rdpmc, @function
f_rdpmc:
    rdpmc    /* SITE rdpmc */
    nop
    .size f_rdpmc, . - f_rdpmc

    .globl f_sysenter
    .type f_sysenter, @function
f_sysenter:
    sysenter    /* SITE sysenter */
    nop
    .size f_sysenter, . - f_sysenter

    .globl f_sysexit
    .type f_sysexit, @function
f_sysexit:
    sysexit    /* SITE sysexit */
    nop
    .size f_sysexit, . - f_sysexit

    .globl f_gap
    .type f_gap, @function
f_gap:
    nop
    .byte 0x0f, 0x04    /* GAP */
    nop
    .size f_gap, . - f_gap
