# static_engine.cmake — link the vmlab executable with Unicorn's and Capstone's static archives,
# as a position-dependent executable, so that a `vmlab run` process starts in about 2 ms instead
# of about 7 (issue 21, start-up).
#
# libunicorn.so.2 is 20 MB with every symbol exported and bound at load (BIND_NOW): each process
# resolves about 37,000 symbolic relocations (do_lookup_x, _dl_relocate_object) before main, and
# `vmlab compare` starts one process per run. Linked from libunicorn.a (same package, same build:
# libunicorn-dev ships both) those references are resolved by the static linker, and -no-pie
# removes the remaining relative relocations of the executable itself. Measured on this machine:
# `vmlab --version` 6.8-9.0 ms dynamic, 1.4-2.1 ms static and position-dependent (perf stat -r 40,
# interleaved; README "Speed").
#
# Only the vmlab executable is linked this way: the unit tests, benchmarks and fuzz targets keep
# the shared libraries (thirty-odd test executables with a 30 MB archive each would cost link
# time and disk for nothing). Both copies are the same Unicorn release, which the version check
# in CMakeLists.txt reads from pkg-config. -DVMLAB_STATIC_ENGINE=OFF, or a system without the
# archives, links vmlab against the shared libraries as before; so do the sanitizer and fuzz
# builds, whose LeakSanitizer suppressions name libunicorn.so (tests/sanitize/lsan.supp).
option(VMLAB_STATIC_ENGINE "Link the vmlab executable with libunicorn.a and libcapstone.a" ON)
if(VMLAB_SANITIZE OR VMLAB_FUZZ)
  set(VMLAB_STATIC_ENGINE OFF)
endif()

# Link `target` (an executable already linked to vmlab_core) with the static archives when they
# exist beside the shared libraries pkg-config found; otherwise leave it alone.
function(vmlab_static_engine target)
  if(NOT VMLAB_STATIC_ENGINE)
    return()
  endif()
  find_library(VMLAB_UNICORN_ARCHIVE NAMES libunicorn.a HINTS ${UNICORN_LIBRARY_DIRS})
  find_library(VMLAB_CAPSTONE_ARCHIVE NAMES libcapstone.a HINTS ${CAPSTONE_LIBRARY_DIRS})
  if(NOT VMLAB_UNICORN_ARCHIVE OR NOT VMLAB_CAPSTONE_ARCHIVE)
    message(STATUS "vmlab: no libunicorn.a/libcapstone.a, the executable links the shared ones")
    return()
  endif()
  # The archives come before the shared libraries vmlab_core carries, so they resolve every
  # Unicorn and Capstone symbol; --as-needed then drops the shared ones from the executable.
  target_link_libraries(${target} PRIVATE ${VMLAB_UNICORN_ARCHIVE} ${VMLAB_CAPSTONE_ARCHIVE}
                        -lm -lpthread)
  target_link_options(${target} PRIVATE -no-pie -Wl,--as-needed)
endfunction()

# Link `target` (made by vmlab_static_engine) with emu/link/uc_hook_table.c and the --wrap options
# that route Unicorn's code-hook helper and the hook API through it: code hooks on single
# addresses are then answered from a table instead of Unicorn's walk of every code hook (the file
# says when, and why the counts cannot change). Also links emu/link/uc_tlb_page.c, whose wrappers
# of Unicorn's TLB-fill functions let emu/tlb.c flush single pages of Unicorn's TLB instead of all
# of it (and skip the jump-cache clears no code needs), emu/link/uc_mem_cache.c, which answers
# Unicorn's memory-region lookups from a page-indexed cache, and emu/link/uc_fast_ld.c, which
# answers the helpers' loads (iret, segment loads) from the soft TLB. Defines VMLAB_HOOK_TABLE on
# the target when it applies; without the static archives it does nothing.
function(vmlab_hook_table target)
  if(NOT VMLAB_STATIC_ENGINE OR NOT VMLAB_UNICORN_ARCHIVE OR NOT VMLAB_CAPSTONE_ARCHIVE)
    return()
  endif()
  target_sources(${target} PRIVATE ${CMAKE_SOURCE_DIR}/emu/link/uc_hook_table.c
                 ${CMAKE_SOURCE_DIR}/emu/link/uc_tlb_page.c
                 ${CMAKE_SOURCE_DIR}/emu/link/uc_mem_cache.c
                 ${CMAKE_SOURCE_DIR}/emu/link/uc_fast_ld.c)
  target_link_options(${target} PRIVATE
    -Wl,--wrap=helper_uc_tracecode,--wrap=uc_hook_add,--wrap=uc_hook_del
    -Wl,--wrap=uc_emu_start,--wrap=uc_emu_stop,--wrap=uc_close
    -Wl,--wrap=unicorn_fill_tlb_x86_64,--wrap=x86_cpu_tlb_fill_x86_64
    -Wl,--wrap=get_page_addr_code_x86_64,--wrap=tb_flush_jmp_cache_x86_64
    -Wl,--wrap=uc_open,--wrap=uc_mem_map,--wrap=uc_mem_map_ptr,--wrap=uc_mem_unmap
    -Wl,--wrap=uc_mem_protect,--wrap=uc_mmio_map,--wrap=uc_context_save
    -Wl,--wrap=uc_context_restore
    -Wl,--wrap=cpu_ldub_mmuidx_ra_x86_64,--wrap=cpu_lduw_mmuidx_ra_x86_64
    -Wl,--wrap=cpu_ldl_mmuidx_ra_x86_64,--wrap=cpu_ldq_mmuidx_ra_x86_64)
  target_compile_definitions(${target} PRIVATE VMLAB_HOOK_TABLE)
endfunction()
