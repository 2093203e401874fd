//! Fuzzes `probe` and `decode_to_fit` (with `resize_exact`) under the app's `DecodeLimits`.
//! The properties live in `xmedia::fuzzing`, shared with `tests/fuzz_corpora.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xmedia::fuzzing::Target;

fuzz_target!(|data: &[u8]| Target::ImageDecode.run(data));
