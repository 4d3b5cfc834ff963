#pragma once

namespace waggle {

// Probes the kernel, prints what it can do and what each sensor will use. Returns 0 when the
// agent can run (at least one sensor), 1 otherwise.
int run_doctor();

}  // namespace waggle
