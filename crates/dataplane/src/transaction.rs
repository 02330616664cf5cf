//! Transactions: a copy of the configuration that collects changes and is
//! committed as one. Each open transaction is the file `ID.cfg` in the
//! transaction directory (its `# _version` line is the version it started
//! from) and the journal `ID.journal` of the changes made since that file
//! was written; a failed one becomes `ID.failed.cfg`. All survive restarts.
//!
//! A change costs what it changes, not the file: the journal gets one
//! record (the bytes of the sections the change touched, and where they
//! go), appended and synced before the change is answered. When the
//! journal grows past the file, the file is rewritten and the journal
//! starts again. The journal names the file it applies to by its
//! checksum, so a crash between the two writes cannot apply it twice, and
//! each record carries its own checksum, so a record torn by a crash is
//! not applied (its change was never answered).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use haplane_cfg::Document;

use crate::error::DataplaneError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    InProgress,
    Failed,
    /// Started on a version that is no longer the current one.
    Outdated,
    Success,
}

impl TransactionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::InProgress => "in_progress",
            TransactionStatus::Failed => "failed",
            TransactionStatus::Outdated => "outdated",
            TransactionStatus::Success => "success",
        }
    }

    pub fn parse(text: &str) -> Option<TransactionStatus> {
        [
            Self::InProgress,
            Self::Failed,
            Self::Outdated,
            Self::Success,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// What the API shows of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransactionInfo {
    pub id: String,
    /// The configuration version it started from.
    pub version: u64,
    pub status: TransactionStatus,
}

#[derive(Debug)]
pub(crate) struct Transaction {
    pub(crate) doc: Document,
    pub(crate) base_version: u64,
    /// InProgress, Failed or Success; Outdated is derived.
    stored: TransactionStatus,
    id: String,
    /// The size of `ID.cfg` and of `ID.journal`, which grows until it
    /// passes the file's.
    base_len: u64,
    journal_len: u64,
}

impl Transaction {
    pub(crate) fn info(&self, current: u64) -> TransactionInfo {
        let status = match self.stored {
            TransactionStatus::InProgress if self.base_version != current => {
                TransactionStatus::Outdated
            }
            s => s,
        };
        TransactionInfo {
            id: self.id.clone(),
            version: self.base_version,
            status,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Transactions {
    by_id: BTreeMap<String, Transaction>,
}

fn file(dir: &Path, id: &str, failed: bool) -> PathBuf {
    dir.join(if failed {
        format!("{id}.failed.cfg")
    } else {
        format!("{id}.cfg")
    })
}

fn journal_file(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}.journal"))
}

/// The first line of a journal; the SHA-256 of the file it applies to
/// follows.
const JOURNAL_MAGIC: &[u8] = b"haplane transaction journal 1\n";
const DIGEST_LEN: usize = 32;
/// Each record ends with this much of its payload's SHA-256.
const RECORD_SUM: usize = 8;
/// The journal is folded into the file when it is larger than the file
/// and than this.
const MIN_COMPACT: u64 = 1 << 20;

fn sha256(bytes: &[u8]) -> ring::digest::Digest {
    ring::digest::digest(&ring::digest::SHA256, bytes)
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> DataplaneError + '_ {
    move |e| DataplaneError::io(path.display(), e)
}

/// Writes a transaction's file and an empty journal for it, each
/// atomically, with the mode, owner and group of the configuration it
/// copies (`like`). The file first: a crash between the two leaves the
/// old journal, which names the old file and is not applied.
fn write_base(dir: &Path, id: &str, bytes: &[u8], like: &Path) -> Result<u64, DataplaneError> {
    let path = file(dir, id, false);
    crate::commit::write_atomic_like(&path, bytes, like).map_err(io_error(&path))?;
    let mut header = JOURNAL_MAGIC.to_vec();
    header.extend_from_slice(sha256(bytes).as_ref());
    let journal = journal_file(dir, id);
    crate::commit::write_atomic_like(&journal, &header, like).map_err(io_error(&journal))?;
    Ok(header.len() as u64)
}

/// One record: the change from `before` to `after` as a splice of the
/// file's bytes (offset, how many bytes go, the bytes that come), or None
/// when they are the same.
fn record(before: &Document, after: &Document) -> Option<Vec<u8>> {
    let change = after.section_change(before);
    if change.drop == 0 && change.inserted.is_empty() {
        return None;
    }
    let offset: usize = (0..change.keep).map(|i| before.section_len(i)).sum();
    let dropped: usize = (change.keep..change.keep + change.drop)
        .map(|i| before.section_len(i))
        .sum();
    let mut payload = Vec::new();
    payload.extend_from_slice(&(offset as u64).to_le_bytes());
    payload.extend_from_slice(&(dropped as u64).to_le_bytes());
    for i in change.inserted {
        payload.extend_from_slice(&after.section_bytes(i));
    }
    let mut out = Vec::with_capacity(payload.len() + 8 + RECORD_SUM);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&sha256(&payload).as_ref()[..RECORD_SUM]);
    Some(out)
}

/// What a journal read back holds.
struct Replayed {
    /// The file with the journal's records applied.
    bytes: Vec<u8>,
    applied: usize,
    /// Whether every byte of the journal was a record of this file: else
    /// it names another file, or a crash tore its last record, and it
    /// must not be appended to.
    whole: bool,
}

/// Applies a journal's records to its file. A journal of another file, or
/// records from the first torn one on, are left out.
fn replay(base: &[u8], journal: &[u8]) -> Replayed {
    let mut bytes = base.to_vec();
    let Some(rest) = journal
        .strip_prefix(JOURNAL_MAGIC)
        .filter(|rest| rest.len() >= DIGEST_LEN && rest[..DIGEST_LEN] == *sha256(base).as_ref())
    else {
        return Replayed {
            bytes,
            applied: 0,
            whole: false,
        };
    };
    let mut rest = &rest[DIGEST_LEN..];
    let mut applied = 0;
    let u64_at = |b: &[u8]| u64::from_le_bytes(b[..8].try_into().expect("8 bytes")) as usize;
    while rest.len() >= 8 {
        let len = u64_at(rest);
        // A length torn by a crash may be anything: it must not overflow.
        let Some(end) = len.checked_add(8).filter(|_| len >= 16) else {
            break;
        };
        let Some(payload) = rest.get(8..end) else {
            break;
        };
        let Some(sum) = rest.get(end..).and_then(|r| r.get(..RECORD_SUM)) else {
            break;
        };
        if sum != &sha256(payload).as_ref()[..RECORD_SUM] {
            break;
        }
        let (offset, dropped) = (u64_at(payload), u64_at(&payload[8..]));
        if offset
            .checked_add(dropped)
            .is_none_or(|end| end > bytes.len())
        {
            break;
        }
        bytes.splice(offset..offset + dropped, payload[16..].iter().copied());
        applied += 1;
        rest = &rest[end + RECORD_SUM..];
    }
    Replayed {
        bytes,
        applied,
        whole: rest.is_empty(),
    }
}

/// Appends a record to a journal and syncs it.
fn append(path: &Path, record: &[u8]) -> Result<(), DataplaneError> {
    let mut journal = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(io_error(path))?;
    journal.write_all(record).map_err(io_error(path))?;
    journal.sync_data().map_err(io_error(path))
}

impl Transactions {
    /// Reads the transactions left in `dir`. An open one's journal is
    /// folded into its file.
    pub(crate) fn load(dir: &Path, like: &Path) -> Result<Transactions, DataplaneError> {
        let mut out = Transactions::default();
        let entries = std::fs::read_dir(dir).map_err(io_error(dir))?;
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let (id, stored) = if let Some(id) = name.strip_suffix(".failed.cfg") {
                (id, TransactionStatus::Failed)
            } else if let Some(id) = name.strip_suffix(".cfg") {
                (id, TransactionStatus::InProgress)
            } else {
                continue;
            };
            let Ok(mut bytes) = std::fs::read(entry.path()) else {
                continue;
            };
            let (mut base_len, mut journal_len) = (bytes.len() as u64, 0);
            if stored == TransactionStatus::InProgress {
                let journal = std::fs::read(journal_file(dir, id)).unwrap_or_default();
                let replayed = replay(&bytes, &journal);
                if replayed.applied > 0 || !replayed.whole {
                    bytes = replayed.bytes;
                    journal_len = write_base(dir, id, &bytes, like)?;
                    base_len = bytes.len() as u64;
                } else {
                    journal_len = journal.len() as u64;
                }
            }
            let doc = Document::parse(bytes);
            let base_version = doc.version().unwrap_or(1);
            out.by_id.insert(
                id.to_owned(),
                Transaction {
                    doc,
                    base_version,
                    stored,
                    id: id.to_owned(),
                    base_len,
                    journal_len,
                },
            );
        }
        Ok(out)
    }

    pub(crate) fn count(&self, status: TransactionStatus, current: u64) -> usize {
        self.by_id
            .values()
            .filter(|t| t.info(current).status == status)
            .count()
    }

    /// Starts a transaction on `doc`; its file takes the mode, owner and
    /// group of `like`, the configuration file.
    pub(crate) fn start(
        &mut self,
        dir: &Path,
        like: &Path,
        doc: Document,
        version: u64,
    ) -> Result<TransactionInfo, DataplaneError> {
        let id = uuid::Uuid::new_v4().to_string();
        let bytes = doc.to_bytes();
        let journal_len = write_base(dir, &id, &bytes, like)?;
        let t = Transaction {
            doc,
            base_version: version,
            stored: TransactionStatus::InProgress,
            id: id.clone(),
            base_len: bytes.len() as u64,
            journal_len,
        };
        let info = t.info(version);
        self.by_id.insert(id, t);
        Ok(info)
    }

    pub(crate) fn list(&self, current: u64) -> Vec<TransactionInfo> {
        self.by_id.values().map(|t| t.info(current)).collect()
    }

    pub(crate) fn get(&self, id: &str) -> Result<&Transaction, DataplaneError> {
        self.by_id
            .get(id)
            .ok_or_else(|| DataplaneError::TransactionNotFound(id.to_owned()))
    }

    /// The transaction, if it can still take changes or be committed.
    pub(crate) fn get_open(&self, id: &str, current: u64) -> Result<&Transaction, DataplaneError> {
        let t = self.get(id)?;
        match t.info(current).status {
            TransactionStatus::InProgress => Ok(t),
            TransactionStatus::Outdated => Err(DataplaneError::Outdated {
                id: id.to_owned(),
                base: t.base_version,
                current,
            }),
            other => Err(DataplaneError::TransactionClosed {
                id: id.to_owned(),
                status: other.as_str().into(),
            }),
        }
    }

    /// Makes `doc` the transaction's document: its change from the one
    /// before is journaled (and synced) first.
    pub(crate) fn update(
        &mut self,
        dir: &Path,
        like: &Path,
        id: &str,
        doc: Document,
    ) -> Result<(), DataplaneError> {
        let t = self
            .by_id
            .get_mut(id)
            .ok_or_else(|| DataplaneError::TransactionNotFound(id.to_owned()))?;
        let Some(record) = record(&t.doc, &doc) else {
            return Ok(());
        };
        if t.journal_len + record.len() as u64 > t.base_len.max(MIN_COMPACT) {
            let bytes = doc.to_bytes();
            t.journal_len = write_base(dir, id, &bytes, like)?;
            t.base_len = bytes.len() as u64;
        } else {
            append(&journal_file(dir, id), &record)?;
            t.journal_len += record.len() as u64;
        }
        t.doc = doc;
        Ok(())
    }

    pub(crate) fn delete(&mut self, dir: &Path, id: &str) -> Result<(), DataplaneError> {
        let t = self
            .by_id
            .remove(id)
            .ok_or_else(|| DataplaneError::TransactionNotFound(id.to_owned()))?;
        let _ = std::fs::remove_file(file(dir, id, t.stored == TransactionStatus::Failed));
        let _ = std::fs::remove_file(journal_file(dir, id));
        Ok(())
    }

    /// Marks a transaction committed (its files go) or failed (its
    /// document is kept as `ID.failed.cfg`, for inspection).
    pub(crate) fn finish(
        &mut self,
        dir: &Path,
        like: &Path,
        id: &str,
        status: TransactionStatus,
    ) -> Result<TransactionInfo, DataplaneError> {
        let t = self
            .by_id
            .get_mut(id)
            .ok_or_else(|| DataplaneError::TransactionNotFound(id.to_owned()))?;
        if status == TransactionStatus::Failed {
            let failed = file(dir, id, true);
            crate::commit::write_atomic_like(&failed, &t.doc.to_bytes(), like)
                .map_err(io_error(&failed))?;
        }
        let _ = std::fs::remove_file(file(dir, id, false));
        let _ = std::fs::remove_file(journal_file(dir, id));
        t.stored = status;
        Ok(TransactionInfo {
            id: id.to_owned(),
            version: t.base_version,
            status,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use haplane_cfg::SectionKind;

    const BASE: &str = "# _version=3\nglobal\n    daemon\n\n# web\nbackend web\n    server a 127.0.0.1:80\n\nbackend api\n    server b 127.0.0.1:81\n";

    /// Edits a clone of `doc` as the API does, and gives back the record.
    fn step(doc: &Document, edit: impl FnOnce(&mut Document)) -> (Document, Vec<u8>) {
        let mut next = doc.clone();
        edit(&mut next);
        let record = record(doc, &next).expect("a change");
        (next, record)
    }

    fn header(base: &[u8]) -> Vec<u8> {
        let mut out = JOURNAL_MAGIC.to_vec();
        out.extend_from_slice(sha256(base).as_ref());
        out
    }

    /// The changes the tests make: a server, a new section, a removed
    /// section, the version line.
    fn edit(i: usize, d: &mut Document) {
        let web = d.find_section(SectionKind::Backend, "web").unwrap();
        match i {
            0 => {
                d.push_words(web, &["server", "c", "127.0.0.1:82"]);
            }
            1 => {
                d.insert_section(Some(web), &["backend", "first"]);
            }
            2 => {
                let api = d.find_section(SectionKind::Backend, "api").unwrap();
                d.remove_section(api);
            }
            _ => d.set_version(9),
        }
    }

    fn edits(doc: &Document) -> (Document, Vec<Vec<u8>>) {
        let mut records = Vec::new();
        let mut current = doc.clone();
        for i in 0..4 {
            let (next, record) = step(&current, |d| edit(i, d));
            records.push(record);
            current = next;
        }
        (current, records)
    }

    /// Every edit of `BASE` and the journal of them all.
    fn whole_journal() -> (Document, Vec<u8>) {
        let (last, records) = edits(&Document::parse(BASE.as_bytes().to_vec()));
        let mut journal = header(BASE.as_bytes());
        for r in &records {
            journal.extend_from_slice(r);
        }
        (last, journal)
    }

    #[test]
    fn a_journal_replays_to_the_edited_document() {
        let (last, journal) = whole_journal();
        let replayed = replay(BASE.as_bytes(), &journal);
        assert_eq!(
            String::from_utf8(replayed.bytes).unwrap(),
            last.to_text(),
            "the replayed file is the edited document"
        );
        assert_eq!((replayed.applied, replayed.whole), (4, true));
    }

    #[test]
    fn a_record_holds_only_the_sections_a_change_touched() {
        let doc = Document::parse(haplane_cfg::synthetic_config(1000, 10).into_bytes());
        let name = doc
            .sections_of(SectionKind::Backend)
            .nth(500)
            .and_then(|s| s.name())
            .unwrap();
        let id = doc.find_section(SectionKind::Backend, &name).unwrap();
        let (_, record) = step(&doc, |d| {
            d.push_words(id, &["server", "new", "127.0.0.1:80"]);
        });
        let section = doc.section_len(id.index());
        assert!(
            record.len() < section + 200,
            "{} bytes for a section of {section}",
            record.len()
        );
    }

    #[test]
    fn a_torn_record_and_what_follows_are_not_applied() {
        let doc = Document::parse(BASE.as_bytes().to_vec());
        let (_, records) = edits(&doc);
        let mut journal = header(BASE.as_bytes());
        journal.extend_from_slice(&records[0]);
        let after_first = replay(BASE.as_bytes(), &journal).bytes;
        // The second record cut short, as a crash while appending leaves it.
        journal.extend_from_slice(&records[1][..records[1].len() - 3]);
        let replayed = replay(BASE.as_bytes(), &journal);
        assert_eq!(replayed.bytes, after_first);
        assert_eq!((replayed.applied, replayed.whole), (1, false));
        // A record whose checksum fails is not applied either.
        let mut journal = header(BASE.as_bytes());
        let mut bad = records[0].clone();
        bad[20] ^= 1;
        journal.extend_from_slice(&bad);
        let replayed = replay(BASE.as_bytes(), &journal);
        assert_eq!(replayed.bytes, BASE.as_bytes());
        assert_eq!((replayed.applied, replayed.whole), (0, false));
    }

    #[test]
    fn a_torn_length_is_not_followed() {
        let mut journal = header(BASE.as_bytes());
        journal.extend_from_slice(&u64::MAX.to_le_bytes());
        journal.extend_from_slice(b"rest of a torn record");
        let replayed = replay(BASE.as_bytes(), &journal);
        assert_eq!(replayed.bytes, BASE.as_bytes());
        assert_eq!((replayed.applied, replayed.whole), (0, false));
    }

    #[test]
    fn a_journal_of_another_file_is_not_applied() {
        // The file was rewritten with every change (a compaction) but the
        // crash came before its fresh journal: the old one names the old file.
        let (last, journal) = whole_journal();
        let replayed = replay(&last.to_bytes(), &journal);
        assert_eq!(replayed.bytes, last.to_bytes());
        assert_eq!((replayed.applied, replayed.whole), (0, false));
    }

    #[test]
    fn changes_survive_a_restart_and_compaction_keeps_them() {
        let dir = tempfile::tempdir().unwrap();
        let like = dir.path().join("haproxy.cfg");
        std::fs::write(&like, BASE).unwrap();
        let mut transactions = Transactions::load(dir.path(), &like).unwrap();
        let doc = Document::parse(BASE.as_bytes().to_vec());
        let id = transactions
            .start(dir.path(), &like, doc.clone(), 3)
            .unwrap()
            .id;
        let (last, _) = edits(&doc);
        // The same edits, one update each.
        let mut current = doc.clone();
        for i in 0..4 {
            let mut next = current.clone();
            edit(i, &mut next);
            transactions
                .update(dir.path(), &like, &id, next.clone())
                .unwrap();
            current = next;
        }
        assert_eq!(
            std::fs::read(file(dir.path(), &id, false)).unwrap(),
            BASE.as_bytes(),
            "small changes go to the journal, not to the file"
        );
        let loaded = Transactions::load(dir.path(), &like).unwrap();
        assert_eq!(loaded.get(&id).unwrap().doc.to_text(), last.to_text());
        assert_eq!(
            std::fs::read(file(dir.path(), &id, false)).unwrap(),
            last.to_bytes(),
            "loading folds the journal into the file"
        );
        // A change bigger than the file rewrites it instead.
        let mut transactions = loaded;
        let mut big = last.clone();
        let at = big.find_section(SectionKind::Backend, "first").unwrap();
        let long = "x".repeat(MIN_COMPACT as usize);
        big.push_words(at, &["description", &long]);
        transactions
            .update(dir.path(), &like, &id, big.clone())
            .unwrap();
        assert_eq!(
            std::fs::read(file(dir.path(), &id, false)).unwrap(),
            big.to_bytes()
        );
        let loaded = Transactions::load(dir.path(), &like).unwrap();
        assert_eq!(loaded.get(&id).unwrap().doc.to_bytes(), big.to_bytes());
    }
}
