//! The LOBSTER line parsers never panic on any input.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zkclob_book::lobster::{parse_book_row, parse_message};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = parse_message(s);
        let _ = parse_book_row(s);
    }
});
