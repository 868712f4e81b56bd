// Import first in tests that render with Ink's real renderer: Ink reads CI at import time
// (is-in-ci) and then prints only the final frame. CI sets CI=true, but these tests emulate a
// person's terminal, which has no CI variable.
delete process.env.CI;
delete process.env.CONTINUOUS_INTEGRATION;
export {};
