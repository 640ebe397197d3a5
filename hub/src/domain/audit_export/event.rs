//! Which DICOM audit event (PS3.15 A.5.3, codes from PS3.16 CID 400 and following) each action of
//! the hub's audit trail is.

/// A coded value: `csd-code`, `codeSystemName`, `originalText` (PS3.15 A.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    /// The code.
    pub code: &'static str,
    /// Its coding scheme ("DCM", "RFC-3881", or the hub's private "99REMOTEDX").
    pub system: &'static str,
    /// Its meaning.
    pub meaning: &'static str,
}

const fn dcm(code: &'static str, meaning: &'static str) -> Code {
    Code {
        code,
        system: "DCM",
        meaning,
    }
}

/// The DICOM audit events the hub reports (EventID, PS3.16 CID 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventId {
    /// Studies arriving: uploads and C-STOREs (110104 DICOM Instances Transferred).
    InstancesTransferred,
    /// A case's images or pages opened (110103).
    InstancesAccessed,
    /// Lists of cases, reports or recognition entries (110112 Query).
    Query,
    /// Reports written, signed, delivered; recognition decisions; suspected mix-ups (110110).
    PatientRecord,
    /// Cases made, claimed, released (110109 Order Record).
    OrderRecord,
    /// Users and their rights changed; restricted functions refused (110113 Security Alert).
    SecurityAlert,
    /// A credential that does not belong to the one presenting it (110114 User Authentication).
    UserAuthentication,
    /// The hub's own activity (110100 Application Activity): actions without a closer event.
    ApplicationActivity,
}

impl EventId {
    /// Its code.
    pub fn code(self) -> Code {
        match self {
            EventId::InstancesTransferred => dcm("110104", "DICOM Instances Transferred"),
            EventId::InstancesAccessed => dcm("110103", "DICOM Instances Accessed"),
            EventId::Query => dcm("110112", "Query"),
            EventId::PatientRecord => dcm("110110", "Patient Record"),
            EventId::OrderRecord => dcm("110109", "Order Record"),
            EventId::SecurityAlert => dcm("110113", "Security Alert"),
            EventId::UserAuthentication => dcm("110114", "User Authentication"),
            EventId::ApplicationActivity => dcm("110100", "Application Activity"),
        }
    }
}

/// EventActionCode (PS3.15 A.5.1): create, read, update, delete, execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionCode {
    /// C.
    Create,
    /// R.
    Read,
    /// U.
    Update,
    /// E.
    Execute,
}

impl ActionCode {
    /// The letter.
    pub fn letter(self) -> &'static str {
        match self {
            ActionCode::Create => "C",
            ActionCode::Read => "R",
            ActionCode::Update => "U",
            ActionCode::Execute => "E",
        }
    }
}

/// EventOutcomeIndicator (PS3.15 A.5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: success.
    Success,
    /// 4: minor failure (the hub refused the request).
    Refused,
}

impl Outcome {
    /// The number.
    pub fn number(self) -> &'static str {
        match self {
            Outcome::Success => "0",
            Outcome::Refused => "4",
        }
    }
}

/// What an audit action is as a DICOM audit event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventKind {
    /// EventID.
    pub id: EventId,
    /// EventActionCode.
    pub action: ActionCode,
    /// EventOutcomeIndicator.
    pub outcome: Outcome,
    /// An EventTypeCode from PS3.16 CID 401 (security alerts, authentication), if one fits.
    pub type_code: Option<Code>,
}

const fn kind(id: EventId, action: ActionCode) -> EventKind {
    EventKind {
        id,
        action,
        outcome: Outcome::Success,
        type_code: None,
    }
}

const fn refused(id: EventId, action: ActionCode, type_code: Option<Code>) -> EventKind {
    EventKind {
        id,
        action,
        outcome: Outcome::Refused,
        type_code,
    }
}

/// Every action the hub writes to its audit trail, with its event. An action not listed here is
/// exported as Application Activity (and the unit test below fails, so that it gets a row).
pub const ACTIONS: &[(&str, EventKind)] = {
    use ActionCode::{Create, Execute, Read, Update};
    use EventId::*;
    const USER_ATTRS: Code = dcm("110137", "User Security Attributes Changed");
    const ROLES: Code = dcm("110136", "Security Roles Changed");
    const RESTRICTED: Code = dcm("110132", "Use of Restricted Function");
    const NODE_AUTH: Code = dcm("110126", "Node Authentication");
    const LOGIN: Code = dcm("110122", "Login");
    const LOGOUT: Code = dcm("110123", "Logout");
    &[
        ("upload", kind(InstancesTransferred, Create)),
        ("received", kind(InstancesTransferred, Create)),
        (
            "instances_after_signing",
            kind(InstancesTransferred, Create),
        ),
        ("case_created", kind(OrderRecord, Create)),
        ("claim", kind(OrderRecord, Update)),
        ("renew", kind(OrderRecord, Update)),
        ("release", kind(OrderRecord, Update)),
        ("queue_skip", kind(OrderRecord, Update)),
        ("claim_expired", kind(OrderRecord, Update)),
        ("view", kind(InstancesAccessed, Read)),
        ("view_refused", refused(InstancesAccessed, Read, None)),
        ("queue_read", kind(Query, Execute)),
        ("dicomweb_search", kind(Query, Execute)),
        ("cases_read", kind(Query, Execute)),
        ("reports_read", kind(Query, Execute)),
        ("report_delivered", kind(PatientRecord, Read)),
        ("report", kind(PatientRecord, Create)),
        ("sign", kind(PatientRecord, Update)),
        ("report_signed", kind(PatientRecord, Update)),
        ("amend", kind(PatientRecord, Update)),
        ("recognition_check", kind(Query, Execute)),
        ("recognition_hint", kind(Query, Execute)),
        ("recognition_check_refused", refused(Query, Execute, None)),
        ("recognition_accept", kind(PatientRecord, Create)),
        ("recognition_decline", kind(PatientRecord, Create)),
        ("recognition_reverse", kind(PatientRecord, Update)),
        ("mixup_suspected", kind(PatientRecord, Update)),
        ("mixup_resolved", kind(PatientRecord, Update)),
        ("session_start", login(LOGIN)),
        ("session_end", login(LOGOUT)),
        ("user_add", sec(USER_ATTRS)),
        ("user_disable", sec(USER_ATTRS)),
        ("user_set_role", sec(ROLES)),
        ("user_move", sec(USER_ATTRS)),
        (
            "job_refused",
            refused(SecurityAlert, Execute, Some(RESTRICTED)),
        ),
        (
            "certificate_refused",
            refused(UserAuthentication, Execute, Some(NODE_AUTH)),
        ),
    ]
};

const fn sec(type_code: Code) -> EventKind {
    EventKind {
        id: EventId::SecurityAlert,
        action: ActionCode::Execute,
        outcome: Outcome::Success,
        type_code: Some(type_code),
    }
}

/// A browser's sign-in or sign-out (PS3.15 A.5.3.13 User Authentication, typed Login/Logout).
const fn login(type_code: Code) -> EventKind {
    EventKind {
        id: EventId::UserAuthentication,
        action: ActionCode::Execute,
        outcome: Outcome::Success,
        type_code: Some(type_code),
    }
}

/// The event `action` is reported as.
pub fn event_of(action: &str) -> EventKind {
    ACTIONS.iter().find(|(a, _)| *a == action).map_or(
        kind(EventId::ApplicationActivity, ActionCode::Execute),
        |(_, k)| *k,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every action string the domain passes to the audit trail (`audit::record(.., "x", ..)`,
    /// `audit_listing(.., "x", ..)` and the report actions) has its own row in [`ACTIONS`].
    #[test]
    fn every_audited_action_has_an_event() {
        let domain = concat!(env!("CARGO_MANIFEST_DIR"), "/src/domain");
        let mut missing = Vec::new();
        for path in rust_files(std::path::Path::new(domain)) {
            let text = std::fs::read_to_string(&path).unwrap();
            for action in audited_literals(&text) {
                if !ACTIONS.iter().any(|(a, _)| *a == action) {
                    missing.push(format!("{action} ({})", path.display()));
                }
            }
        }
        assert!(
            missing.is_empty(),
            "audit actions without a DICOM event: {missing:?}"
        );
    }

    fn rust_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.ends_with("audit_export") {
                continue; // this module's own examples
            }
            if path.is_dir() {
                out.extend(rust_files(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
        out
    }

    /// The string literals among the first few arguments of audit calls in `text`.
    fn audited_literals(text: &str) -> Vec<String> {
        let mut found = Vec::new();
        for call in ["record(", "audit_listing("] {
            for (at, _) in text.match_indices(call) {
                let window: String = text[at..].chars().take(160).collect();
                if let Some(lit) = window.split('"').nth(1) {
                    let is_action =
                        !lit.is_empty() && lit.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                    if is_action {
                        found.push(lit.to_owned());
                    }
                }
            }
        }
        found
    }

    #[test]
    fn refusals_are_failures_and_reads_are_reads() {
        assert_eq!(event_of("view_refused").outcome, Outcome::Refused);
        assert_eq!(event_of("view").id, EventId::InstancesAccessed);
        assert_eq!(event_of("view").action, ActionCode::Read);
        assert_eq!(event_of("upload").id.code().code, "110104");
        assert_eq!(event_of("no such action").id, EventId::ApplicationActivity);
    }
}
