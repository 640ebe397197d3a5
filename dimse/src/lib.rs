//! The parts of the DICOM upper layer (PS3.8) and DIMSE (PS3.7) that the hub's DICOM listener
//! parses from bytes a modality (or anyone who can reach the port) sends, kept free of I/O and of
//! the hub so that they can be tested and fuzzed on their own (`dimse/fuzz`).
//!
//! - [`pdu`]: cutting one PDU off a receive buffer, with the length announced in its header
//!   checked against the largest PDU the hub accepts before any of it is held.
//! - [`command`]: command sets (Implicit VR Little Endian, group 0000 only): parsing requests,
//!   writing responses, assembling a command from its fragments within a cap, and the SOP class and
//!   transfer syntax constants the listener negotiates with.

pub mod command;
pub mod pdu;

pub use command::{Command, CommandError, parse_command, push_fragment};
pub use pdu::{PduError, take_pdu};
