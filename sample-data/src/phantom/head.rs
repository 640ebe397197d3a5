//! A head phantom in Hounsfield units: scalp, skull, a CSF rim, grey and white matter, two lateral
//! ventricles and, optionally, an acute haemorrhage in the right basal ganglia.
//!
//! Coordinates are DICOM patient coordinates (LPS, millimetres): x grows to the patient's left,
//! y to the back, z towards the vertex. The patient's right is therefore on the image's left in an
//! axial slice with the standard orientation, as radiologists expect.

use super::Ellipsoid;

/// Hounsfield units of the materials.
pub mod hu {
    /// Air around the head.
    pub const AIR: f64 = -1000.0;
    /// Scalp (soft tissue).
    pub const SCALP: f64 = 35.0;
    /// Cortical bone of the skull tables.
    pub const BONE: f64 = 1150.0;
    /// Diploë between the tables.
    pub const DIPLOE: f64 = 650.0;
    /// Cerebrospinal fluid.
    pub const CSF: f64 = 6.0;
    /// Grey matter.
    pub const GREY: f64 = 40.0;
    /// White matter.
    pub const WHITE: f64 = 28.0;
    /// Acute blood.
    pub const BLOOD: f64 = 68.0;
}

/// The outer surface of the scalp.
pub const HEAD: Ellipsoid = Ellipsoid {
    centre: [0.0, 0.0, 40.0],
    radii: [74.0, 94.0, 88.0],
};

/// The haemorrhage: patient's right (negative x), slightly anterior, at basal-ganglia level.
pub const HAEMORRHAGE: Ellipsoid = Ellipsoid {
    centre: [-24.0, -6.0, 52.0],
    radii: [11.0, 14.0, 9.0],
};

/// The lateral ventricles, one each side of the midline.
pub const VENTRICLES: [Ellipsoid; 2] = [
    Ellipsoid {
        centre: [-9.0, 2.0, 62.0],
        radii: [5.0, 24.0, 14.0],
    },
    Ellipsoid {
        centre: [9.0, 2.0, 62.0],
        radii: [5.0, 24.0, 14.0],
    },
];

/// Normalised radius (of [`HEAD`]) where each layer begins, from the outside in, with its HU.
/// Normalised radii keep the layers' thickness proportional to the head's size in each direction.
const LAYERS: [(f64, f64); 6] = [
    (1.00, hu::SCALP),
    (0.94, hu::BONE),
    (0.92, hu::DIPLOE),
    (0.885, hu::BONE),
    (0.865, hu::CSF),
    (0.85, hu::GREY),
];

/// Where white matter begins (normalised radius).
const WHITE_MATTER: f64 = 0.76;

/// The phantom's value at a point, without noise.
pub fn hu_at(p: [f64; 3], haemorrhage: bool) -> f64 {
    let r = HEAD.r2(p).sqrt();
    if r >= 1.0 {
        return hu::AIR;
    }
    if r >= LAYERS[5].0 {
        // The first layer whose inner boundary is below r.
        let mut value = hu::SCALP;
        for w in LAYERS.windows(2) {
            if r < w[0].0 && r >= w[1].0 {
                value = w[0].1;
            }
        }
        return value;
    }
    if haemorrhage && HAEMORRHAGE.contains(p) {
        return hu::BLOOD;
    }
    if VENTRICLES.iter().any(|v| v.contains(p)) {
        return hu::CSF;
    }
    if r >= WHITE_MATTER {
        hu::GREY
    } else {
        hu::WHITE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_from_outside_in() {
        let z = HEAD.centre[2];
        // Along +x: the radius is 74 mm; walk in from outside.
        let at = |x: f64| hu_at([x, 0.0, z], false);
        assert_eq!(at(80.0), hu::AIR);
        assert_eq!(at(0.97 * 74.0), hu::SCALP);
        assert_eq!(at(0.93 * 74.0), hu::BONE);
        assert_eq!(at(0.90 * 74.0), hu::DIPLOE);
        assert_eq!(at(0.87 * 74.0), hu::BONE);
        assert_eq!(at(0.855 * 74.0), hu::CSF);
        assert_eq!(at(0.80 * 74.0), hu::GREY);
        assert_eq!(at(0.5 * 74.0), hu::WHITE);
    }

    #[test]
    fn haemorrhage_only_when_asked_and_on_the_patients_right() {
        let c = HAEMORRHAGE.centre;
        assert_eq!(hu_at(c, true), hu::BLOOD);
        assert_eq!(hu_at(c, false), hu::WHITE);
        assert!(c[0] < 0.0, "patient's right is negative x in LPS");
        assert_eq!(hu_at([-c[0], c[1], c[2]], true), hu::WHITE);
    }

    #[test]
    fn ventricles_hold_csf() {
        for v in VENTRICLES {
            assert_eq!(hu_at(v.centre, true), hu::CSF);
        }
    }
}
