//! WFDB (PhysioNet) records: the `.hea` header, signal formats 16, 61, 80, 160 and 212
//! (with multi-sample frames, skew and byte offsets), and MIT-format annotation files.
//!
//! The header grammar follows the WFDB `header(5)` manual page: a record line
//! `name[/segments] nsig [fs[/counterfreq[(base)]] [nsamp [time [date]]]]`, then one line per
//! signal `file format[xspf][:skew][+offset] [gain[(baseline)][/units] [adcres [adczero
//! [initval [checksum [blocksize [description]]]]]]]`. Comment lines (`#`) and blank lines may
//! appear anywhere.
//!
//! Headers come from uploads, so every count and size in one is checked before use: at most
//! [`MAX_SIGNALS`] signals, [`MAX_LINE_BYTES`] per line and [`MAX_SAMPLES_PER_FRAME`] samples per
//! frame, products computed with checked arithmetic, and nothing allocated beyond what the
//! signal file's bytes hold. Signal file names may not leave the header's folder. Parsing is
//! linear in the header's size.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use crate::error::EcgError;
use crate::leads::{display_name, is_ecg};
use crate::units::Unit;
use crate::{Ecg, Lead, OtherChannel, Recording};

mod annotations;
pub use annotations::{
    Annotation, Wave, WaveKind, is_beat_code, mnemonic, parse_annotations, read_annotations, waves,
};

/// Most signals a header may declare (real records have up to a few dozen).
pub const MAX_SIGNALS: usize = 1024;
/// Longest header line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 4096;
/// Most samples of one signal per frame (the `x` suffix; real records use up to 16 or so).
pub const MAX_SAMPLES_PER_FRAME: usize = 1024;

/// One signal line of a WFDB header.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalSpec {
    /// Signal file name, relative to the header's directory.
    pub file_name: String,
    /// Storage format (16, 61, 80, 160, 212).
    pub format: u16,
    /// Samples of this signal per frame (the `x` suffix; 1 when absent).
    pub samples_per_frame: usize,
    /// Skew in samples (the `:` suffix).
    pub skew: usize,
    /// Bytes to skip at the start of the signal file (the `+` suffix).
    pub byte_offset: u64,
    /// ADC units per physical unit (200 when the header gives 0 or nothing).
    pub gain: f64,
    /// Digital value that corresponds to 0 physical units.
    pub baseline: i32,
    /// Physical units as the header writes them (`mV` when it writes none); see
    /// [`SignalSpec::unit`].
    pub units: String,
    /// ADC resolution in bits.
    pub adc_resolution: u32,
    /// ADC output for 0 V input.
    pub adc_zero: i32,
    /// First sample value, as stated (used to check decoding).
    pub initial_value: Option<i32>,
    /// 16-bit checksum of all samples, as stated.
    pub checksum: Option<i32>,
    /// Signal name (e.g. `MLII`, `V5`, `ii`).
    pub description: String,
}

impl SignalSpec {
    /// The signal's unit.
    pub fn unit(&self) -> Unit {
        Unit::from_wfdb(&self.units)
    }

    /// Whether the signal is an ECG lead (by its name and unit, [`is_ecg`]).
    pub fn is_ecg(&self) -> bool {
        is_ecg(&self.description, &self.unit())
    }
}

/// A parsed WFDB header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// Record name.
    pub record: String,
    /// Frame frequency in Hz.
    pub fs: f64,
    /// Frames per signal, when stated.
    pub n_frames: Option<usize>,
    /// The signals, in header order.
    pub signals: Vec<SignalSpec>,
    /// The comment lines, without the leading `#`.
    pub comments: Vec<String>,
    /// Base time of the first sample as DICOM TM (`HHMMSS`), when the record line gives one.
    pub base_time: Option<String>,
    /// Base date as DICOM DA (`YYYYMMDD`), when the record line gives one.
    pub base_date: Option<String>,
}

/// A WFDB record: its header and each signal's digital samples.
#[derive(Debug, Clone)]
pub struct Record {
    /// Where the header was read from.
    pub header_path: PathBuf,
    /// The header.
    pub header: Header,
    /// Digital (ADC) samples per signal; signal `i` has `n_frames * samples_per_frame[i]`
    /// samples at `fs * samples_per_frame[i]` Hz.
    pub digital: Vec<Vec<i32>>,
}

impl Record {
    /// Sampling rate of signal `i` in Hz.
    pub fn fs_of(&self, i: usize) -> f64 {
        self.header.fs * self.header.signals[i].samples_per_frame as f64
    }

    /// Signal `i` in its own unit (`(digital - baseline) / gain`).
    pub fn physical(&self, i: usize) -> Vec<f64> {
        let s = &self.header.signals[i];
        self.digital[i]
            .iter()
            .map(|&d| (i64::from(d) - i64::from(s.baseline)) as f64 / s.gain)
            .collect()
    }

    /// Signal `i` in microvolts when its unit is a voltage, else in its own unit.
    pub fn microvolts(&self, i: usize) -> Vec<f32> {
        let k = self.header.signals[i].unit().microvolts().unwrap_or(1.0);
        self.physical(i).iter().map(|&v| (v * k) as f32).collect()
    }

    /// Samples per frame of the ECG leads that make up [`Record::to_ecg`]: the rate most ECG
    /// leads share (the faster one on a tie); `None` when no signal is an ECG lead.
    fn ecg_samples_per_frame(&self) -> Option<usize> {
        let mut counts: BTreeMap<usize, usize> = BTreeMap::new();
        for s in self.header.signals.iter().filter(|s| s.is_ecg()) {
            *counts.entry(s.samples_per_frame).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by_key(|&(spf, n)| (n, spf))
            .map(|(spf, _)| spf)
    }

    /// Indices of the signals in [`Record::to_ecg`], in header order.
    pub fn ecg_signals(&self) -> Vec<usize> {
        let spf = self.ecg_samples_per_frame();
        (0..self.header.signals.len())
            .filter(|&i| {
                let s = &self.header.signals[i];
                s.is_ecg() && Some(s.samples_per_frame) == spf
            })
            .collect()
    }

    /// The record's ECG leads as an [`Ecg`] (named by [`display_name`], in µV, at their own
    /// rate: MIMIC's MCL1 at 4 samples per frame is at 500 Hz). Channels that are not ECG
    /// leads (ABP, RESP, PLETH) are never in it; see [`Record::to_recording`]. Empty when
    /// the record holds no ECG lead.
    pub fn to_ecg(&self) -> Ecg {
        let idx = self.ecg_signals();
        Ecg {
            fs: idx.first().map_or(self.header.fs, |&i| self.fs_of(i)),
            leads: idx
                .iter()
                .map(|&i| Lead {
                    name: display_name(&self.header.signals[i].description),
                    samples_uv: self.microvolts(i),
                })
                .collect(),
            device: None,
        }
    }

    /// The whole record: [`Record::to_ecg`] and every other signal, in its own unit.
    pub fn to_recording(&self) -> Recording {
        let ecg_idx = self.ecg_signals();
        let others = (0..self.header.signals.len())
            .filter(|i| !ecg_idx.contains(i))
            .map(|i| {
                let s = &self.header.signals[i];
                OtherChannel {
                    name: s.description.trim().to_owned(),
                    unit: s.unit(),
                    fs: self.fs_of(i),
                    samples: self.microvolts(i),
                }
            })
            .collect();
        Recording {
            ecg: self.to_ecg(),
            others,
        }
    }
}

/// Parses a WFDB header file's text. `path` is only used in error messages.
pub fn parse_header(text: &str, path: &Path) -> Result<Header, EcgError> {
    let err = |line: usize, why: String| EcgError::Header {
        path: path.to_path_buf(),
        line,
        why,
    };
    let mut comments = Vec::new();
    let mut lines = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.len() > MAX_LINE_BYTES {
            return Err(err(
                i + 1,
                format!("{} bytes on one line (at most {MAX_LINE_BYTES})", l.len()),
            ));
        }
        let t = l.trim();
        if let Some(c) = t.strip_prefix('#') {
            comments.push(c.trim().to_string());
        } else if !t.is_empty() {
            lines.push((i + 1, t));
        }
    }
    let &(rec_line, rec) = lines
        .first()
        .ok_or_else(|| err(1, "no record line".into()))?;
    let f: Vec<&str> = rec.split_whitespace().collect();
    let record = f[0].to_string();
    if record.contains('/') {
        return Err(err(
            rec_line,
            "multi-segment records are not supported".into(),
        ));
    }
    let nsig: usize = f
        .get(1)
        .ok_or_else(|| err(rec_line, "number of signals missing".into()))?
        .parse()
        .map_err(|e| err(rec_line, format!("number of signals: {e}")))?;
    if nsig > MAX_SIGNALS {
        return Err(err(
            rec_line,
            format!("{nsig} signals (at most {MAX_SIGNALS} are accepted)"),
        ));
    }
    let fs = match f.get(2) {
        Some(s) => {
            let num = s.split(['/', '(']).next().unwrap_or(s);
            num.parse::<f64>()
                .map_err(|e| err(rec_line, format!("sampling frequency {s:?}: {e}")))?
        }
        None => 250.0,
    };
    if !(fs > 0.0 && fs.is_finite()) {
        return Err(err(
            rec_line,
            format!("sampling frequency {fs} is not positive"),
        ));
    }
    let n_frames = match f.get(3) {
        Some(s) => Some(
            s.parse::<usize>()
                .map_err(|e| err(rec_line, format!("number of samples {s:?}: {e}")))?,
        ),
        None => None,
    };
    if lines.len() - 1 < nsig {
        return Err(err(
            rec_line,
            format!(
                "{nsig} signals announced but {} signal lines found",
                lines.len() - 1
            ),
        ));
    }
    let signals = lines[1..=nsig]
        .iter()
        .map(|&(n, l)| parse_signal_line(l).map_err(|why| err(n, why)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Header {
        record,
        fs,
        n_frames,
        signals,
        comments,
        base_time: f.get(4).and_then(|t| dicom_time(t)),
        base_date: f.get(5).and_then(|d| dicom_date(d)),
    })
}

/// WFDB base time `HH:MM:SS[.sss]` (or `MM:SS`) as DICOM `HHMMSS`; `None` when malformed.
fn dicom_time(t: &str) -> Option<String> {
    let whole = t.split('.').next()?;
    let parts: Vec<u32> = whole
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let (h, m, s) = match parts[..] {
        [h, m, s] => (h, m, s),
        [m, s] => (0, m, s),
        _ => return None,
    };
    (h < 24 && m < 60 && s < 60).then(|| format!("{h:02}{m:02}{s:02}"))
}

/// WFDB base date `DD/MM/YYYY` as DICOM `YYYYMMDD`; `None` when malformed.
fn dicom_date(d: &str) -> Option<String> {
    let parts: Vec<u32> = d
        .split('/')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [day, month, year] = parts[..] else {
        return None;
    };
    ((1..=31).contains(&day) && (1..=12).contains(&month) && year >= 1800)
        .then(|| format!("{year:04}{month:02}{day:02}"))
}

fn parse_signal_line(line: &str) -> Result<SignalSpec, String> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let file_name = f[0].to_string();
    check_file_name(&file_name)?;
    let fmt = f.get(1).ok_or("format missing")?;
    let (fmt, byte_offset) = split_num(fmt, '+')?;
    let (fmt, skew) = split_num(fmt, ':')?;
    let (fmt, spf) = split_num(fmt, 'x')?;
    let format: u16 = fmt.parse().map_err(|e| format!("format {fmt:?}: {e}"))?;
    let samples_per_frame = usize::try_from(spf.unwrap_or(1).max(1)).unwrap_or(usize::MAX);
    if samples_per_frame > MAX_SAMPLES_PER_FRAME {
        return Err(format!(
            "{samples_per_frame} samples per frame (at most {MAX_SAMPLES_PER_FRAME})"
        ));
    }
    let num = |i: usize, what: &str| -> Result<Option<i64>, String> {
        f.get(i)
            .map(|s| s.parse::<i64>().map_err(|e| format!("{what} {s:?}: {e}")))
            .transpose()
    };
    let adc_resolution = num(3, "ADC resolution")?.unwrap_or(12) as u32;
    let adc_zero = num(4, "ADC zero")?.unwrap_or(0) as i32;
    let (gain, baseline, units) = parse_gain(f.get(2).copied().unwrap_or("0"), adc_zero)?;
    Ok(SignalSpec {
        file_name,
        format,
        samples_per_frame,
        skew: usize::try_from(skew.unwrap_or(0)).unwrap_or(usize::MAX),
        byte_offset: byte_offset.unwrap_or(0),
        gain,
        baseline,
        units,
        adc_resolution,
        adc_zero,
        initial_value: num(5, "initial value")?.map(|v| v as i32),
        checksum: num(6, "checksum")?.map(|v| v as i32),
        description: f.get(8..).map(|d| d.join(" ")).unwrap_or_default(),
    })
}

/// Refuses a signal file name that leaves the header's folder: absolute (`/etc/passwd`,
/// `C:\\x`), or with a `..` component.
pub fn check_file_name(name: &str) -> Result<(), String> {
    let n = name.replace('\\', "/");
    let drive = n.len() >= 2 && n.as_bytes()[1] == b':';
    if n.starts_with('/') || drive || n.split('/').any(|c| c == "..") || n.contains('\0') {
        return Err(format!(
            "signal file {name:?} is outside the header's folder (absolute or with ..): \
             a record's signal files must sit beside its header"
        ));
    }
    Ok(())
}

/// Splits `212x4` at `x` into (`212`, Some(4)).
fn split_num(s: &str, sep: char) -> Result<(&str, Option<u64>), String> {
    match s.split_once(sep) {
        Some((a, b)) => Ok((a, Some(b.parse().map_err(|e| format!("{sep}{b:?}: {e}"))?))),
        None => Ok((s, None)),
    }
}

/// `gain[(baseline)][/units]`; gain 0 means the WFDB default of 200 ADC units per mV.
fn parse_gain(s: &str, adc_zero: i32) -> Result<(f64, i32, String), String> {
    let (g, units) = s.split_once('/').unwrap_or((s, "mV"));
    let (g, baseline) = match g.split_once('(') {
        Some((g, b)) => {
            let b = b.trim_end_matches(')');
            (
                g,
                b.parse::<i32>()
                    .map_err(|e| format!("baseline {b:?}: {e}"))?,
            )
        }
        None => (g, adc_zero),
    };
    let gain: f64 = g.parse().map_err(|e| format!("gain {g:?}: {e}"))?;
    let gain = if gain == 0.0 { 200.0 } else { gain };
    Ok((gain, baseline, units.to_string()))
}

/// Reads a WFDB record: the header at `header_path` and the signal files it names (looked
/// up in the header's directory).
pub fn read_wfdb(header_path: &Path) -> Result<Record, EcgError> {
    let text = std::fs::read_to_string(header_path).map_err(|source| EcgError::Io {
        path: header_path.to_path_buf(),
        source,
    })?;
    let dir = header_path.parent().unwrap_or(Path::new("."));
    record_from_parts(&text, header_path, |name| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|source| EcgError::Io { path, source })
    })
}

/// Builds a WFDB record from a header's `text` and a `signal_file` loader that returns the bytes
/// of each signal file the header names (by the name written in the header). `header_path` is
/// used in messages and as the record's [`Record::header_path`]; nothing is read from it. This is
/// how records that arrive as separate uploads are read without touching the file system.
pub fn record_from_parts(
    text: &str,
    header_path: &Path,
    mut signal_file: impl FnMut(&str) -> Result<Vec<u8>, EcgError>,
) -> Result<Record, EcgError> {
    let header = parse_header(text, header_path)?;
    let dir = header_path.parent().unwrap_or(Path::new("."));
    let mut digital = vec![Vec::new(); header.signals.len()];
    // Signals sharing a file are interleaved frame by frame, in header order.
    let mut files: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, s) in header.signals.iter().enumerate() {
        files.entry(s.file_name.as_str()).or_default().push(i);
    }
    for (name, idx) in files {
        let bytes = signal_file(name)?;
        let per_signal = decode_signal_file(&bytes, &dir.join(name), &header, &idx)?;
        for (i, v) in idx.into_iter().zip(per_signal) {
            digital[i] = v;
        }
    }
    Ok(Record {
        header_path: header_path.to_path_buf(),
        header,
        digital,
    })
}

/// The signal file names a header refers to, in header order without repeats (what an upload
/// must bring along with the header).
pub fn signal_files(header: &Header) -> Vec<String> {
    let mut seen = HashSet::new();
    header
        .signals
        .iter()
        .filter(|s| seen.insert(s.file_name.as_str()))
        .map(|s| s.file_name.clone())
        .collect()
}

fn decode_signal_file(
    bytes: &[u8],
    path: &Path,
    h: &Header,
    idx: &[usize],
) -> Result<Vec<Vec<i32>>, EcgError> {
    let err = |why: String| EcgError::Signal {
        path: path.to_path_buf(),
        why,
    };
    let first = &h.signals[idx[0]];
    if idx.iter().any(|&i| h.signals[i].format != first.format) {
        return Err(err("signals sharing one file have different formats".into()));
    }
    let start = usize::try_from(first.byte_offset)
        .unwrap_or(usize::MAX)
        .min(bytes.len());
    let flat = decode(&bytes[start..], first.format).map_err(err)?;
    // At most MAX_SIGNALS × MAX_SAMPLES_PER_FRAME: no overflow.
    let frame: usize = idx.iter().map(|&i| h.signals[i].samples_per_frame).sum();
    let n_frames = h.n_frames.unwrap_or(flat.len() / frame);
    // Checked before anything is allocated: every buffer below is at most `flat`'s size.
    let needed = n_frames
        .checked_mul(frame)
        .filter(|&n| n <= flat.len())
        .ok_or_else(|| {
            err(format!(
                "header announces {n_frames} frames of {frame} samples but the file holds {} \
                 samples",
                flat.len()
            ))
        })?;
    let mut out: Vec<Vec<i32>> = idx
        .iter()
        .map(|&i| Vec::with_capacity(n_frames * h.signals[i].samples_per_frame))
        .collect();
    for fr in flat[..needed].chunks_exact(frame) {
        let mut k = 0;
        for (o, &i) in out.iter_mut().zip(idx) {
            let spf = h.signals[i].samples_per_frame;
            o.extend_from_slice(&fr[k..k + spf]);
            k += spf;
        }
    }
    for (o, &i) in out.iter_mut().zip(idx) {
        let s = &h.signals[i];
        let skew = s.skew.saturating_mul(s.samples_per_frame);
        if skew > 0 && skew < o.len() {
            // The sample for time t is stored `skew` samples later; keep the length.
            let last = *o.last().unwrap_or(&0);
            o.drain(..skew);
            o.resize(n_frames * s.samples_per_frame, last);
        }
        if let Some(sum) = s.checksum
            && s.skew == 0
            && h.n_frames.is_some()
        {
            let got = o.iter().fold(0i32, |a, &v| a.wrapping_add(v)) as i16 as i32;
            if got != sum as i16 as i32 {
                return Err(err(format!(
                    "signal {} ({}): checksum {got} differs from the header's {sum}",
                    i, s.description
                )));
            }
        }
        if let (Some(iv), Some(&v0)) = (s.initial_value, o.first())
            && s.skew == 0
            && iv != v0
        {
            return Err(err(format!(
                "signal {} ({}): first sample {v0} differs from the header's initial value {iv}",
                i, s.description
            )));
        }
    }
    Ok(out)
}

/// Decodes a whole signal file body into its flat sample stream.
fn decode(b: &[u8], format: u16) -> Result<Vec<i32>, String> {
    Ok(match format {
        16 => b
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]) as i32)
            .collect(),
        61 => b
            .chunks_exact(2)
            .map(|c| i16::from_be_bytes([c[0], c[1]]) as i32)
            .collect(),
        80 => b.iter().map(|&v| v as i32 - 128).collect(),
        160 => b
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]) as i32 - 32768)
            .collect(),
        212 => {
            let mut out = Vec::with_capacity(b.len() / 3 * 2 + 1);
            for c in b.chunks(3) {
                if c.len() >= 2 {
                    out.push(sign12(c[0] as i32 | ((c[1] as i32 & 0x0f) << 8)));
                }
                if c.len() == 3 {
                    out.push(sign12(c[2] as i32 | ((c[1] as i32 & 0xf0) << 4)));
                }
            }
            out
        }
        f => {
            return Err(format!(
                "signal format {f} is not supported (16, 61, 80, 160, 212 are)"
            ));
        }
    })
}

fn sign12(v: i32) -> i32 {
    if v & 0x800 != 0 { v - 0x1000 } else { v }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_grammar() {
        let h = parse_header(
            "# c\nr 3 125 75000 17:27:45 15/08/1994\n\
             r.dat 212x4 2963.77/mV 12 0 67 -11266 0 MCL1\n\
             r.dat 212 12.84(-1605)/mmHg 12 0 -943 -23651 0 ABP\n\
             r.dat 212:4 2000 12 0 -304 6310 0 RESP\n",
            Path::new("r.hea"),
        )
        .unwrap();
        assert_eq!(h.fs, 125.0);
        assert_eq!(h.n_frames, Some(75000));
        assert_eq!(h.signals[0].samples_per_frame, 4);
        assert_eq!(h.signals[1].baseline, -1605);
        assert_eq!(h.signals[1].units, "mmHg");
        assert_eq!(h.signals[2].skew, 4);
        assert_eq!(h.signals[2].units, "mV");
        assert_eq!(h.base_time.as_deref(), Some("172745"));
        assert_eq!(h.base_date.as_deref(), Some("19940815"));
        let bare = parse_header("r 1 360 10 7:5\nr.dat 16\n", Path::new("r.hea")).unwrap();
        assert_eq!(
            (bare.base_time.as_deref(), bare.base_date),
            (Some("000705"), None)
        );
    }

    #[test]
    fn bad_header_names_the_line() {
        let e = parse_header("r 2 360\nr.dat 212 200\n", Path::new("x.hea")).unwrap_err();
        assert!(e.to_string().contains("x.hea, line 1"), "{e}");
        let e = parse_header("r 1 0\nr.dat 16\n", Path::new("x.hea")).unwrap_err();
        assert!(e.to_string().contains("not positive"), "{e}");
    }

    #[test]
    fn format_212_pairs() {
        // 0x123 and -1 (0xfff) packed: b0 = 0x23, b1 = 0xf1, b2 = 0xff.
        assert_eq!(decode(&[0x23, 0xf1, 0xff], 212).unwrap(), vec![0x123, -1]);
        assert!(decode(&[0; 4], 311).unwrap_err().contains("311"));
    }
}
