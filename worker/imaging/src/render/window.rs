//! VOI windowing: which window to use (dataset, preset, explicit) and the PS3.3 window functions.

use std::fmt;
use std::str::FromStr;

use crate::attrs::{Lut, PixelAttrs, VoiFunction};

/// A named CT window (centre/width in Hounsfield units), or the object's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Preset {
    /// The object's own window (same as [`WindowSpec::Default`]).
    Default,
    /// Brain: centre 40, width 80.
    Brain,
    /// Lung: centre -600, width 1500.
    Lung,
    /// Bone: centre 400, width 1800.
    Bone,
    /// Abdomen (soft tissue): centre 50, width 400.
    Abdomen,
    /// Mediastinum: centre 50, width 350.
    Mediastinum,
}

impl Preset {
    /// Centre and width, or `None` for [`Preset::Default`].
    pub fn center_width(self) -> Option<(f64, f64)> {
        match self {
            Self::Default => None,
            Self::Brain => Some((40.0, 80.0)),
            Self::Lung => Some((-600.0, 1500.0)),
            Self::Bone => Some((400.0, 1800.0)),
            Self::Abdomen => Some((50.0, 400.0)),
            Self::Mediastinum => Some((50.0, 350.0)),
        }
    }

    /// Every preset, for help texts.
    pub const ALL: [Preset; 6] = [
        Self::Default,
        Self::Brain,
        Self::Lung,
        Self::Bone,
        Self::Abdomen,
        Self::Mediastinum,
    ];

    /// The name `FromStr` accepts.
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Brain => "brain",
            Self::Lung => "lung",
            Self::Bone => "bone",
            Self::Abdomen => "abdomen",
            Self::Mediastinum => "mediastinum",
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A window preset name that is not one of ours.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown window preset {0:?} (expected default, brain, lung, bone, abdomen or mediastinum)"
)]
pub struct UnknownPreset(pub String);

impl FromStr for Preset {
    type Err = UnknownPreset;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|p| p.name() == lower)
            .ok_or_else(|| UnknownPreset(s.to_string()))
    }
}

/// Which VOI window a rendering uses (ignored for colour images).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum WindowSpec {
    /// The object's VOI LUT Sequence, else its first Window Center/Width, else the frame's
    /// full range of modality values.
    #[default]
    Default,
    /// A named preset.
    Preset(Preset),
    /// An explicit window in modality units (e.g. HU).
    Explicit {
        /// Window centre.
        center: f64,
        /// Window width (must be at least 1).
        width: f64,
    },
}

/// The VOI stage resolved for one frame: maps a modality value to 0..=255 (before MONOCHROME1
/// inversion).
#[derive(Debug, Clone)]
pub(crate) enum Voi<'a> {
    Window {
        center: f64,
        width: f64,
        function: VoiFunction,
    },
    Table(&'a Lut),
    Range {
        low: f64,
        high: f64,
    },
}

impl<'a> Voi<'a> {
    /// Resolves the spec against the object; `range` is the frame's modality value range, used
    /// when nothing else applies.
    pub(crate) fn resolve(spec: WindowSpec, attrs: &'a PixelAttrs, range: (f64, f64)) -> Self {
        let explicit = |(center, width): (f64, f64)| Voi::Window {
            center,
            width: width.max(1.0),
            function: VoiFunction::Linear,
        };
        match spec {
            WindowSpec::Explicit { center, width } => explicit((center, width)),
            WindowSpec::Preset(p) if p != Preset::Default => {
                explicit(p.center_width().unwrap_or((0.0, 1.0)))
            }
            _ => {
                if let Some(lut) = attrs.voi_luts.first() {
                    Voi::Table(lut)
                } else if let Some(&(center, width)) = attrs.windows.first() {
                    Voi::Window {
                        center,
                        width: width.max(1.0),
                        function: attrs.voi_function,
                    }
                } else {
                    Voi::Range {
                        low: range.0,
                        high: range.1,
                    }
                }
            }
        }
    }

    /// The output in 0.0..=255.0.
    pub(crate) fn apply(&self, x: f64) -> f64 {
        match *self {
            Voi::Window {
                center: c,
                width: w,
                function,
            } => match function {
                VoiFunction::Linear => {
                    let (low, high) = (c - 0.5 - (w - 1.0) / 2.0, c - 0.5 + (w - 1.0) / 2.0);
                    if x <= low {
                        0.0
                    } else if x > high {
                        255.0
                    } else {
                        ((x - (c - 0.5)) / (w - 1.0).max(f64::MIN_POSITIVE) + 0.5) * 255.0
                    }
                }
                VoiFunction::LinearExact => (((x - c) / w + 0.5) * 255.0).clamp(0.0, 255.0),
                VoiFunction::Sigmoid => 255.0 / (1.0 + (-4.0 * (x - c) / w).exp()),
            },
            Voi::Table(lut) => {
                let max = ((1u64 << lut.bits.clamp(1, 16)) - 1) as f64;
                f64::from(lut.get(x.round() as i64)) / max * 255.0
            }
            Voi::Range { low, high } => {
                if high > low {
                    (x - low) / (high - low) * 255.0
                } else {
                    128.0
                }
            }
        }
        .clamp(0.0, 255.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_case_insensitively_and_unknown_names_fail() {
        assert_eq!("Lung".parse::<Preset>(), Ok(Preset::Lung));
        assert_eq!("default".parse::<Preset>(), Ok(Preset::Default));
        assert!("liver".parse::<Preset>().is_err());
        for p in Preset::ALL {
            assert_eq!(p.name().parse::<Preset>(), Ok(p));
        }
    }

    #[test]
    fn linear_window_follows_ps3_3_c_11_2_1_2() {
        let v = Voi::Window {
            center: 40.0,
            width: 80.0,
            function: VoiFunction::Linear,
        };
        assert_eq!(v.apply(-1000.0), 0.0);
        assert_eq!(v.apply(1000.0), 255.0);
        // the centre maps just above mid-grey: ((40 - 39.5) / 79 + 0.5) * 255
        assert!((v.apply(40.0) - 129.11).abs() < 0.01);
        let exact = Voi::Window {
            center: 40.0,
            width: 80.0,
            function: VoiFunction::LinearExact,
        };
        assert_eq!(exact.apply(40.0), 127.5);
        let sig = Voi::Window {
            center: 0.0,
            width: 10.0,
            function: VoiFunction::Sigmoid,
        };
        assert_eq!(sig.apply(0.0), 127.5);
    }
}
