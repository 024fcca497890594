# fuzz.cmake — the libFuzzer build (-DVMLAB_FUZZ=ON, with CC=clang; fuzz/CMakeLists.txt builds
# the targets).
#
# The fuzz targets link vmlab_core, so the whole host build is compiled with libFuzzer's coverage
# instrumentation (-fsanitize=fuzzer-no-link) and with ASan + UBSan, recovery off: a fuzzer finds
# what the sanitizers report. Only the fuzz targets link libFuzzer itself (-fsanitize=fuzzer). The
# guests keep their own gcc -m32 command lines (cmake/guest.cmake). Use a build directory of its
# own (README.md, "Fuzzing"): CC=clang cmake -S . -B /work/build-fuzz -DVMLAB_FUZZ=ON.
# clang and its runtime: VMLAB_FUZZ=1 scripts/install-deps.sh.
option(VMLAB_FUZZ "Build the libFuzzer targets in fuzz/ (needs clang)" OFF)
if(VMLAB_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "VMLAB_FUZZ needs clang (libFuzzer): configure a new build directory with "
            "CC=clang cmake -DVMLAB_FUZZ=ON ... (VMLAB_FUZZ=1 scripts/install-deps.sh installs it)")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
                      -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
