# Cross-compiles for 32-bit Raspberry Pi OS on a Pi 2 or later (Debian's g++-arm-linux-gnueabihf):
# Armv7-A, hard float. The NEON kernel file adds -mfpu=neon-vfpv4 itself (native/CMakeLists.txt), so the
# rest of the engine still runs, with the scalar kernels, on a CPU without NEON.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_CXX_COMPILER arm-linux-gnueabihf-g++)
# Not CMAKE_CXX_FLAGS_INIT: cmake-js passes CMAKE_CXX_FLAGS on the command line, which drops it.
add_compile_options(-march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard)
set(CMAKE_FIND_ROOT_PATH /usr/arm-linux-gnueabihf)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
