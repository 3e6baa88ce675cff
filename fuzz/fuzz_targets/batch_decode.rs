//! The guests' hand-written command decoder (`zkclob_state::decode`) against borsh's derived one:
//! on any bytes both refuse, or both give the same commands and stop at the same byte.
#![no_main]
use borsh::BorshDeserialize;
use libfuzzer_sys::fuzz_target;
use zkclob_state::decode::decode_commands;
use zkclob_state::Command;

fuzz_target!(|data: &[u8]| {
    let mut a = data;
    let mine = decode_commands(&mut a).map(|v| (v, a.len()));
    let mut b = data;
    let theirs = Vec::<Command>::deserialize_reader(&mut b).map(|v| (v, b.len()));
    match (mine, theirs) {
        (Ok(x), Ok(y)) => assert_eq!(x, y),
        (Err(_), Err(_)) => {}
        (x, y) => panic!("decoders disagree: mine {x:?}, borsh {y:?}"),
    }
});
