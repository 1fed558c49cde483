# Cross-compiles for 64-bit Raspberry Pi OS and other AArch64 boards (Debian's g++-aarch64-linux-gnu).
# Baseline Armv8-A (Pi 3 and 4); the SDOT kernel file adds +dotprod itself (native/CMakeLists.txt).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
# Not CMAKE_CXX_FLAGS_INIT: cmake-js passes CMAKE_CXX_FLAGS on the command line, which drops it.
add_compile_options(-march=armv8-a)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
