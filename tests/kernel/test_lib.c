/*
 * test_lib.c — the guest's small C library (guests/lib): formatting and command-line parsing.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "lib.h"

static const char *f(const char *format, ...)
{
    static char buf[128];
    va_list ap;
    va_start(ap, format);
    vfmt(buf, sizeof(buf), format, ap);
    va_end(ap);
    return buf;
}

Test(fmt, integers_in_every_supported_form)
{
    cr_assert_str_eq(f("%d %i %u", -42, 7, 4000000000u), "-42 7 4000000000");
    cr_assert_str_eq(f("%x %X %08x", 0xbeefu, 0xbeefu, 0x2au), "beef BEEF 0000002a");
    cr_assert_str_eq(f("%d", (int)0x80000000), "-2147483648");
    cr_assert_str_eq(f("%5d|%-5d|%05d", -3, 12, -3), "   -3|12   |-0003");
    cr_assert_str_eq(f("%lu %ld", 5ul, -5l), "5 -5");
}

Test(fmt, strings_chars_and_percent)
{
    cr_assert_str_eq(f("%s=%c%%", "n", 'x'), "n=x%");
    cr_assert_str_eq(f("[%-8s][%3s]", "sgdt", "abcd"), "[sgdt    ][abcd]");
    cr_assert_str_eq(f("%s", (char *)NULL), "(null)");
}

Test(fmt, truncates_but_reports_the_full_length)
{
    char buf[6];
    cr_assert_eq(fmt(buf, sizeof(buf), "result=%d", 12345), 12);
    cr_assert_str_eq(buf, "resul");
    cr_assert_eq(fmt(buf, 0, "abc"), 3);
}

Test(cmdline, finds_key_value_words_and_skips_the_rest)
{
    char v[16];
    const char *line = "build/guests/kernel.elf workload=forkwait n=2000 verbose";
    cr_assert(cmdline_get(line, "workload", v, sizeof(v)));
    cr_assert_str_eq(v, "forkwait");
    cr_assert(cmdline_get(line, "n", v, sizeof(v)));
    cr_assert_str_eq(v, "2000");
    cr_assert_not(cmdline_get(line, "verbose", v, sizeof(v)));
    cr_assert_str_eq(v, "");
}

Test(cmdline, key_must_match_the_whole_name_and_last_one_wins)
{
    char v[16];
    cr_assert_not(cmdline_get("nn=3 workloads=x", "n", v, sizeof(v)));
    cr_assert(cmdline_get("n=1  n=2\tn=3", "n", v, sizeof(v)));
    cr_assert_str_eq(v, "3");
}

Test(cmdline, value_is_truncated_to_the_buffer)
{
    char v[4];
    cr_assert(cmdline_get("workload=forkwait", "workload", v, sizeof(v)));
    cr_assert_str_eq(v, "for");
}

Test(cmdline, parse_uint_accepts_plain_decimal_only)
{
    cr_assert_eq(parse_uint("0"), 0);
    cr_assert_eq(parse_uint("200000"), 200000);
    cr_assert_eq(parse_uint("999999999"), 999999999);
    cr_assert_eq(parse_uint("1000000000"), -1);
    cr_assert_eq(parse_uint(""), -1);
    cr_assert_eq(parse_uint("12a"), -1);
    cr_assert_eq(parse_uint("-1"), -1);
}
