#!/usr/bin/env python3
# make_seeds.py — writes the binary seed files of tests/fuzz/corpus/ (committed; run again only
# when the input layout of a fuzz target changes):
#
#   loader/aout_exit.bin     a Multiboot image with the a.out kludge (flag 16): header at 0, loaded
#                            at 1 MiB, code that writes 0x10 to isa-debug-exit (0xf4) and halts
#   loader/elf_exit.elf      the same code as a minimal ELF32 i386 executable, one PT_LOAD
#   loader/elf_fault.elf     an ELF whose code divides by zero with no IDT (a triple fault)
#   hypercall/*.bin          hypercall records for fuzz/fuzz_hypercall.c (layout in its header:
#                            24-byte records u8 nr, u8 pad, u16 modes, u32 args[5]; the whole file
#                            is also guest memory at the scratch address, so records point at
#                            data placed after them with mode 1)
#
# The YAML seeds (model/, suite/) are written by hand; the build adds models/ *.yaml and
# models/suites/ *.yaml to the corpora (fuzz/CMakeLists.txt).
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))
corpus = os.path.join(here, "corpus")

MB_MAGIC = 0x1BADB002
EXIT_CODE = bytes([0xB8, 0x10, 0, 0, 0, 0xE7, 0xF4, 0xF4])          # mov $0x10,%eax; out; hlt
FAULT_CODE = bytes([0x31, 0xC9, 0xF7, 0xF1, 0xF4])                  # xor %ecx,%ecx; div %ecx; hlt


def write(sub, name, data):
    d = os.path.join(corpus, sub)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def aout(code):
    flags = 0x00010003
    hdr = struct.pack("<8I", MB_MAGIC, flags, (-(MB_MAGIC + flags)) & 0xFFFFFFFF,
                      0x100000, 0x100000, 0, 0, 0x100020)
    return hdr + bytes(0x20 - len(hdr)) + code


def elf(code):
    base = 0x100000
    mb_flags = 0x00000003
    mb = struct.pack("<3I", MB_MAGIC, mb_flags, (-(MB_MAGIC + mb_flags)) & 0xFFFFFFFF)
    ehsize, phsize = 52, 32
    off = ehsize + phsize                     # the Multiboot header, then the code
    body = mb + code
    entry = base + off + len(mb)
    ident = b"\x7fELF" + bytes([1, 1, 1]) + bytes(9)
    eh = ident + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, entry, ehsize, 0, 0, ehsize, phsize, 1,
                             40, 0, 0)
    ph = struct.pack("<8I", 1, 0, base, base, off + len(body), off + len(body), 5, 0x1000)
    return eh + ph + body


write("loader", "aout_exit.bin", aout(EXIT_CODE))
write("loader", "elf_exit.elf", elf(EXIT_CODE))
write("loader", "elf_fault.elf", elf(FAULT_CODE))


def rec(nr, args=(0, 0, 0, 0, 0), modes=(0, 0, 0, 0, 0)):
    m = 0
    for i, v in enumerate(modes):
        m |= v << (2 * i)
    a = list(args) + [0] * (5 - len(args))
    return struct.pack("<BBH5I", nr, 0, m, *a)


def calls(records, data, data_at=None):
    """Records, then `data` at offset data_at (default: right after the records)."""
    head = b"".join(records)
    at = len(head) if data_at is None else data_at
    return head + bytes(at - len(head)) + data, at


# console_io(CONSOLEIO_write, len, ptr): the string follows the one record.
text = b"fuzz: hello\n"
write("hypercall", "console_write.bin",
      rec(18, (0, len(text), 24), (0, 0, 1)) + text)
# xen_version(XENVER_version, 0); an unknown hypercall; set_timer_op(lo, hi)
write("hypercall", "version_unknown_timer.bin",
      rec(17) + rec(63) + rec(15, (5000, 0)))
# multicall(list, 2): xen_version and console_io, entries after the record (32 bytes each)
msg = b"mc\n"
entries_at = 24
ent1 = struct.pack("<II6I", 17, 0, 0, 0, 0, 0, 0, 0)
# the string's address must be absolute in an entry: not mappable by modes, so raw 0 (refused)
ent2 = struct.pack("<II6I", 18, 0, 0, len(msg), 0, 0, 0, 0)
write("hypercall", "multicall.bin", rec(13, (entries_at, 2), (1, 0)) + ent1 + ent2 + msg)
# set_trap_table(table): #PF handler at ring 1, int 0x80 fast at DPL 3, then the end
traps = struct.pack("<BBHI", 14, 1, 0x09, 0xC0100000) + struct.pack("<BBHI", 0x80, 3 | 8, 0x09,
                                                                       0xC0100010) + bytes(8)
write("hypercall", "trap_table.bin", rec(0, (24,), (1,)) + traps)
# mmu_update(reqs, 1, NULL): one request at the page directory's physical address (mode 3 is
# only for arguments, so the request itself names the page directory's slot 0 through a
# mmuext_op pin / unpin of the directory first), then stack_switch and set_callbacks.
write("hypercall", "mmuext_pin_unpin.bin",
      rec(26, (48, 2, 0, 0x7FF0), (1, 0, 0, 0)) + rec(3, (0x11, 0xC0208000)) +
      struct.pack("<III", 1, 0, 0) + struct.pack("<III", 4, 0, 0))
write("hypercall", "mmu_update.bin",
      rec(1, (24, 1, 0, 0x7FF0), (1, 0, 0, 0)) + struct.pack("<QQ", 0x1000, 0x2003))
# update_va_mapping(va, pte_lo, pte_hi, flags): remap the scratch page, then invlpg
write("hypercall", "update_va_mapping.bin",
      rec(14, (0, 0x200003, 0, 2), (1, 0, 0, 0)) + rec(14, (0x1000, 0, 0, 1), (1, 0, 0, 0)))
# event_channel_op(bind_virq), physdev_op(set_iopl), sched_op(yield), sched_op(shutdown)
write("hypercall", "events_sched.bin",
      rec(32, (1, 48), (0, 1)) + rec(33, (6, 56), (0, 1)) +
      struct.pack("<III", 0, 0, 0) + struct.pack("<II", 1, 0) +
      rec(29, (0, 0)) + rec(29, (2, 64), (0, 1)) + struct.pack("<I", 0))
# iret: the frame at ESP (scratch + 0x800) is all zeros unless the input reaches it
iret = bytearray(rec(23))
iret += bytes(0x800 - len(iret))
iret += struct.pack("<8I", 0, 0, 0, 0xC0100000, 0x09, 0x202, 0xC0208000, 0x11)
write("hypercall", "iret.bin", bytes(iret))
