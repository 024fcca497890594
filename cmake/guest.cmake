# guest.cmake — build freestanding i386 Multiboot ELF guests with the host compiler.
#
# vmlab_guest(NAME SOURCES... [LINKER_SCRIPT file] [CFLAGS ...])
#   builds ${NAME}.elf in the current binary dir from C and assembler (.S) sources with
#   gcc -m32 -ffreestanding -nostdlib -fno-pic -fno-stack-protector, linked with the given script
#   (default: a flat 1 MiB link). The target is named guest_${NAME}; its path is in the
#   GUEST_${NAME}_ELF cache-less variable of the calling scope and in the target property
#   GUEST_ELF.
set(VMLAB_GUEST_CFLAGS -m32 -march=i686 -ffreestanding -fno-pic -fno-pie -fno-stack-protector
    -fno-asynchronous-unwind-tables -fno-builtin -nostdlib -nostdinc -O2 -g -Wall -Wextra
    -Wno-unused-parameter -mno-sse -mno-mmx -mno-80387
    # __FILE__ (the kernel's assertions) names a source relative to the checkout
    # (guests/kernel/fs.c): an absolute path would make what the image loads depend on where
    # vmlab was cloned (tests/integration/guest_paths.sh). The debug info keeps absolute paths;
    # the kernel embeds its user programs without theirs (guests/CMakeLists.txt).
    -fmacro-prefix-map=${CMAKE_SOURCE_DIR}/=)
function(vmlab_guest name)
  cmake_parse_arguments(G "" "LINKER_SCRIPT" "SOURCES;CFLAGS;INCLUDES" ${ARGN})
  if(NOT G_LINKER_SCRIPT)
    set(G_LINKER_SCRIPT ${CMAKE_SOURCE_DIR}/cmake/guest-flat.ld)
  endif()
  set(objs)
  foreach(src ${G_SOURCES})
    get_filename_component(abs ${src} ABSOLUTE)
    string(MAKE_C_IDENTIFIER "${src}" oname)
    set(obj ${CMAKE_CURRENT_BINARY_DIR}/${name}.d/${oname}.o)
    set(incs)
    foreach(i ${G_INCLUDES})
      get_filename_component(ai ${i} ABSOLUTE)
      list(APPEND incs -I${ai})
    endforeach()
    add_custom_command(OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/${name}.d
      COMMAND gcc ${VMLAB_GUEST_CFLAGS} ${G_CFLAGS} ${incs} -MD -MF ${obj}.dep -c ${abs} -o ${obj}
      DEPENDS ${abs} DEPFILE ${obj}.dep
      COMMENT "guest ${name}: ${src}" VERBATIM)
    list(APPEND objs ${obj})
  endforeach()
  set(elf ${CMAKE_CURRENT_BINARY_DIR}/${name}.elf)
  add_custom_command(OUTPUT ${elf}
    COMMAND gcc -m32 -nostdlib -static -no-pie -Wl,--build-id=none -Wl,-n -T ${G_LINKER_SCRIPT}
            ${objs} -lgcc -o ${elf}
    DEPENDS ${objs} ${G_LINKER_SCRIPT}
    COMMENT "guest ${name}: link" VERBATIM)
  add_custom_target(guest_${name} ALL DEPENDS ${elf})
  set_target_properties(guest_${name} PROPERTIES GUEST_ELF ${elf})
  set(GUEST_${name}_ELF ${elf} PARENT_SCOPE)
endfunction()
