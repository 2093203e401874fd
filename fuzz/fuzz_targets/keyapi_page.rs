//! Fuzzes KeyAPI usermedia answers (status, headers, body) through `KeyApi::parse_page` and the app's sanitize step.
//! The properties live in `xmedia::fuzzing`, shared with `tests/fuzz_corpora.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xmedia::fuzzing::Target;

fuzz_target!(|data: &[u8]| Target::KeyapiPage.run(data));
