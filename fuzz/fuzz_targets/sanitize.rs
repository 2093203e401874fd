//! Fuzzes `sanitize::text` and `sanitize::line` on arbitrary text.
//! The properties live in `xmedia::fuzzing`, shared with `tests/fuzz_corpora.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xmedia::fuzzing::Target;

fuzz_target!(|data: &[u8]| Target::Sanitize.run(data));
