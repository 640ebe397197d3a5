//! An ECG's DICOMweb `rendered` output is the hub's own 12-lead page: a waveform has no frames to
//! draw, and the worker already drew the page a reader expects (grid, traces, lead labels, the
//! hub's measurements beside the device's, flags), the one `viewer-cli show` writes.

use super::{Error, Hub, Result};
use crate::model::Instance;
use crate::storage::derived;

/// The SOP classes of waveforms (PS3.4 B.5: ECGs, haemodynamic and electrophysiology waveforms).
const WAVEFORM_CLASSES: &str = "1.2.840.10008.5.1.4.1.1.9.";

/// Whether an instance is an ECG, whose rendering is its page.
pub fn is_ecg(instance: &Instance) -> bool {
    instance.modality == "ECG" || instance.sop_class_uid.starts_with(WAVEFORM_CLASSES)
}

impl Hub {
    /// The 12-lead page (PNG) of an ECG instance the caller has already opened (and had audited);
    /// `None` for an instance that is not an ECG.
    pub(crate) async fn ecg_page_png(&self, instance: &Instance) -> Result<Option<Vec<u8>>> {
        if !is_ecg(instance) {
            return Ok(None);
        }
        let sop = &instance.sop_instance_uid;
        let name = format!("ecg/{sop}.png");
        let mut tx = self.store().read().await?;
        let page = derived::artifact(tx.as_mut(), instance.case_id, &name)
            .await?
            .ok_or_else(|| {
                Error::NotFound(format!(
                    "the 12-lead page of ECG {sop} is not drawn yet: the worker draws it shortly \
                     after upload; try again in a minute"
                ))
            })?;
        drop(tx);
        let len = usize::try_from(page.size).unwrap_or(0);
        Ok(Some(
            self.store()
                .blobs
                .read_range(&page.blob_key, 0, len)
                .await?,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waveforms_are_ecgs_and_images_are_not() {
        let twelve_lead = Instance {
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.9.1.1".into(),
            ..Instance::default()
        };
        assert!(is_ecg(&twelve_lead));
        let by_modality = Instance {
            modality: "ECG".into(),
            ..Instance::default()
        };
        assert!(is_ecg(&by_modality));
        let ct = Instance {
            sop_class_uid: "1.2.840.10008.5.1.4.1.1.2".into(),
            modality: "CT".into(),
            ..Instance::default()
        };
        assert!(!is_ecg(&ct));
    }
}
