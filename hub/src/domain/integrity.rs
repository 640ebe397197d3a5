//! Tamper evidence: walking the hash chains over the audit trail, report versions and the ledger.
//!
//! [`verify`] recomputes every link with the integrity key and names the first break of each
//! chain: a row whose content changed (and which columns), a row deleted, a link forged or
//! missing, a row that no link covers (inserted behind the hub's back), a head that does not
//! match the last link. The hub runs it at every start and refuses to serve a broken chain
//! (see [`crate::startup`]); `hub verify` prints it. [`backfill`] links, once, the rows written
//! before the chains existed.

use std::collections::HashMap;
use std::fmt;

use crate::storage::chain::{self, Chain, ChainKey, Link};
use crate::storage::{Row, SqlTx, StorageError, Store};

/// Links fetched per round while walking a chain.
const PAGE: i64 = 1000;

/// The first thing found wrong with a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// The row's content is not what was linked: it was edited after it was written.
    RowChanged {
        /// The link's position.
        seq: i64,
        /// The row.
        row_id: i64,
        /// The columns whose values differ (empty if the per-column tags were edited too).
        columns: Vec<&'static str>,
    },
    /// The linked row is gone.
    RowMissing {
        /// The link's position.
        seq: i64,
        /// The row that was linked.
        row_id: i64,
    },
    /// The link's MAC is wrong: the link was edited, moved or forged.
    LinkForged {
        /// The link's position.
        seq: i64,
        /// The row it links.
        row_id: i64,
    },
    /// A link is missing: the chain jumps from `after` to `found`.
    Gap {
        /// The last good link.
        after: i64,
        /// The next link found.
        found: i64,
    },
    /// A row no link covers: inserted outside the hub.
    Unlinked {
        /// The row.
        row_id: i64,
    },
    /// The head does not name the last link: links were removed from the end.
    Head {
        /// What the head says.
        head_seq: i64,
        /// The last link found.
        last_seq: i64,
    },
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Break::RowChanged {
                seq,
                row_id,
                columns,
            } if columns.is_empty() => write!(
                f,
                "row id {row_id} (link {seq}) was changed after it was written"
            ),
            Break::RowChanged {
                seq,
                row_id,
                columns,
            } => write!(
                f,
                "row id {row_id} (link {seq}) was changed after it was written: {} differ{}",
                columns.join(", "),
                if columns.len() == 1 { "s" } else { "" }
            ),
            Break::RowMissing { seq, row_id } => {
                write!(f, "row id {row_id} (link {seq}) was deleted")
            }
            Break::LinkForged { seq, row_id } => write!(
                f,
                "link {seq} (row id {row_id}) does not follow from the link before it: edited or forged"
            ),
            Break::Gap { after, found } => write!(
                f,
                "links after {after} are missing (the next one is {found}): rows were deleted"
            ),
            Break::Unlinked { row_id } => write!(
                f,
                "row id {row_id} is in no link: it was inserted outside the hub"
            ),
            Break::Head { head_seq, last_seq } => write!(
                f,
                "the chain's head names link {head_seq} but the last link is {last_seq}: links were removed from the end"
            ),
        }
    }
}

/// What [`verify`] found on one chain.
#[derive(Debug, Clone)]
pub struct ChainReport {
    /// Which chain.
    pub chain: Chain,
    /// Links walked.
    pub links: i64,
    /// The first break, if any.
    pub broken: Option<Break>,
}

impl fmt::Display for ChainReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, table) = (self.chain.name(), self.chain.table());
        match &self.broken {
            None => write!(f, "{name}: {} links, intact", self.links),
            Some(b) => write!(f, "{name}: BROKEN in table {table}: {b}"),
        }
    }
}

/// Walks every chain; one report per chain.
pub async fn verify(store: &Store) -> Result<Vec<ChainReport>, StorageError> {
    let mut reports = Vec::new();
    for chain in Chain::ALL {
        let mut tx = store.scan().await?;
        reports.push(verify_chain(tx.as_mut(), store.chain_key(), chain).await?);
    }
    Ok(reports)
}

impl super::Hub {
    /// Walks every chain of this hub's index, as `hub verify` does: an operator's act on the
    /// records as a whole, which reads no clinical content out (a report names tables, row ids
    /// and columns only).
    pub async fn verify_chains(&self) -> Result<Vec<ChainReport>, StorageError> {
        verify(self.store()).await
    }
}

/// Walks one chain in a consistent snapshot.
pub async fn verify_chain(
    tx: &mut dyn SqlTx,
    key: &ChainKey,
    chain: Chain,
) -> Result<ChainReport, StorageError> {
    let mut walk = Walk {
        chain,
        key,
        seq: 0,
        mac: String::new(),
    };
    let broken = walk_links(tx, &mut walk).await?;
    let broken = match broken {
        Some(b) => Some(b),
        None => check_ends(tx, &walk).await?,
    };
    Ok(ChainReport {
        chain,
        links: walk.seq,
        broken,
    })
}

struct Walk<'a> {
    chain: Chain,
    key: &'a ChainKey,
    /// The last good link's seq and MAC.
    seq: i64,
    mac: String,
}

async fn walk_links(tx: &mut dyn SqlTx, w: &mut Walk<'_>) -> Result<Option<Break>, StorageError> {
    loop {
        let links = chain::links(tx, w.chain, w.seq, PAGE).await?;
        if links.is_empty() {
            return Ok(None);
        }
        let ids: Vec<i64> = links.iter().map(|l| l.row_id).collect();
        let rows: HashMap<i64, Row> = chain::rows(tx, w.chain, &ids)
            .await?
            .into_iter()
            .map(|r| (r.int(0), r))
            .collect();
        for link in &links {
            if let Some(b) = check_link(w, link, rows.get(&link.row_id)) {
                return Ok(Some(b));
            }
            w.seq = link.seq;
            w.mac.clone_from(&link.mac);
        }
    }
}

fn check_link(w: &Walk<'_>, link: &Link, row: Option<&Row>) -> Option<Break> {
    let (seq, row_id) = (link.seq, link.row_id);
    if seq != w.seq + 1 {
        return Some(Break::Gap {
            after: w.seq,
            found: seq,
        });
    }
    let Some(row) = row else {
        return Some(Break::RowMissing { seq, row_id });
    };
    if w.key.row_mac(w.chain, row) != link.row_mac {
        return Some(Break::RowChanged {
            seq,
            row_id,
            columns: changed_columns(w, link, row),
        });
    }
    if w.key.link_mac(w.chain, seq, row_id, &link.row_mac, &w.mac) != link.mac {
        return Some(Break::LinkForged { seq, row_id });
    }
    None
}

fn changed_columns(w: &Walk<'_>, link: &Link, row: &Row) -> Vec<&'static str> {
    let stored: Vec<&str> = link.column_tags.split(',').collect();
    w.chain
        .columns()
        .iter()
        .zip(&row.0)
        .enumerate()
        .filter(|(i, (col, v))| stored.get(*i) != Some(&w.key.column_tag(w.chain, col, v).as_str()))
        .map(|(_, (col, _))| *col)
        .collect()
}

/// After the last link: the head must name it, and every row must be linked.
async fn check_ends(tx: &mut dyn SqlTx, w: &Walk<'_>) -> Result<Option<Break>, StorageError> {
    let head = chain::head(tx, w.chain).await?;
    if head.seq != w.seq || head.mac != w.mac {
        return Ok(Some(Break::Head {
            head_seq: head.seq,
            last_seq: w.seq,
        }));
    }
    // Rows from before the chains are linked at the first start; until then only they may be
    // unlinked.
    let unlinked = chain::unlinked(tx, w.chain, i64::MAX, 1).await?;
    Ok(unlinked
        .into_iter()
        .find(|&id| head.backfilled || id > head.backfill_to)
        .map(|row_id| Break::Unlinked { row_id }))
}

/// Links the rows written before the chains existed (ids up to the head's `backfill_to`), in id
/// order, once: returns how many it linked.
pub async fn backfill(store: &Store) -> Result<i64, StorageError> {
    let mut total = 0;
    for chain in Chain::ALL {
        let mut tx = store.write().await?;
        let head = chain::head(tx.as_mut(), chain).await?;
        if head.backfilled {
            continue;
        }
        // Linked when the transaction commits, in id order.
        let ids = chain::unlinked(tx.as_mut(), chain, head.backfill_to, i64::MAX).await?;
        for &id in &ids {
            chain::append(tx.as_mut(), chain, id).await?;
        }
        total += ids.len() as i64;
        chain::mark_backfilled(tx.as_mut(), chain).await?;
        tx.commit().await?;
    }
    Ok(total)
}
