//! Crafted WFDB headers from issue 12 (and their relatives): each is refused with an error that
//! names the header and the line, or read within its bytes, and none panics or allocates what
//! its signal file does not hold.

use std::path::Path;
use std::time::Instant;

use worker_ecg::EcgError;
use worker_ecg::wfdb::{MAX_SIGNALS, parse_header, record_from_parts, signal_files};

/// Why `header` (read as `x.hea`) is refused; what was accepted, shortly, when it is not.
fn refused(header: &str) -> String {
    match parse_header(header, Path::new("x.hea")) {
        Ok(h) => panic!(
            "accepted: {} signals, first {:?}",
            h.signals.len(),
            h.signals.first()
        ),
        Err(e) => e.to_string(),
    }
}

/// Reads a record from `header` with every signal file holding `bytes`.
fn read(header: &str, bytes: &[u8]) -> Result<worker_ecg::Record, EcgError> {
    record_from_parts(header, Path::new("up/x.hea"), |_| Ok(bytes.to_vec()))
}

/// Issue 12: an 80-byte header whose sample count times the frame size wraps `usize` (in a
/// release build without overflow checks) passed the size check, and a 2^63-sample
/// `Vec::with_capacity` aborted the hub.
#[test]
fn sample_count_that_overflows_is_refused_before_allocating() {
    let header = "x 2 360 9223372036854775808\nx.dat 16\nx.dat 16\n";
    assert!(header.len() <= 80);
    let e = read(header, &[0; 64]).unwrap_err().to_string();
    assert!(
        e.contains("x.dat") && e.contains("9223372036854775808 frames"),
        "{e}"
    );
    // The largest count that does not overflow is refused the same way: more than the file holds.
    let e = read("x 1 360 18446744073709551615\nx.dat 16\n", &[0; 64])
        .unwrap_err()
        .to_string();
    assert!(e.contains("holds 32 samples"), "{e}");
}

#[test]
fn absurd_frames_skews_offsets_and_baselines_do_not_panic() {
    let e = parse_header("x 1 360 10\nx.dat 16x99999999999\n", Path::new("x.hea")).unwrap_err();
    assert!(e.to_string().contains("x.hea, line 2"), "{e}");
    // Skew and byte offset beyond the file: read as far as the file goes, no panic.
    let r = read(
        "x 1 360 4\nx.dat 16:18446744073709551615+18446744073709551615\n",
        &[0; 8],
    );
    assert!(r.is_err(), "an offset past the end leaves no samples");
    let r = read("x 1 360 4\nx.dat 16:18446744073709551615\n", &[0; 8]).unwrap();
    assert_eq!(r.digital[0].len(), 4);
    // A baseline of i32::MIN: (sample - baseline) needs more than 32 bits.
    let r = read(
        "x 1 360 4\nx.dat 16 200(-2147483648)/mV\n",
        &[0xff, 0x7f].repeat(4),
    )
    .unwrap();
    let uv = r.to_ecg().leads[0].samples_uv[0];
    assert!(
        (f64::from(uv) - (32767.0 + 2147483648.0) * 5.0).abs() < 1e6,
        "{uv}"
    );
    assert!(worker_ecg::encode::from_wfdb(&r).is_ok());
}

/// Issue 12: a 480 KB header naming 60,000 signal files cost ~15 s of CPU (a quadratic search
/// for repeated names) on the hub's async threads. Such a header is refused at once; the
/// largest header accepted is read in linear time.
#[test]
fn header_naming_sixty_thousand_files_is_refused_at_once() {
    let mut h = String::from("x 60000 360 1\n");
    for i in 0..60_000 {
        h.push_str(&format!("f{i}.dat 16\n"));
    }
    assert!(h.len() > 480_000);
    let t = Instant::now();
    let e = refused(&h);
    assert!(
        e.contains("x.hea, line 1") && e.contains(&format!("at most {MAX_SIGNALS}")),
        "{e}"
    );
    let mut most = format!("x {MAX_SIGNALS} 360 1\n");
    for i in 0..MAX_SIGNALS {
        most.push_str(&format!("f{i}.dat 16\n"));
    }
    let header = parse_header(&most, Path::new("x.hea")).unwrap();
    assert_eq!(signal_files(&header).len(), MAX_SIGNALS);
    let took = t.elapsed();
    assert!(took.as_millis() < 500, "{took:?}");
}

#[test]
fn overlong_header_line_is_refused_naming_it() {
    let h = format!("x 1 360\nx.dat 16 200 12 0 0 0 0 {}\n", "A".repeat(5000));
    let e = refused(&h);
    assert!(
        e.contains("x.hea, line 2") && e.contains("bytes on one line"),
        "{e}"
    );
}

/// Issue 13 item 9: a header may not name signal files outside its folder.
#[test]
fn signal_files_outside_the_header_folder_are_refused() {
    for name in [
        "../../etc/passwd",
        "/etc/passwd",
        "a/../../b.dat",
        "..\\..\\x.dat",
        "C:\\x.dat",
    ] {
        let h = format!("x 1 360\n{name} 16\n");
        let e = refused(&h);
        assert!(
            e.contains("x.hea, line 2") && e.contains("outside the header's folder"),
            "{name}: {e}"
        );
    }
    assert!(parse_header("x 1 360\nsub/x.dat 16\n", Path::new("x.hea")).is_ok());
}
