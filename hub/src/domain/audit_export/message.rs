//! One audit entry as a DICOM audit message (PS3.15 A.5.1, the XML of the `AuditMessage` schema),
//! written on one line so that a syslog server stores it as one record.
//!
//! What it discloses: the acting user (id, display name, institution), the hub, the case id and the
//! patient's **pseudonym** (the keyed hash the index keeps, never a name or ID number). The entry's
//! free-text detail is not sent (clinic-supplied text such as a stated purpose or a file name may
//! hold a name); the entry's chain MAC in the syslog header lets an auditor find it in the hub.

use std::fmt::Write as _;

use quick_xml::escape::escape;

use super::event::{Code, EventKind, event_of};
use crate::model::AuditEntry;

/// Who the messages say they come from (`AuditSourceIdentification`, the hub's participant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// AuditSourceID: the hub's application name on this machine.
    pub source_id: String,
    /// AuditEnterpriseSiteID ("": left out).
    pub site: String,
    /// The hub machine's host name (its NetworkAccessPointID).
    pub hostname: String,
}

/// The patient's identifier type: RFC 3881's "Patient Number" (here, the pseudonym).
const PATIENT_NUMBER: Code = Code {
    code: "2",
    system: "RFC-3881",
    meaning: "Patient Number",
};
/// A case of the hub (a study or an ECG awaiting a read), in the hub's private coding scheme.
const CASE_ID: Code = Code {
    code: "case",
    system: "99REMOTEDX",
    meaning: "remotedx case id",
};
/// The requesting user's role: the source of the request.
const SOURCE_ROLE: Code = Code {
    code: "110153",
    system: "DCM",
    meaning: "Source Role ID",
};
/// The hub's role: the application that served the request.
const APPLICATION: Code = Code {
    code: "110150",
    system: "DCM",
    meaning: "Application",
};
/// AuditSourceTypeCode 4: an application server process.
const APP_SERVER: Code = Code {
    code: "4",
    system: "DCM",
    meaning: "Application Server Process",
};

/// The DICOM audit message of `entry`, and the event it was mapped to.
pub fn render(entry: &AuditEntry, source: &Source) -> (String, EventKind) {
    let kind = event_of(&entry.action);
    let mut x = String::with_capacity(1024);
    x.push_str("<AuditMessage>");
    event_identification(&mut x, entry, kind);
    requestor(&mut x, entry);
    hub_participant(&mut x, source);
    audit_source(&mut x, source);
    if !entry.patient_key.is_empty() {
        object(&mut x, &entry.patient_key, "1", "1", PATIENT_NUMBER);
    }
    if entry.case_id > 0 {
        object(&mut x, &entry.case_id.to_string(), "2", "4", CASE_ID);
    }
    x.push_str("</AuditMessage>");
    (x, kind)
}

fn event_identification(x: &mut String, entry: &AuditEntry, kind: EventKind) {
    let _ = write!(
        x,
        "<EventIdentification EventActionCode=\"{}\" EventDateTime=\"{}\" EventOutcomeIndicator=\"{}\">",
        kind.action.letter(),
        date_time(entry.at_ms),
        kind.outcome.number()
    );
    coded(x, "EventID", kind.id.code());
    if let Some(t) = kind.type_code {
        coded(x, "EventTypeCode", t);
    }
    // The hub's own action name, so that a log server can tell a claim from a release.
    let action = attr(&entry.action);
    let _ = write!(
        x,
        "<EventTypeCode csd-code=\"{action}\" codeSystemName=\"99REMOTEDX\" originalText=\"{action}\"/>"
    );
    x.push_str("</EventIdentification>");
}

/// The user who asked (or the hub itself, user id 0, for its own actions).
fn requestor(x: &mut String, entry: &AuditEntry) {
    let _ = write!(
        x,
        "<ActiveParticipant UserID=\"user:{}\" AlternativeUserID=\"{}\" UserName=\"{}\" UserIsRequestor=\"true\">",
        entry.user_id,
        attr(&entry.institution_code),
        attr(&entry.actor)
    );
    coded(x, "RoleIDCode", SOURCE_ROLE);
    x.push_str("</ActiveParticipant>");
}

fn hub_participant(x: &mut String, source: &Source) {
    let _ = write!(
        x,
        "<ActiveParticipant UserID=\"{}\" UserIsRequestor=\"false\" NetworkAccessPointID=\"{}\" NetworkAccessPointTypeCode=\"1\">",
        attr(&source.source_id),
        attr(&source.hostname)
    );
    coded(x, "RoleIDCode", APPLICATION);
    x.push_str("</ActiveParticipant>");
}

fn audit_source(x: &mut String, source: &Source) {
    x.push_str("<AuditSourceIdentification");
    if !source.site.is_empty() {
        let _ = write!(x, " AuditEnterpriseSiteID=\"{}\"", attr(&source.site));
    }
    let _ = write!(x, " AuditSourceID=\"{}\">", attr(&source.source_id));
    coded(x, "AuditSourceTypeCode", APP_SERVER);
    x.push_str("</AuditSourceIdentification>");
}

fn object(x: &mut String, id: &str, type_code: &str, role: &str, id_type: Code) {
    let _ = write!(
        x,
        "<ParticipantObjectIdentification ParticipantObjectID=\"{}\" ParticipantObjectTypeCode=\"{type_code}\" ParticipantObjectTypeCodeRole=\"{role}\">",
        attr(id)
    );
    coded(x, "ParticipantObjectIDTypeCode", id_type);
    x.push_str("</ParticipantObjectIdentification>");
}

fn coded(x: &mut String, element: &str, c: Code) {
    let _ = write!(
        x,
        "<{element} csd-code=\"{}\" codeSystemName=\"{}\" originalText=\"{}\"/>",
        attr(c.code),
        attr(c.system),
        attr(c.meaning)
    );
}

/// An attribute value: control characters (line breaks included) as spaces, then XML-escaped.
fn attr(s: &str) -> String {
    escape(clean(s).as_str()).into_owned()
}

fn clean(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// An xs:dateTime in UTC with milliseconds.
pub fn date_time(at_ms: i64) -> String {
    jiff::Timestamp::from_millisecond(at_ms)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> Source {
        Source {
            source_id: "remotedx".into(),
            site: "Qingshan".into(),
            hostname: "hub1".into(),
        }
    }

    #[test]
    fn a_case_view_names_the_pseudonym_and_the_case() {
        let entry = AuditEntry {
            id: 7,
            at_ms: 1_700_000_000_123,
            user_id: 3,
            actor: "Dr <Li> & \"Wang\"\n".into(),
            institution_code: "CTY".into(),
            action: "view".into(),
            case_id: 42,
            patient_key: "ab12".into(),
            detail: "王小明 110101199003071234".into(),
        };
        let (xml, kind) = render(&entry, &source());
        assert_eq!(kind.id.code().code, "110103");
        assert!(xml.starts_with("<AuditMessage><EventIdentification EventActionCode=\"R\" EventDateTime=\"2023-11-14T22:13:20.123Z\" EventOutcomeIndicator=\"0\"><EventID csd-code=\"110103\""), "{xml}");
        assert!(
            xml.contains("UserName=\"Dr &lt;Li&gt; &amp; &quot;Wang&quot; \""),
            "{xml}"
        );
        assert!(xml.contains("ParticipantObjectID=\"ab12\" ParticipantObjectTypeCode=\"1\" ParticipantObjectTypeCodeRole=\"1\""), "{xml}");
        assert!(xml.contains("ParticipantObjectID=\"42\""), "{xml}");
        assert!(
            !xml.contains('\n') && !xml.contains("王小明") && !xml.contains("1101011990"),
            "{xml}"
        );
    }

    #[test]
    fn the_hub_s_own_actions_name_no_patient() {
        let entry = AuditEntry {
            action: "user_disable".into(),
            ..AuditEntry::default()
        };
        let (xml, kind) = render(&entry, &source());
        assert_eq!(kind.id.code().code, "110113");
        assert!(!xml.contains("ParticipantObjectIdentification"), "{xml}");
        assert!(
            xml.contains("AuditEnterpriseSiteID=\"Qingshan\" AuditSourceID=\"remotedx\""),
            "{xml}"
        );
    }
}
