// Keeps the addon loadable on Raspberry Pi OS bullseye (glibc 2.31, GCC 10's libstdc++) although it is
// built with Debian bookworm's GCC 12 against glibc 2.36. Each definition below is hidden: it satisfies
// the addon's own references, so the dynamic linker never asks the system for the newer symbol.
// cross/check-binary.sh fails the build when a newer symbol creeps back in.
#include <new>

// libstdc++'s headers (GCC 11 and later) read glibc's __libc_single_threaded (glibc 2.32) to skip atomic
// reference counting in single-threaded programs. 0 means "maybe threaded": counts stay atomic, which
// is always correct (and the engine runs threads anyway).
extern "C" {
__attribute__((visibility("hidden"))) char __libc_single_threaded = 0;
}

// GCC 11's allocators call this (GLIBCXX_3.4.29) when an array size overflows; it only throws.
namespace std {
[[noreturn]] __attribute__((visibility("hidden"))) void __throw_bad_array_new_length() { throw std::bad_array_new_length(); }
}  // namespace std
