/*
 * types.h — fixed-width integer types for the guest, freestanding or hosted.
 *
 * The guest is built with -nostdinc, so <stdint.h> is not available there. The typedefs below use
 * the compiler's own __UINT32_TYPE__ & co., which are exactly the types <stdint.h> uses: the same
 * headers therefore compile unchanged inside host-side unit tests that also include libc headers.
 */
#ifndef GUEST_TYPES_H
#define GUEST_TYPES_H

typedef __UINT8_TYPE__  uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INT8_TYPE__   int8_t;
typedef __INT16_TYPE__  int16_t;
typedef __INT32_TYPE__  int32_t;
typedef __INT64_TYPE__  int64_t;
typedef __UINTPTR_TYPE__ uintptr_t;
typedef __SIZE_TYPE__   size_t;

#ifndef __cplusplus
#ifndef bool
#define bool _Bool
#define true 1
#define false 0
#endif
#endif

#ifndef NULL
#define NULL ((void *)0)
#endif

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP(x, a)   (((x) + (a) - 1) & ~((a) - 1))
#define ALIGN_DOWN(x, a) ((x) & ~((a) - 1))

#endif
