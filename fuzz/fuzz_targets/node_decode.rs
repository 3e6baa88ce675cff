//! The node's decoders on arbitrary bytes: an API command body (raw and WebSocket frame), a
//! journal entry, and a state snapshot (decoded, then restored). None may panic; whatever decodes
//! must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use zkclob_node::api::decode_command;
use zkclob_node::entry::Entry;
use zkclob_state::{ExchangeState, StateSnapshot};

fuzz_target!(|data: &[u8]| {
    if let Ok(c) = decode_command(data) {
        assert_eq!(borsh::to_vec(&c).unwrap(), data);
    }
    if let Ok(e) = Entry::decode(data) {
        assert_eq!(e.encode(), data);
    }
    if let Ok(s) = borsh::from_slice::<StateSnapshot>(data) {
        let _ = ExchangeState::restore(&s);
    }
});
