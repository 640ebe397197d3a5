//! A structural checker of received messages: the RFC 5424 header, the hub's structured data, and
//! the DICOM audit message (PS3.15 A.5.1): element order, required attributes and coded values.

use quick_xml::Reader;
use quick_xml::events::Event;

/// What a received message says.
#[derive(Debug, Clone)]
pub struct Record {
    /// The audit chain link it carries.
    pub seq: i64,
    /// EventID's code.
    pub event_id: String,
    /// EventOutcomeIndicator.
    pub outcome: String,
    /// The case it names, if any.
    pub case_id: Option<i64>,
}

/// An XML element: its name, attributes and child elements (text is not used by the format).
#[derive(Debug, Default)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    children: Vec<Node>,
}

impl Node {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn need(&self, name: &str) -> Result<&str, String> {
        self.attr(name)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("<{}> lacks its required attribute {name}", self.name))
    }

    fn children(&self, name: &str) -> impl Iterator<Item = &Node> {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// Checks `line` (one message as rsyslog received it) and returns what it says.
pub fn parse(line: &str) -> Result<Record, String> {
    let (header, xml) = line
        .split_once(" \u{feff}")
        .ok_or("no space and byte-order mark before the message (RFC 5424 MSG)")?;
    let seq = check_header(header)?;
    let root = parse_xml(xml)?;
    let (event_id, outcome) = check_audit_message(&root)?;
    let case_id = root
        .children("ParticipantObjectIdentification")
        .find(|p| {
            p.children("ParticipantObjectIDTypeCode")
                .any(|c| c.attr("csd-code") == Some("case"))
        })
        .and_then(|p| p.attr("ParticipantObjectID")?.parse().ok());
    Ok(Record {
        seq,
        event_id,
        outcome,
        case_id,
    })
}

/// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD]`: returns the link number in the SD.
fn check_header(header: &str) -> Result<i64, String> {
    let rest = header.strip_prefix('<').ok_or("no PRI")?;
    let (pri, rest) = rest.split_once('>').ok_or("PRI not closed")?;
    let pri: u8 = pri.parse().map_err(|_| format!("PRI {pri:?}"))?;
    if pri / 8 != 10 || pri > 191 {
        return Err(format!(
            "PRI {pri}: not facility 10 (security/authorization)"
        ));
    }
    let mut fields = rest.splitn(7, ' ');
    let mut next = |what: &str| fields.next().ok_or(format!("no {what}"));
    let (version, ts) = (next("VERSION")?, next("TIMESTAMP")?);
    let (host, app, procid, msgid) = (
        next("HOSTNAME")?,
        next("APP-NAME")?,
        next("PROCID")?,
        next("MSGID")?,
    );
    let sd = next("STRUCTURED-DATA")?;
    if version != "1" {
        return Err(format!("VERSION {version:?}"));
    }
    let ts_ok = ts.len() >= 20 && ts.as_bytes()[10] == b'T' && ts.ends_with('Z');
    if !ts_ok {
        return Err(format!("TIMESTAMP {ts:?}"));
    }
    for (what, v, max) in [
        ("HOSTNAME", host, 255),
        ("APP-NAME", app, 48),
        ("PROCID", procid, 128),
        ("MSGID", msgid, 32),
    ] {
        if v.is_empty() || v.len() > max || !v.bytes().all(|b| (33..=126).contains(&b)) {
            return Err(format!("{what} {v:?}"));
        }
    }
    if msgid != "DICOM+RFC3881" {
        return Err(format!("MSGID {msgid:?}"));
    }
    let params = sd
        .strip_prefix("[remotedx@32473 ")
        .and_then(|s| s.strip_suffix(']'))
        .ok_or(format!("STRUCTURED-DATA {sd:?}"))?;
    let param = |name: &str| {
        params
            .split(' ')
            .find_map(|p| p.strip_prefix(&format!("{name}=\"")))
            .and_then(|v| v.strip_suffix('"'))
            .ok_or(format!("no {name} in {sd:?}"))
    };
    if param("mac")?.len() != 64 || param("row")?.parse::<i64>().is_err() {
        return Err(format!("mac or row in {sd:?}"));
    }
    param("seq")?.parse().map_err(|_| format!("seq in {sd:?}"))
}

/// The element tree of `xml` (well-formed, or an error).
fn parse_xml(xml: &str) -> Result<Node, String> {
    let mut reader = Reader::from_str(xml);
    // The document node at the bottom; each open element above it.
    let mut stack: Vec<Node> = vec![Node::default()];
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("not well-formed XML: {e}"))?;
        match event {
            Event::Start(e) => stack.push(element(&e)?),
            Event::Empty(e) => {
                let node = element(&e)?;
                stack.last_mut().expect("document node").children.push(node);
            }
            Event::End(_) => {
                let node = stack.pop().expect("an open element");
                stack
                    .last_mut()
                    .ok_or("unbalanced end tag")?
                    .children
                    .push(node);
            }
            Event::Text(t) if !t.iter().all(u8::is_ascii_whitespace) => {
                return Err("text outside the audit message's elements".into());
            }
            Event::Eof => break,
            _ => {}
        }
    }
    let mut document = stack.pop().ok_or("empty")?;
    if !stack.is_empty() || document.children.len() != 1 {
        return Err("not exactly one root element".into());
    }
    Ok(document.children.remove(0))
}

fn element(e: &quick_xml::events::BytesStart<'_>) -> Result<Node, String> {
    let mut node = Node {
        name: String::from_utf8_lossy(e.name().as_ref()).into_owned(),
        ..Node::default()
    };
    for a in e.attributes() {
        let a = a.map_err(|e| format!("bad attribute: {e}"))?;
        let value = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| format!("bad attribute value: {e}"))?;
        let key = String::from_utf8_lossy(a.key.as_ref()).into_owned();
        if node.attr(&key).is_some() {
            return Err(format!("attribute {key} twice on <{}>", node.name));
        }
        node.attrs.push((key, value.into_owned()));
    }
    Ok(node)
}

/// The elements of AuditMessage in the order PS3.15 A.5.1 gives them, with how many may occur.
const ORDER: [(&str, usize, usize); 4] = [
    ("EventIdentification", 1, 1),
    ("ActiveParticipant", 1, usize::MAX),
    ("AuditSourceIdentification", 1, 1),
    ("ParticipantObjectIdentification", 0, usize::MAX),
];

/// Checks the audit message; returns its EventID code and outcome.
fn check_audit_message(root: &Node) -> Result<(String, String), String> {
    if root.name != "AuditMessage" {
        return Err(format!("root element <{}>, not <AuditMessage>", root.name));
    }
    let names: Vec<&str> = root.children.iter().map(|c| c.name.as_str()).collect();
    let mut at = 0;
    for (name, min, max) in ORDER {
        let n = names[at..].iter().take_while(|c| **c == name).count();
        if n < min || n > max {
            return Err(format!(
                "{n} <{name}> where {min} to {max} belong: {names:?}"
            ));
        }
        at += n;
    }
    if at != names.len() {
        return Err(format!("unexpected or misplaced elements: {names:?}"));
    }
    let event = &root.children[0];
    let outcome = check_event(event)?;
    for p in root.children("ActiveParticipant") {
        check_participant(p)?;
    }
    let requestors = root
        .children("ActiveParticipant")
        .filter(|p| p.attr("UserIsRequestor") == Some("true"))
        .count();
    if requestors != 1 {
        return Err(format!("{requestors} requesting participants"));
    }
    let source = root
        .children("AuditSourceIdentification")
        .next()
        .expect("counted");
    source.need("AuditSourceID")?;
    for c in source.children("AuditSourceTypeCode") {
        coded(c)?;
    }
    for p in root.children("ParticipantObjectIdentification") {
        check_object(p)?;
    }
    let id = event.children("EventID").next().expect("checked");
    Ok((id.need("csd-code")?.to_owned(), outcome))
}

/// EventIdentification: its attributes and one coded EventID first; returns the outcome.
fn check_event(event: &Node) -> Result<String, String> {
    let action = event.need("EventActionCode")?;
    if !["C", "R", "U", "D", "E"].contains(&action) {
        return Err(format!("EventActionCode {action:?}"));
    }
    let when = event.need("EventDateTime")?;
    if when.len() < 19 || when.as_bytes()[10] != b'T' {
        return Err(format!("EventDateTime {when:?}"));
    }
    let outcome = event.need("EventOutcomeIndicator")?;
    if !["0", "4", "8", "12"].contains(&outcome) {
        return Err(format!("EventOutcomeIndicator {outcome:?}"));
    }
    match event.children.first() {
        Some(first) if first.name == "EventID" => coded(first)?,
        _ => return Err("EventIdentification does not start with EventID".into()),
    }
    for c in &event.children[1..] {
        if !["EventTypeCode", "EventOutcomeDescription", "PurposeOfUse"].contains(&c.name.as_str())
        {
            return Err(format!("<{}> inside EventIdentification", c.name));
        }
        if c.name != "EventOutcomeDescription" {
            coded(c)?;
        }
    }
    Ok(outcome.to_owned())
}

fn check_participant(p: &Node) -> Result<(), String> {
    p.need("UserID")?;
    let requestor = p.need("UserIsRequestor")?;
    if requestor != "true" && requestor != "false" {
        return Err(format!("UserIsRequestor {requestor:?}"));
    }
    if let Some(t) = p.attr("NetworkAccessPointTypeCode")
        && (!["1", "2", "3", "4", "5"].contains(&t) || p.attr("NetworkAccessPointID").is_none())
    {
        return Err(format!(
            "NetworkAccessPointTypeCode {t:?} without a valid ID"
        ));
    }
    for c in &p.children {
        if c.name != "RoleIDCode" && c.name != "MediaIdentifier" {
            return Err(format!("<{}> inside ActiveParticipant", c.name));
        }
        if c.name == "RoleIDCode" {
            coded(c)?;
        }
    }
    Ok(())
}

fn check_object(p: &Node) -> Result<(), String> {
    p.need("ParticipantObjectID")?;
    if let Some(t) = p.attr("ParticipantObjectTypeCode")
        && !["1", "2", "3", "4"].contains(&t)
    {
        return Err(format!("ParticipantObjectTypeCode {t:?}"));
    }
    if let Some(r) = p.attr("ParticipantObjectTypeCodeRole")
        && !r.parse::<u8>().is_ok_and(|r| (1..=24).contains(&r))
    {
        return Err(format!("ParticipantObjectTypeCodeRole {r:?}"));
    }
    match p.children.first() {
        Some(first) if first.name == "ParticipantObjectIDTypeCode" => coded(first),
        _ => Err(
            "ParticipantObjectIdentification does not start with ParticipantObjectIDTypeCode"
                .into(),
        ),
    }
}

/// A coded value: csd-code, codeSystemName and originalText, each non-empty.
fn coded(c: &Node) -> Result<(), String> {
    for a in ["csd-code", "codeSystemName", "originalText"] {
        c.need(a)?;
    }
    Ok(())
}
