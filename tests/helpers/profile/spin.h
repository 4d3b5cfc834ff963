/* Burns CPU in the calling function's own frame: the loop is inline, so a sample lands in
 * the function that called it. */
#ifndef WAGGLE_PROFILE_SPIN_H
#define WAGGLE_PROFILE_SPIN_H
static inline double spin_here(long iterations) {
  volatile double x = 1.0;
  for (long i = 0; i < iterations; i++) x = x * 1.0000001 + 1e-9;
  return x;
}
#endif
