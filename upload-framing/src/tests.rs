//! The framing rules, message by message.

use super::*;

fn start(file_name: &str, size: u64) -> Message<'_> {
    Message::Start { file_name, size }
}

fn refused(effects: &[Effect<'_>]) -> Vec<(Violation, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Discard(r) | Effect::Refuse(r) => Some((r.violation, r.message.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_file_is_opened_written_and_finished_when_its_bytes_match() {
    let mut f = Framing::new(100);
    assert_eq!(
        f.on(start("ct/1.dcm", 5)),
        vec![Effect::Open {
            name: "ct/1.dcm".into(),
            size: 5
        }]
    );
    assert_eq!(f.on(Message::Chunk(b"abc")), vec![Effect::Write(b"abc")]);
    assert_eq!(f.on(Message::Chunk(b"de")), vec![Effect::Write(b"de")]);
    assert_eq!(
        f.on(Message::End { sha256: "" }),
        vec![Effect::Finish {
            sha256: None,
            size: 5
        }]
    );
    assert!(!f.is_open());
    assert_eq!(f.close(), None);
}

#[test]
fn a_file_sending_more_than_it_announced_is_refused_at_the_first_byte_too_many() {
    let mut f = Framing::new(1 << 30);
    f.on(start("small.dcm", 4));
    assert_eq!(f.on(Message::Chunk(b"abcd")), vec![Effect::Write(b"abcd")]);
    let effects = f.on(Message::Chunk(b"e"));
    assert!(matches!(effects[..], [Effect::Discard(_)]));
    assert_eq!(
        refused(&effects),
        vec![(
            Violation::SizeMismatch,
            "small.dcm: more than the 4 bytes it announced arrived".into()
        )]
    );
    // The rest of it is ignored, and its end too.
    assert!(f.on(Message::Chunk(&[0; 1000])).is_empty());
    assert!(f.on(Message::End { sha256: "" }).is_empty());
}

#[test]
fn a_file_ending_short_is_refused_with_both_sizes() {
    let mut f = Framing::new(100);
    f.on(start("short.dcm", 10));
    f.on(Message::Chunk(b"abc"));
    assert_eq!(
        refused(&f.on(Message::End { sha256: "ab" })),
        vec![(
            Violation::SizeMismatch,
            "short.dcm: announced 10 bytes but 3 arrived".into()
        )]
    );
}

#[test]
fn a_file_announcing_more_than_the_hub_accepts_is_refused_before_it_is_opened() {
    let mut f = Framing::new(100);
    let effects = f.on(start("", 101));
    assert_eq!(
        refused(&effects),
        vec![(
            Violation::TooLarge,
            "(unnamed file): 101 bytes is more than the hub accepts (100 bytes)".into()
        )]
    );
    assert!(!f.is_open());
    assert!(f.on(Message::Chunk(b"x")).is_empty());
}

#[test]
fn messages_out_of_order_are_refused_and_name_the_file() {
    let mut f = Framing::new(100);
    assert_eq!(
        refused(&f.on(Message::Chunk(b"x")))[0].1,
        "file data arrived before any file started"
    );
    f.on(Message::End { sha256: "" });
    assert_eq!(
        refused(&f.on(Message::End { sha256: "" }))[0].1,
        "a file ended that never started"
    );
    f.on(start("a.dcm", 1));
    let effects = f.on(start("b.dcm", 1));
    assert!(matches!(
        &effects[..],
        [Effect::Discard(r), Effect::Open { name, .. }] if r.file_name == "a.dcm" && name == "b.dcm"
    ));
    assert_eq!(refused(&f.on(Message::Options))[0].0, Violation::Protocol);
    let Some(Effect::Discard(r)) = f.close() else {
        panic!("an open file is discarded at the end of the stream")
    };
    assert_eq!(r.message, "b.dcm: the upload ended before the file did");
}

#[test]
fn a_failed_file_skips_its_chunks_and_the_next_file_opens() {
    let mut f = Framing::new(100);
    f.on(start("a.dcm", 3));
    f.failed();
    assert!(f.on(Message::Chunk(b"abc")).is_empty());
    assert!(f.on(Message::End { sha256: "" }).is_empty());
    assert!(matches!(
        &f.on(start("b.dcm", 0))[..],
        [Effect::Open { .. }]
    ));
    assert!(matches!(
        &f.on(Message::End { sha256: "" })[..],
        [Effect::Finish { size: 0, .. }]
    ));
}
