//! MIT-format annotation files (`.atr`, `.qrs`, `.gqrsh`, …): beat labels and rhythm notes;
//! and the wave boundaries of delineation references (QT Database `.q1c`/`.q2c`, LUDB's
//! per-lead files `.i` … `.v6`), read into [`Wave`]s by [`waves`].

use std::path::Path;

use crate::error::EcgError;

/// One annotation of an MIT-format annotation file.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// Sample number: in frames of the record, or in the units a high-resolution file states
    /// in its first note (gqrs's `.gqrsh`: "## time resolution: 500").
    pub sample: u64,
    /// Annotation code (1 = N, 5 = V, …; see [`mnemonic`]).
    pub code: u8,
    /// Subtype.
    pub sub: i16,
    /// Channel.
    pub chan: i16,
    /// Number field.
    pub num: i16,
    /// Auxiliary text (rhythm labels such as `(N`).
    pub aux: Option<String>,
}

impl Annotation {
    /// Whether this annotation labels a beat (QRS complex), as WFDB's `isqrs` table says.
    pub fn is_beat(&self) -> bool {
        is_beat_code(self.code)
    }
}

/// WFDB's `isqrs`: codes 1–13, 25, 30, 34, 35, 37, 38 and 41 are beats.
pub fn is_beat_code(code: u8) -> bool {
    matches!(code, 1..=13 | 25 | 30 | 34 | 35 | 37 | 38 | 41)
}

/// The WFDB mnemonic of an annotation code (`N`, `V`, `A`, `+`, …), `"?"` when unknown.
pub fn mnemonic(code: u8) -> &'static str {
    const M: [&str; 42] = [
        " ", "N", "L", "R", "a", "V", "F", "J", "A", "S", "E", "j", "/", "Q", "~", "", "|", "",
        "s", "T", "*", "D", "\"", "=", "p", "B", "^", "t", "+", "u", "?", "!", "[", "]", "e", "n",
        "@", "x", "f", "(", ")", "r",
    ];
    M.get(code as usize).copied().unwrap_or("?")
}

/// Reads an MIT-format annotation file (`.atr`, `.qrs`, …).
pub fn read_annotations(path: &Path) -> Result<Vec<Annotation>, EcgError> {
    let b = std::fs::read(path).map_err(|source| EcgError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_annotations(&b).map_err(|why| EcgError::Annotation {
        path: path.to_path_buf(),
        why,
    })
}

/// Parses the bytes of an MIT-format annotation file. Each 16-bit little-endian word holds a
/// 6-bit code and a 10-bit interval; codes 59–63 are SKIP, NUM, SUB, CHAN and AUX pseudo-codes.
pub fn parse_annotations(b: &[u8]) -> Result<Vec<Annotation>, String> {
    let mut out: Vec<Annotation> = Vec::new();
    let (mut t, mut chan, mut num) = (0i64, 0i16, 0i16);
    let mut i = 0;
    let word = |i: usize| -> Result<u16, String> {
        b.get(i..i + 2)
            .map(|w| u16::from_le_bytes([w[0], w[1]]))
            .ok_or_else(|| format!("truncated at byte {i}"))
    };
    while i + 1 < b.len() {
        let w = word(i)?;
        i += 2;
        let (code, interval) = ((w >> 10) as u8, w & 0x3ff);
        match code {
            0 if interval == 0 => break,
            59 => {
                let hi = word(i)? as u64;
                let lo = word(i + 2)? as u64;
                i += 4;
                let skip = ((hi << 16) | lo) as u32 as i32;
                // gqrs writes a SKIP of -1 before its first (null) annotation: time may go
                // below zero between annotations, never at one.
                t += i64::from(skip);
            }
            60 => num = sign10(interval),
            61 => last(&mut out, i)?.sub = sign10(interval),
            62 => chan = sign10(interval),
            63 => {
                let n = interval as usize;
                let text = b
                    .get(i..i + n)
                    .ok_or_else(|| format!("AUX of {n} bytes truncated at byte {i}"))?;
                let s = String::from_utf8_lossy(text)
                    .trim_end_matches('\0')
                    .to_string();
                last(&mut out, i)?.aux = Some(s);
                i += n + (n & 1);
            }
            _ => {
                t += i64::from(interval);
                let sample = u64::try_from(t)
                    .map_err(|_| format!("annotation at negative time {t} at byte {i}"))?;
                out.push(Annotation {
                    sample,
                    code,
                    sub: 0,
                    chan,
                    num,
                    aux: None,
                });
            }
        }
    }
    Ok(out)
}

fn last(out: &mut [Annotation], at: usize) -> Result<&mut Annotation, String> {
    out.last_mut()
        .ok_or_else(|| format!("modifier before any annotation at byte {at}"))
}

fn sign10(v: u16) -> i16 {
    if v & 0x200 != 0 {
        v as i16 - 0x400
    } else {
        v as i16
    }
}

/// WFDB code of a P-wave peak (`p`).
const P_PEAK: u8 = 24;
/// WFDB code of a T-wave peak (`t`).
const T_PEAK: u8 = 27;
/// WFDB code of a U-wave peak (`u`).
const U_PEAK: u8 = 29;
/// WFDB code of a wave onset (`(`).
const WAVE_ON: u8 = 39;
/// WFDB code of a wave offset (`)`).
const WAVE_OFF: u8 = 40;

/// Which wave a boundary annotation belongs to, from the peak between its `(` and `)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaveKind {
    /// P wave (peak `p`).
    P,
    /// QRS complex (peak: any beat label, `N`, `V`, …).
    Qrs,
    /// T wave (peak `t`).
    T,
    /// U wave (peak `u`).
    U,
}

impl WaveKind {
    /// The wave an annotation code is the peak of, `None` for boundaries and notes.
    pub fn of_code(code: u8) -> Option<WaveKind> {
        match code {
            P_PEAK => Some(WaveKind::P),
            T_PEAK => Some(WaveKind::T),
            U_PEAK => Some(WaveKind::U),
            c if is_beat_code(c) => Some(WaveKind::Qrs),
            _ => None,
        }
    }
}

/// One annotated wave: its peak and, where the annotator marked them, its onset and offset
/// (samples of the record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wave {
    /// Which wave.
    pub kind: WaveKind,
    /// Onset (`(` just before the peak).
    pub onset: Option<u64>,
    /// Peak (`p`, a beat label, `t` or `u`).
    pub peak: u64,
    /// Offset (`)` just after the peak).
    pub offset: Option<u64>,
}

/// The waves of a boundary annotation list, as the QT Database and LUDB write them: an
/// optional `(`, the peak, an optional `)`. A `(` or `)` not next to a peak (a stray mark,
/// or a boundary whose peak the annotator left out) belongs to no wave and is dropped.
pub fn waves(ann: &[Annotation]) -> Vec<Wave> {
    let mut out: Vec<Wave> = Vec::new();
    let mut onset = None;
    let mut closable = false;
    for a in ann {
        match a.code {
            WAVE_ON => (onset, closable) = (Some(a.sample), false),
            WAVE_OFF => {
                if let Some(w) = out.last_mut().filter(|_| closable) {
                    w.offset = Some(a.sample);
                }
                (onset, closable) = (None, false);
            }
            c => match WaveKind::of_code(c) {
                Some(kind) => {
                    out.push(Wave {
                        kind,
                        onset: onset.take(),
                        peak: a.sample,
                        offset: None,
                    });
                    closable = true;
                }
                None => (onset, closable) = (None, false),
            },
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann(sample: u64, code: u8) -> Annotation {
        Annotation {
            sample,
            code,
            sub: 0,
            chan: 0,
            num: 0,
            aux: None,
        }
    }

    #[test]
    fn waves_as_the_qt_database_writes_them() {
        // ( p ) ( N ) t ) : the T wave has no onset mark.
        let a = [
            ann(10, WAVE_ON),
            ann(20, P_PEAK),
            ann(30, WAVE_OFF),
            ann(40, WAVE_ON),
            ann(50, 1),
            ann(60, WAVE_OFF),
            ann(90, T_PEAK),
            ann(120, WAVE_OFF),
        ];
        let w = waves(&a);
        assert_eq!(w.len(), 3);
        assert_eq!(
            (w[0].kind, w[0].onset, w[0].offset),
            (WaveKind::P, Some(10), Some(30))
        );
        assert_eq!(
            (w[1].kind, w[1].onset, w[1].offset),
            (WaveKind::Qrs, Some(40), Some(60))
        );
        assert_eq!(
            (w[2].kind, w[2].onset, w[2].offset),
            (WaveKind::T, None, Some(120))
        );
    }

    #[test]
    fn stray_boundaries_belong_to_no_wave() {
        // A `)` after another `)`, and a `(` followed by a rhythm note, are dropped.
        let a = [
            ann(10, P_PEAK),
            ann(20, WAVE_OFF),
            ann(25, WAVE_OFF),
            ann(30, WAVE_ON),
            ann(35, 28),
            ann(40, T_PEAK),
        ];
        let w = waves(&a);
        assert_eq!(w[0].offset, Some(20));
        assert_eq!(w[1].onset, None);
    }
}
