/* code_data_page — data written on the page that holds the code writing it.
 *
 * Small kernels often have `.data` on the page where `.text` ends. With paging on (0..4 MiB
 * identity-mapped, 4 KiB pages, all writable), a loop running from one page increments a counter
 * that lives on that same page, 1000 times, calling a function on the page each time: under a
 * binary translator the page is both translated code and written data, and every write must
 * reach memory while the code keeps running (from the translation cache, retranslated when the
 * page's bytes change). The counter must end at 1000.
 */
#include "guest.h"

	.text
	.globl main
main:
	call cpu_init
	identity_map pt0, pd
	paging_on pd
	print "code_data_page: paging on\n"
	call shared_page
	check %eax, $1000, "counter written 1000 times from its own page"
	ret

	.section .text.shared, "awx"
	.align 4096
shared_page:
	movl $1000, %ecx
1:	incl counter
	call leaf
	loop 1b
	movl counter, %eax
	ret
leaf:
	ret
	.align 4
counter: .long 0

	.bss
	.align 4096
pd:	.space 4096
pt0:	.space 4096
