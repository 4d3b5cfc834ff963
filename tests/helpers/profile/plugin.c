/* The dlopen'ed part of the profiler's test program: a leaf in a shared library that is not
 * mapped when the program starts. */
#include "spin.h"

__attribute__((noinline)) double plugin_leaf(long iterations) { return spin_here(iterations); }

__attribute__((noinline)) double plugin_entry(long iterations) { return plugin_leaf(iterations) + 1; }
