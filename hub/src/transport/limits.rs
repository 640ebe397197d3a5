//! How many connections a listener keeps open: in all, and from one IP address.
//!
//! Both listeners (gRPC and DICOM) count their connections here before anything is read from
//! them, so a handful of silent or hostile peers cannot exhaust the hub's sockets or memory. The
//! DICOM association limit (`dicom.max_associations`) is taken only later, once the AE titles
//! are accepted; gRPC connections that stay silent are closed after `grpc.idle_timeout`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

/// Counts open connections, in all and per IP address.
#[derive(Debug)]
pub struct ConnectionLimits {
    total: usize,
    per_ip: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// Why a connection was not admitted.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The listener's `max_connections` connections are open.
    Total(usize),
    /// Its `max_connections_per_ip` connections are open from this address.
    PerIp(usize),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Total(n) => write!(f, "{n} connections are open (max_connections)"),
            Refused::PerIp(n) => write!(
                f,
                "{n} connections are open from this address (max_connections_per_ip)"
            ),
        }
    }
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub struct Admitted {
    limits: Arc<ConnectionLimits>,
    ip: IpAddr,
}

impl ConnectionLimits {
    /// Limits of `total` connections, `per_ip` of them from one address.
    pub fn new(total: usize, per_ip: usize) -> Arc<Self> {
        Arc::new(ConnectionLimits {
            total,
            per_ip,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Admits a connection from `ip`, or says which limit it would pass.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Admitted, Refused> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let total: usize = open.values().sum();
        if total >= self.total {
            return Err(Refused::Total(self.total));
        }
        let from_ip = open.entry(ip).or_insert(0);
        if *from_ip >= self.per_ip {
            return Err(Refused::PerIp(self.per_ip));
        }
        *from_ip += 1;
        Ok(Admitted {
            limits: Arc::clone(self),
            ip,
        })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn one_address_cannot_take_more_than_its_share() {
        let limits = ConnectionLimits::new(10, 2);
        let a = limits.admit(ip(1)).unwrap();
        let _b = limits.admit(ip(1)).unwrap();
        assert_eq!(limits.admit(ip(1)).unwrap_err(), Refused::PerIp(2));
        // Another address still gets in.
        let _c = limits.admit(ip(2)).unwrap();
        drop(a);
        assert!(limits.admit(ip(1)).is_ok());
    }

    #[test]
    fn the_total_holds_across_addresses_and_places_are_given_back() {
        let limits = ConnectionLimits::new(3, 2);
        let held: Vec<_> = (1..=3).map(|i| limits.admit(ip(i)).unwrap()).collect();
        assert_eq!(limits.admit(ip(4)).unwrap_err(), Refused::Total(3));
        drop(held);
        assert!(limits.open.lock().unwrap().is_empty());
        assert!(limits.admit(ip(4)).is_ok());
    }
}
