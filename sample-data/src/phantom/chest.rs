//! A posteroanterior chest radiograph phantom in stored values (12 bits, MONOCHROME2: dense is
//! bright), over normalised image coordinates `u` (left to right) and `v` (top to bottom), both
//! in [-1, 1]. As on any PA film read facing the patient, the patient's right is the image's left.

use super::Ellipsoid;

/// Stored values of the structures (before noise).
pub mod level {
    /// Unattenuated beam outside the body.
    pub const BACKGROUND: f64 = 150.0;
    /// Soft tissue of the chest wall, neck and shoulders.
    pub const SOFT_TISSUE: f64 = 2300.0;
    /// Aerated lung.
    pub const LUNG: f64 = 850.0;
    /// Heart and mediastinum.
    pub const MEDIASTINUM: f64 = 2900.0;
    /// Abdomen below the diaphragm.
    pub const ABDOMEN: f64 = 2450.0;
    /// Added where a rib or clavicle crosses.
    pub const BONE_EXTRA: f64 = 450.0;
    /// Vertebral bodies.
    pub const SPINE: f64 = 3300.0;
    /// Added inside the consolidation.
    pub const CONSOLIDATION_EXTRA: f64 = 900.0;
}

/// The body outline (in the u-v plane; the third axis is unused).
const BODY: Ellipsoid = Ellipsoid {
    centre: [0.0, 0.25, 0.0],
    radii: [0.9, 1.15, 1.0],
};

/// The lungs: the patient's right (image left) is a little shorter, under the liver's dome.
pub const LUNGS: [Ellipsoid; 2] = [
    Ellipsoid {
        centre: [-0.42, -0.08, 0.0],
        radii: [0.3, 0.56, 1.0],
    },
    Ellipsoid {
        centre: [0.42, -0.04, 0.0],
        radii: [0.3, 0.6, 1.0],
    },
];

/// The heart, mostly on the patient's left (image right).
pub const HEART: Ellipsoid = Ellipsoid {
    centre: [0.1, 0.28, 0.0],
    radii: [0.28, 0.24, 1.0],
};

/// The consolidation in the right lower zone.
pub const CONSOLIDATION: Ellipsoid = Ellipsoid {
    centre: [-0.45, 0.22, 0.0],
    radii: [0.12, 0.1, 1.0],
};

/// Half-width of the mediastinum and spine column.
const MIDLINE: f64 = 0.1;

/// The phantom's value at (u, v), without noise.
pub fn value_at(u: f64, v: f64, consolidation: bool) -> f64 {
    let p = [u, v, 0.0];
    let neck = u.abs() < 0.18 && v < -0.6;
    if !BODY.contains(p) && !neck {
        return level::BACKGROUND;
    }
    let midline = u.abs() < MIDLINE && v > -0.75;
    let in_lung = !midline && !HEART.contains(p) && LUNGS.iter().any(|l| l.contains(p));
    let mut value = if midline {
        spine(v)
    } else if HEART.contains(p) {
        level::MEDIASTINUM
    } else if in_lung {
        level::LUNG + vessels(u, v)
    } else if v > 0.42 + 0.3 * u * u {
        level::ABDOMEN
    } else {
        level::SOFT_TISSUE
    };
    if in_lung && consolidation && CONSOLIDATION.contains(p) {
        value += level::CONSOLIDATION_EXTRA * (1.0 - CONSOLIDATION.r2(p));
    }
    if in_lung && (on_rib(u, v) || on_clavicle(u, v)) {
        value += level::BONE_EXTRA;
    }
    value
}

/// Vertebral bodies with darker disc spaces between them.
fn spine(v: f64) -> f64 {
    let phase = ((v + 1.0) * 9.0).rem_euclid(1.0);
    if phase < 0.2 {
        level::MEDIASTINUM
    } else {
        level::SPINE
    }
}

/// Branching-vessel texture: brighter towards the hila, as lung markings are.
fn vessels(u: f64, v: f64) -> f64 {
    let hilum_distance = ((u.abs() - 0.2).powi(2) + v.powi(2)).sqrt();
    let stripes = ((u * 14.0 + v * 6.0).rem_euclid(1.0) - 0.5).abs();
    if stripes < 0.08 {
        220.0 * (1.0 - hilum_distance).max(0.0)
    } else {
        0.0
    }
}

/// Ten posterior ribs each side, curving down away from the spine.
fn on_rib(u: f64, v: f64) -> bool {
    let lateral = (u.abs() - MIDLINE).max(0.0) / 0.8;
    (0..10).any(|k| {
        let centre = -0.62 + 0.13 * f64::from(k) + 0.22 * lateral * lateral;
        (v - centre).abs() < 0.022
    })
}

/// The clavicles, running out and slightly up from the sternal ends.
fn on_clavicle(u: f64, v: f64) -> bool {
    let a = u.abs();
    (0.1..0.62).contains(&a) && (v - (-0.64 - 0.12 * (a - 0.1))).abs() < 0.028
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structures_have_their_levels() {
        assert_eq!(value_at(-0.98, -0.98, false), level::BACKGROUND);
        let spine: Vec<f64> = (0..50)
            .map(|i| value_at(0.0, -0.5 + 0.02 * f64::from(i), false))
            .collect();
        assert!(spine.contains(&level::SPINE) && spine.contains(&level::MEDIASTINUM));
        assert!(
            spine
                .iter()
                .all(|&s| s == level::SPINE || s == level::MEDIASTINUM)
        );
        assert_eq!(value_at(0.3, 0.4, false), level::MEDIASTINUM);
        assert_eq!(value_at(0.5, 0.9, false), level::ABDOMEN);
        let lung = value_at(-0.55, -0.2, false);
        assert!(
            (level::LUNG..level::LUNG + level::BONE_EXTRA + 250.0).contains(&lung),
            "{lung}"
        );
    }

    #[test]
    fn lungs_are_darker_than_the_mediastinum() {
        let lungs: f64 = (0..20)
            .map(|i| value_at(-0.5, -0.3 + 0.02 * f64::from(i), false))
            .sum();
        let heart: f64 = (0..20)
            .map(|i| value_at(0.2, 0.2 + 0.005 * f64::from(i), false))
            .sum();
        assert!(lungs < heart / 2.0);
    }

    #[test]
    fn consolidation_only_when_asked_and_on_the_patients_right() {
        let c = CONSOLIDATION.centre;
        assert!(
            c[0] < 0.0,
            "patient's right is the image's left on a PA film"
        );
        let with = value_at(c[0], c[1], true);
        let without = value_at(c[0], c[1], false);
        assert_eq!(with - without, level::CONSOLIDATION_EXTRA);
        assert_eq!(value_at(-c[0], c[1], true), value_at(-c[0], c[1], false));
    }
}
