//! Every decoder either rejects the bytes or accepts exactly their canonical encoding.
#![no_main]
use libfuzzer_sys::fuzz_target;
use zkclob_book::NewOrder;
use zkclob_core::codec::{decode, encode};
use zkclob_core::{Fx, MarketSpec};

fuzz_target!(|data: &[u8]| {
    if let Ok(v) = decode::<MarketSpec>(data, 1024) {
        assert_eq!(encode(&v), data);
        let _ = v.validate();
    }
    if let Ok(v) = decode::<NewOrder>(data, 1024) {
        assert_eq!(encode(&v), data);
    }
    if let Ok(v) = decode::<Fx>(data, 1024) {
        assert_eq!(encode(&v), data);
    }
});
