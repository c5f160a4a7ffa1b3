//! The store's record decoders on any bytes: no panic, and no allocation a damaged length asks for
//! (libFuzzer's `-malloc_limit_mb` turns one into a reported crash).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sg::store::decode_any(data);
});
