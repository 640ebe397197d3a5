//! A deflate bomb (a Deflated Explicit VR Little Endian file of a few hundred kilobytes whose data
//! set inflates to 512 MiB) is refused at upload with the limit it passes, through the real
//! binary, without the hub ever holding it: its peak RSS stays far below the inflated size, a
//! deflated file within the limit is still stored and processed, and the hub answers at once.

use std::io::Write;
use std::time::{Duration, Instant};

use e2e::*;
use remotedx_proto::v1 as pb;

/// The hub's budget in this test.
const LIMIT: u64 = 64 << 20;
/// What the hub's peak resident memory must stay under (the bomb inflates to 512 MiB).
const PEAK_RSS_BOUND: u64 = 300 << 20;

/// One explicit VR little endian element with a short (2-byte) length.
fn element(out: &mut Vec<u8>, (group, elem): (u16, u16), vr: &[u8; 2], value: &[u8]) {
    let mut value = value.to_vec();
    if value.len() % 2 == 1 {
        value.push(if vr == b"UI" { 0 } else { b' ' });
    }
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&elem.to_le_bytes());
    out.extend_from_slice(vr);
    out.extend_from_slice(&u16::try_from(value.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&value);
}

/// A CT image of `side`² 16-bit zero pixels in the Deflated Explicit VR Little Endian transfer
/// syntax, written as it is deflated (never held inflated here either).
fn deflated_ct(study: &str, sop: &str, side: u16) -> Vec<u8> {
    const CT: &str = "1.2.840.10008.5.1.4.1.1.2";
    let mut meta = Vec::new();
    element(&mut meta, (0x0002, 0x0002), b"UI", CT.as_bytes());
    element(&mut meta, (0x0002, 0x0003), b"UI", sop.as_bytes());
    element(
        &mut meta,
        (0x0002, 0x0010),
        b"UI",
        b"1.2.840.10008.1.2.1.99",
    );
    element(
        &mut meta,
        (0x0002, 0x0012),
        b"UI",
        b"1.2.826.0.1.3680043.10.1",
    );
    let mut file = vec![0u8; 128];
    file.extend_from_slice(b"DICM");
    element(
        &mut file,
        (0x0002, 0x0000),
        b"UL",
        &(meta.len() as u32).to_le_bytes(),
    );
    file.extend_from_slice(&meta);

    let mut header = Vec::new();
    element(&mut header, (0x0008, 0x0016), b"UI", CT.as_bytes());
    element(&mut header, (0x0008, 0x0018), b"UI", sop.as_bytes());
    element(&mut header, (0x0008, 0x0060), b"CS", b"CT");
    element(&mut header, (0x0010, 0x0020), b"LO", b"INFLATE-1");
    element(&mut header, (0x0020, 0x000D), b"UI", study.as_bytes());
    element(
        &mut header,
        (0x0020, 0x000E),
        b"UI",
        format!("{study}.1").as_bytes(),
    );
    element(&mut header, (0x0028, 0x0002), b"US", &1u16.to_le_bytes());
    element(&mut header, (0x0028, 0x0004), b"CS", b"MONOCHROME2");
    element(&mut header, (0x0028, 0x0010), b"US", &side.to_le_bytes());
    element(&mut header, (0x0028, 0x0011), b"US", &side.to_le_bytes());
    element(&mut header, (0x0028, 0x0100), b"US", &16u16.to_le_bytes());
    element(&mut header, (0x0028, 0x0101), b"US", &16u16.to_le_bytes());
    element(&mut header, (0x0028, 0x0102), b"US", &15u16.to_le_bytes());
    element(&mut header, (0x0028, 0x0103), b"US", &0u16.to_le_bytes());
    // Pixel Data, OW, with a 4-byte length.
    let pixels = u32::from(side) * u32::from(side) * 2;
    header.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'W', 0, 0]);
    header.extend_from_slice(&pixels.to_le_bytes());

    let mut z = flate2::write::DeflateEncoder::new(file, flate2::Compression::best());
    z.write_all(&header).unwrap();
    let zeros = vec![0u8; 1 << 20];
    let mut left = pixels as usize;
    while left > 0 {
        let n = left.min(zeros.len());
        z.write_all(&zeros[..n]).unwrap();
        left -= n;
    }
    z.finish().unwrap()
}

/// Uploads one file; returns the hub's answer for it.
async fn upload(region: &Region, name: &str, bytes: &[u8]) -> pb::upload_response::Msg {
    let mut client =
        pb::upload_service_client::UploadServiceClient::new(region.hub.channel().await);
    let messages = tokio_stream::iter(file_messages(name, bytes));
    let mut answers = client
        .upload(authed(messages, region.token("clinic_a")))
        .await
        .expect("upload answered")
        .into_inner();
    answers
        .message()
        .await
        .expect("upload stream")
        .and_then(|m| m.msg)
        .expect("an answer for the file")
}

/// The hub's peak resident set so far (VmHWM), in bytes.
fn peak_rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/<pid>/status");
    kib << 10
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deflate_bomb_is_refused_at_upload_and_never_held() {
    let limit = LIMIT.to_string();
    let region = Region::start(&[("REMOTEDX_HUB_INGEST__MAX_INFLATED_BYTES", &limit)]);
    let bomb = deflated_ct(
        "1.2.826.0.1.3680043.10.7.1",
        "1.2.826.0.1.3680043.10.7.1.1",
        16384,
    );
    assert!(
        bomb.len() < 2 << 20,
        "the bomb is small: {} bytes",
        bomb.len()
    );

    match upload(&region, "bomb.dcm", &bomb).await {
        pb::upload_response::Msg::Rejected(r) => {
            assert_eq!(r.reason(), pb::RejectReason::TooLarge, "{}", r.message);
            assert!(r.message.starts_with("bomb.dcm: "), "{}", r.message);
            assert!(r.message.contains(&limit), "names the limit: {}", r.message);
            assert!(
                r.message.contains("ingest.max_inflated_bytes"),
                "{}",
                r.message
            );
        }
        other => panic!("the deflate bomb was not refused: {other:?}"),
    }
    let peak = peak_rss(region.hub.pid());
    assert!(
        peak < PEAK_RSS_BOUND,
        "the hub's peak RSS reached {} MiB refusing a bomb",
        peak >> 20
    );

    // A deflated file within the limit is stored as before.
    let small = deflated_ct(
        "1.2.826.0.1.3680043.10.7.2",
        "1.2.826.0.1.3680043.10.7.2.1",
        512,
    );
    match upload(&region, "small.dcm", &small).await {
        pb::upload_response::Msg::Accepted(a) => assert!(a.case_id > 0),
        other => panic!("a deflated file within the limit was refused: {other:?}"),
    }

    let mut account =
        pb::account_service_client::AccountServiceClient::new(region.hub.channel().await);
    let asked = Instant::now();
    account
        .who_am_i(authed(pb::WhoAmIRequest {}, region.token("specialist")))
        .await
        .expect("whoami answers");
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "whoami took {:?}",
        asked.elapsed()
    );
}
