//! Fuzzes `effect::validate_open_url` on arbitrary links.
//! The properties live in `xmedia::fuzzing`, shared with `tests/fuzz_corpora.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xmedia::fuzzing::Target;

fuzz_target!(|data: &[u8]| Target::OpenUrl.run(data));
