/*
 * cmos.c — the MC146818 RTC and its 128 bytes of CMOS RAM.
 *
 * The clock does not tick. Its time is always
 *
 *     seconds = epoch + instructions retired / ips + offset
 *
 * and a read of a time register (seconds, minutes, hours, day of week, day of month, month, year,
 * century) converts that Unix time to a civil UTC date and encodes the field the way status B asks:
 * BCD or binary (DM bit), 24-hour or 12-hour with bit 7 meaning PM. The day of week is computed
 * (1 = Sunday), never stored. Status A never shows update-in-progress, because updates are
 * instantaneous; status C reads 0 (no interrupt sources); status D always says "valid RAM and time".
 *
 * How the guest sets the clock, the way Linux's mc146818 code does:
 *
 *     B.SET 0->1 : the current time is copied into the time registers and held there
 *     writes     : land in the held registers
 *     B.SET 1->0 : the held registers are decoded (in the format B then names) and `offset`
 *                  becomes their distance from the deterministic clock, which runs on from there
 *
 * A time register written while SET is clear takes effect at once the same way. Fields out of
 * range are decoded arithmetically (month clamped to 1..12), never refused. The memory-size bytes
 * are set once at init as a BIOS leaves them; every other byte is plain RAM. The index port keeps
 * bit 7 as the NMI mask and reads as 0xff (write-only on a PC, QEMU's answer).
 */
#include "emu/dev/cmos.h"

#include <stdbool.h>
#include <string.h>

enum {
    RTC_SEC = 0x00, RTC_MIN = 0x02, RTC_HOUR = 0x04, RTC_WDAY = 0x06, RTC_MDAY = 0x07,
    RTC_MON = 0x08, RTC_YEAR = 0x09, RTC_A = 0x0a, RTC_B = 0x0b, RTC_C = 0x0c, RTC_D = 0x0d,
    RTC_CENTURY = 0x32,
    A_UIP = 0x80, B_SET = 0x80, B_UIE = 0x10, B_BINARY = 0x04, B_24H = 0x02, D_VRT = 0x80,
    HOUR_PM = 0x80,
};

struct rtc_time {
    int64_t year;
    int mon, mday, wday, hour, min, sec;   /* 1..12, 1..31, 1..7 (1 = Sunday), 0..23, 0..59 */
};

static int64_t floor_div(int64_t a, int64_t b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_unix(int64_t t, struct rtc_time *tm)
{
    int64_t days = floor_div(t, 86400), secs = t - days * 86400;
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;

    tm->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    tm->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    tm->year = yoe + era * 400 + (tm->mon <= 2);
    tm->wday = (int)(days + 4 - floor_div(days + 4, 7) * 7) + 1;        /* 1970-01-01: Thursday */
    tm->hour = (int)(secs / 3600);
    tm->min = (int)(secs / 60 % 60);
    tm->sec = (int)(secs % 60);
}

static int64_t unix_from_civil(const struct rtc_time *tm)
{
    int mon = tm->mon < 1 ? 1 : tm->mon > 12 ? 12 : tm->mon;

    return days_from_civil(tm->year, mon, tm->mday) * 86400 + tm->hour * 3600 + tm->min * 60 +
           tm->sec;
}

static uint8_t enc(const struct cmos *c, int v)
{
    return (c->ram[RTC_B] & B_BINARY) ? (uint8_t)v : (uint8_t)((v / 10) << 4 | v % 10);
}

static int dec(const struct cmos *c, uint8_t v)
{
    return (c->ram[RTC_B] & B_BINARY) ? v : (v >> 4) * 10 + (v & 0x0f);
}

static uint8_t enc_hour(const struct cmos *c, int h)
{
    if (c->ram[RTC_B] & B_24H)
        return enc(c, h);
    return enc(c, h % 12 ? h % 12 : 12) | (h >= 12 ? HOUR_PM : 0);
}

static int dec_hour(const struct cmos *c, uint8_t v)
{
    if (c->ram[RTC_B] & B_24H)
        return dec(c, v);
    return dec(c, v & ~HOUR_PM) % 12 + ((v & HOUR_PM) ? 12 : 0);
}

/* Seconds of the deterministic clock alone, before the guest's offset. */
static int64_t clock_seconds(const struct cmos *c)
{
    return (int64_t)(c->clock->epoch + vclock_now(c->clock) / c->clock->ips);
}

static void store_time(struct cmos *c, int64_t t)
{
    struct rtc_time tm;

    civil_from_unix(t, &tm);
    c->ram[RTC_SEC] = enc(c, tm.sec);
    c->ram[RTC_MIN] = enc(c, tm.min);
    c->ram[RTC_HOUR] = enc_hour(c, tm.hour);
    c->ram[RTC_WDAY] = enc(c, tm.wday);
    c->ram[RTC_MDAY] = enc(c, tm.mday);
    c->ram[RTC_MON] = enc(c, tm.mon);
    c->ram[RTC_YEAR] = enc(c, (int)(tm.year % 100));
    c->ram[RTC_CENTURY] = enc(c, (int)(tm.year / 100 % 100));
}

static int64_t load_time(const struct cmos *c)
{
    struct rtc_time tm = {
        .year = dec(c, c->ram[RTC_CENTURY]) * 100 + dec(c, c->ram[RTC_YEAR]),
        .mon = dec(c, c->ram[RTC_MON]), .mday = dec(c, c->ram[RTC_MDAY]),
        .hour = dec_hour(c, c->ram[RTC_HOUR]), .min = dec(c, c->ram[RTC_MIN]),
        .sec = dec(c, c->ram[RTC_SEC]),
    };
    return unix_from_civil(&tm);
}

static bool is_time_reg(uint8_t i)
{
    return i == RTC_SEC || i == RTC_MIN || i == RTC_HOUR || (i >= RTC_WDAY && i <= RTC_YEAR) ||
           i == RTC_CENTURY;
}

static bool held(const struct cmos *c)
{
    return c->ram[RTC_B] & B_SET;
}

static void status_b_write(struct cmos *c, uint8_t v)
{
    bool was_held = held(c);
    int64_t now = clock_seconds(c) + c->offset;

    c->ram[RTC_B] = (v & B_SET) ? (v & ~B_UIE) : v;    /* SET clears UIE, as the datasheet says */
    if (held(c) && !was_held)
        store_time(c, now);
    else if (!held(c) && was_held)
        c->offset = load_time(c) - clock_seconds(c);
}

static void data_write(struct cmos *c, uint8_t i, uint8_t v)
{
    if (i == RTC_B) {
        status_b_write(c, v);
    } else if (i == RTC_A) {
        c->ram[i] = v & ~A_UIP;
    } else if (i == RTC_C || i == RTC_D) {
        return;                                        /* read-only */
    } else if (is_time_reg(i) && !held(c)) {
        store_time(c, clock_seconds(c) + c->offset);
        c->ram[i] = v;
        c->offset = load_time(c) - clock_seconds(c);
    } else {
        c->ram[i] = v;
    }
}

static uint8_t data_read(struct cmos *c, uint8_t i)
{
    if (is_time_reg(i) && !held(c))
        store_time(c, clock_seconds(c) + c->offset);
    if (i == RTC_C)
        return 0;
    if (i == RTC_D)
        return D_VRT;
    return c->ram[i];
}

static uint32_t cmos_port_read(void *opaque, uint16_t port, int size)
{
    struct cmos *c = opaque;

    return (port & 1) ? data_read(c, c->index) : 0xff;
}

static void cmos_port_write(void *opaque, uint16_t port, int size, uint32_t value)
{
    struct cmos *c = opaque;
    uint8_t v = value;

    if (port & 1) {
        data_write(c, c->index, v);
    } else {
        c->index = v & 0x7f;
        c->nmi_masked = v >> 7;
    }
}

static void set_word(struct cmos *c, uint8_t i, uint64_t v)
{
    if (v > 0xffff)
        v = 0xffff;
    c->ram[i] = v & 0xff;
    c->ram[i + 1] = v >> 8;
}

/* Reset state: 24-hour BCD clock at the epoch, memory-size bytes for `ram_bytes` of RAM. */
void cmos_init(struct cmos *c, const struct vclock *clock, uint64_t ram_bytes)
{
    const uint64_t KiB = 1024, MiB = 1024 * KiB;

    memset(c, 0, sizeof(*c));
    c->clock = clock;
    c->ram[RTC_A] = 0x26;                              /* 32.768 kHz divider, 1024 Hz rate */
    c->ram[RTC_B] = B_24H;
    c->ram[RTC_D] = D_VRT;
    set_word(c, 0x15, ram_bytes / KiB < 640 ? ram_bytes / KiB : 640);   /* base memory, KiB */
    set_word(c, 0x17, ram_bytes > MiB ? (ram_bytes - MiB) / KiB : 0);  /* above 1 MiB, KiB */
    set_word(c, 0x30, ram_bytes > MiB ? (ram_bytes - MiB) / KiB : 0);
    set_word(c, 0x34, ram_bytes > 16 * MiB ? (ram_bytes - 16 * MiB) / (64 * KiB) : 0);
}

/* Claim 0x70-0x71; 0 or the pio_register() error. */
int cmos_attach(struct cmos *c, struct pio_bus *bus)
{
    return pio_register(bus, 0x70, 2, "cmos", cmos_port_read, cmos_port_write, c);
}
