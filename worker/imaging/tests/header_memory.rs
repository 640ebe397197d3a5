//! Found by fuzzing (`fuzz/`, target decode_file, seeded with the corpus's UN_sequence.dcm): a
//! private element of VR UN and undefined length holding nested Implicit VR sequences made
//! dicom-object misread an item tag as a 3.7 GB length and allocate it, for a 700-byte file. The
//! header walk now hands the attribute parser only the elements imaging reads, so such elements
//! are skipped by our walker (which reads them correctly) and never reach dicom-object.
//!
//! Its own test binary, so that the process's peak resident memory belongs to this test alone.

use std::path::Path;
use std::sync::Arc;

use worker_imaging::Image;

fn elem_explicit(out: &mut Vec<u8>, g: u16, e: u16, vr: &[u8; 2], val: &[u8]) {
    out.extend_from_slice(&g.to_le_bytes());
    out.extend_from_slice(&e.to_le_bytes());
    out.extend_from_slice(vr);
    if matches!(vr, b"OB" | b"OW" | b"SQ" | b"UN" | b"UT") {
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(&(val.len() as u32).to_le_bytes());
    } else {
        out.extend_from_slice(&(val.len() as u16).to_le_bytes());
    }
    out.extend_from_slice(val);
}

fn implicit_header(out: &mut Vec<u8>, g: u16, e: u16, len: u32) {
    out.extend_from_slice(&g.to_le_bytes());
    out.extend_from_slice(&e.to_le_bytes());
    out.extend_from_slice(&len.to_le_bytes());
}

fn uid(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    if v.len() % 2 == 1 {
        v.push(0);
    }
    v
}

/// An 8x8 8-bit MONOCHROME2 image in Explicit VR LE whose data set starts with a private UN
/// element of undefined length holding an Implicit VR item with two nested sequences.
fn private_un_sequence_file() -> Vec<u8> {
    const UNDEF: u32 = 0xFFFF_FFFF;
    let mut meta = Vec::new();
    elem_explicit(
        &mut meta,
        0x0002,
        0x0010,
        b"UI",
        &uid("1.2.840.10008.1.2.1"),
    );
    let mut f = vec![0u8; 128];
    f.extend_from_slice(b"DICM");
    elem_explicit(
        &mut f,
        0x0002,
        0x0000,
        b"UL",
        &(meta.len() as u32).to_le_bytes(),
    );
    f.extend_from_slice(&meta);
    // (4453,100C) UN, undefined length: its content is Implicit VR LE.
    f.extend_from_slice(&0x4453u16.to_le_bytes());
    f.extend_from_slice(&0x100Cu16.to_le_bytes());
    f.extend_from_slice(b"UN\0\0");
    f.extend_from_slice(&UNDEF.to_le_bytes());
    implicit_header(&mut f, 0xFFFE, 0xE000, UNDEF);
    implicit_header(&mut f, 0x0008, 0x1115, UNDEF); // Referenced Series Sequence
    implicit_header(&mut f, 0xFFFE, 0xE000, UNDEF);
    implicit_header(&mut f, 0x0008, 0x1199, UNDEF); // Referenced SOP Sequence
    implicit_header(&mut f, 0xFFFE, 0xE000, UNDEF);
    let class = uid("1.2.840.10008.5.1.4.1.1.2");
    implicit_header(&mut f, 0x0008, 0x1150, class.len() as u32);
    f.extend_from_slice(&class);
    let inst = uid("1.2.826.0.1.3680043.2.1143.107.104.103.115.2.4.4.1");
    implicit_header(&mut f, 0x0008, 0x1155, inst.len() as u32);
    f.extend_from_slice(&inst);
    implicit_header(&mut f, 0xFFFE, 0xE00D, 0);
    implicit_header(&mut f, 0xFFFE, 0xE0DD, 0);
    let series = uid("1.2.826.0.1.3680043.2.1143.107.104.103.115.2.4.4.2");
    implicit_header(&mut f, 0x0020, 0x000E, series.len() as u32);
    f.extend_from_slice(&series);
    implicit_header(&mut f, 0xFFFE, 0xE00D, 0);
    implicit_header(&mut f, 0xFFFE, 0xE0DD, 0);
    let study = uid("1.2.826.0.1.3680043.2.1143.107.104.103.115.2.4.4.3");
    implicit_header(&mut f, 0x0020, 0x000D, study.len() as u32);
    f.extend_from_slice(&study);
    implicit_header(&mut f, 0xFFFE, 0xE00D, 0);
    implicit_header(&mut f, 0xFFFE, 0xE0DD, 0);
    // The image.
    elem_explicit(&mut f, 0x0028, 0x0002, b"US", &1u16.to_le_bytes());
    elem_explicit(&mut f, 0x0028, 0x0004, b"CS", b"MONOCHROME2 ");
    elem_explicit(&mut f, 0x0028, 0x0010, b"US", &8u16.to_le_bytes());
    elem_explicit(&mut f, 0x0028, 0x0011, b"US", &8u16.to_le_bytes());
    elem_explicit(&mut f, 0x0028, 0x0100, b"US", &8u16.to_le_bytes());
    elem_explicit(&mut f, 0x0028, 0x0101, b"US", &8u16.to_le_bytes());
    elem_explicit(&mut f, 0x0028, 0x0102, b"US", &7u16.to_le_bytes());
    elem_explicit(&mut f, 0x0028, 0x0103, b"US", &0u16.to_le_bytes());
    let pixels: Vec<u8> = (0..64).collect();
    elem_explicit(&mut f, 0x7FE0, 0x0010, b"OB", &pixels);
    f
}

/// Peak resident set size of this process in kB (Linux), from /proc/self/status.
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_private_un_sequence_neither_fails_the_image_nor_costs_memory() {
    let data = private_un_sequence_file();
    let before = peak_rss_kb();
    let img = Image::from_bytes(Arc::from(data), Path::new("private-un-sequence.dcm"))
        .expect("the private UN element does not concern imaging");
    let frame = img.decode_frame(0).expect("8x8 native frame");
    assert_eq!(frame.samples.to_i64_vec(), (0..64).collect::<Vec<i64>>());
    if let (Some(before), Some(after)) = (before, peak_rss_kb()) {
        assert!(
            after.saturating_sub(before) < 64 * 1024,
            "opening a {}-byte file raised peak memory by {} kB",
            private_un_sequence_file().len(),
            after - before
        );
    }
}
