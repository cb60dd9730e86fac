#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    synack_fuzz::wire6::fuzz(data);
});
