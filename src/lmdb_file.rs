//! Checks an LMDB data file against its own meta pages before it is mapped.
//!
//! LMDB maps `data.mdb` and follows page numbers into the map; a page that lies past the end of a
//! truncated file is not an error but a `SIGBUS` that kills the process. So before an environment is
//! opened, [`check_data_file`] reads the two meta pages by hand (with `pread`, never through a map),
//! takes the newer one as LMDB does, and checks that every page the snapshot can reach lies inside
//! the file. LMDB guarantees that each page up to the meta page's `mm_last_pg` is either used by a
//! database or listed in the free-page database, and it never writes a page that was allocated and
//! freed in the same transaction, so a healthy file may end a few free pages short of `mm_last_pg`:
//! when the file is short, the free-page tree is walked (again with `pread`) and the check passes
//! only if every missing page is free.
//!
//! Damage inside the file can send LMDB out of it too (a node whose size or page number is garbage).
//! [`walk_records`] therefore reads a whole environment the same way, checking each page it follows,
//! and hands every record to the caller: after it passes, the snapshot it read can be followed
//! through the map without leaving the file.
//!
//! The layout read here is LMDB's on-disk format version 1 as built by `lmdb-master-sys` (64-bit
//! page numbers, no `MDB_VL32`, `PAGEBASE` 0), in the host's byte order. On other targets the check
//! is skipped.
//!
//! | field (64-bit build)   | offset in a page                                       |
//! |------------------------|--------------------------------------------------------|
//! | page number `mp_pgno`  | 0 (u64)                                                |
//! | page flags `mp_flags`  | 10 (u16; `P_BRANCH` 1, `P_LEAF` 2, `P_OVERFLOW` 4, `P_META` 8) |
//! | `mp_lower`             | 12 (u16; number of nodes = (`mp_lower` − 16) / 2)      |
//! | node offsets `mp_ptrs` | 16.. (u16 each, from the page start)                   |
//! | meta `mm_magic`        | 16 (u32, `0xBEEFC0DE`), `mm_version` 20 (u32, 1)       |
//! | page size              | 40 (u32: `mm_dbs[FREE].md_pad`)                        |
//! | free-page tree root    | 80 (u64: `mm_dbs[FREE].md_root`, `u64::MAX` when empty)|
//! | `mm_last_pg`           | 136 (u64), `mm_txnid` 144 (u64)                        |
//!
//! A node is `mn_lo` u16, `mn_hi` u16, `mn_flags` u16, `mn_ksize` u16, then the key and the value; a
//! branch node's child is `mn_lo | mn_hi << 16 | mn_flags << 32`, a leaf's value size is
//! `mn_lo | mn_hi << 16`, and a leaf flagged `F_BIGDATA` (1) holds the page number of the overflow
//! pages that carry its value. A free-page record is an array of u64: its length, then page numbers.

use std::fs::File;
use std::path::Path;

/// Why a data file cannot be opened safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct Damage {
    /// The data file.
    pub file: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Checks `dir/data.mdb` (a missing or empty file is fine: LMDB creates it). Errors of the file
/// system (a permission denied) are returned as [`std::io::Error`] through `Ok(Err(..))`, so the
/// caller can tell them from damage.
pub fn check_data_file(dir: &Path) -> std::io::Result<Result<(), Damage>> {
    let path = dir.join("data.mdb");
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Ok(())),
        Err(e) => return Err(e),
    };
    let len = file.metadata()?.len();
    if len == 0 {
        return Ok(Ok(()));
    }
    Ok(imp::check(&file, len).map_err(|reason| Damage {
        file: path.display().to_string(),
        reason,
    }))
}

/// What [`walk_records`] calls with each record: (database name, key, value); an error stops the
/// walk and is reported as damage.
pub type RecordFn<'a> = dyn FnMut(&[u8], &[u8], &[u8]) -> Result<(), String> + 'a;

/// Reads every record of every named database in `dir/data.mdb` with `pread`, checking the
/// structure on the way (each page's number, its kind, its node offsets and sizes, overflow runs
/// inside the file, no page reached twice), and calls `f(database, key, value)` for each. After it
/// passes, LMDB following the same snapshot stays inside the file. `Ok(None)` on targets whose
/// layout this module does not read.
///
/// The caller holds a read transaction of the environment while this runs, so that no writer
/// reuses the pages being read.
pub fn walk_records(
    dir: &Path,
    f: &mut RecordFn<'_>,
) -> std::io::Result<Option<Result<(), Damage>>> {
    let path = dir.join("data.mdb");
    let file = File::open(&path)?;
    let len = file.metadata()?.len();
    Ok(imp::walk(&file, len, f).map(|r| {
        r.map_err(|reason| Damage {
            file: path.display().to_string(),
            reason,
        })
    }))
}

#[cfg(all(unix, target_pointer_width = "64", target_endian = "little"))]
mod imp {
    use std::collections::HashSet;
    use std::fs::File;
    use std::os::unix::fs::FileExt;

    const PAGE_HEADER: usize = 16;
    const P_BRANCH: u16 = 0x01;
    const P_LEAF: u16 = 0x02;
    const P_META: u16 = 0x08;
    const F_BIGDATA: u16 = 0x01;
    const MAGIC: u32 = 0xBEEF_C0DE;
    const DATA_VERSION: u32 = 1;
    const INVALID_PAGE: u64 = u64::MAX;
    /// Bytes of a meta page that are read: the page header and `MDB_meta`.
    const META_BYTES: usize = PAGE_HEADER + 136;
    /// Pages of the free-page tree visited at most (a loop in a damaged tree ends here).
    const MAX_VISITS: usize = 1 << 20;

    fn u16_at(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
    }
    fn u32_at(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }
    fn u64_at(b: &[u8], at: usize) -> Option<u64> {
        Some(u64::from_ne_bytes(b.get(at..at + 8)?.try_into().ok()?))
    }

    /// The fields of one meta page that the check needs.
    #[derive(Clone, Copy)]
    struct Meta {
        page_size: u64,
        free_root: u64,
        main_root: u64,
        last_page: u64,
        txnid: u64,
    }

    const P_OVERFLOW: u16 = 0x04;
    const F_SUBDATA: u16 = 0x02;
    const F_DUPDATA: u16 = 0x04;
    /// Deepest B-tree walked (LMDB's cursors stop at 32 levels).
    const MAX_DEPTH: usize = 32;

    pub(super) fn walk(
        file: &File,
        len: u64,
        f: &mut super::RecordFn<'_>,
    ) -> Option<Result<(), String>> {
        Some((|| {
            if len == 0 {
                return Ok(());
            }
            let m0 = read_meta(file, len, 0)?;
            let m1 = read_meta(file, len, m0.page_size)?;
            let meta = if m1.txnid > m0.txnid { m1 } else { m0 };
            let mut w = Walk {
                file,
                len: len.min((meta.last_page + 1).saturating_mul(meta.page_size)),
                page_size: meta.page_size,
                visits: 0,
            };
            let mut seen = HashSet::new();
            let mut dbs: Vec<(Vec<u8>, u64)> = Vec::new();
            w.tree(meta.main_root, &mut seen, &mut |key, value, flags| {
                if flags & F_SUBDATA != 0 {
                    let root = u64_at(value, 40).ok_or("a database record is too short")?;
                    let db_flags = u16_at(value, 4).ok_or("a database record is too short")?;
                    if db_flags & 0x04 != 0 {
                        return Err("a database with duplicate keys (not read here)".into());
                    }
                    dbs.push((key.to_vec(), root));
                    Ok(())
                } else {
                    f(b"", key, value)
                }
            })?;
            for (name, root) in dbs {
                w.tree(root, &mut seen, &mut |key, value, _| f(&name, key, value))?;
            }
            Ok(())
        })())
    }

    fn read_meta(file: &File, len: u64, offset: u64) -> Result<Meta, String> {
        if len < offset + META_BYTES as u64 {
            return Err(format!(
                "{len} bytes cannot hold the meta page at offset {offset} (truncated)"
            ));
        }
        let mut b = [0u8; META_BYTES];
        file.read_exact_at(&mut b, offset)
            .map_err(|e| format!("cannot read the meta page at offset {offset}: {e}"))?;
        let bad = || format!("the meta page at offset {offset} is not an LMDB meta page");
        let flags = u16_at(&b, 10).ok_or_else(bad)?;
        if flags & P_META == 0 || u32_at(&b, 16) != Some(MAGIC) {
            return Err(bad());
        }
        let version = u32_at(&b, 20).ok_or_else(bad)?;
        if version != DATA_VERSION {
            return Err(format!(
                "LMDB data format {version}, expected {DATA_VERSION}"
            ));
        }
        let page_size = u64::from(u32_at(&b, 40).ok_or_else(bad)?);
        if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(format!("implausible page size {page_size}"));
        }
        Ok(Meta {
            page_size,
            free_root: u64_at(&b, 80).ok_or_else(bad)?,
            main_root: u64_at(&b, 128).ok_or_else(bad)?,
            last_page: u64_at(&b, 136).ok_or_else(bad)?,
            txnid: u64_at(&b, 144).ok_or_else(bad)?,
        })
    }

    /// The page size, the last page and the free pages of the newest snapshot (for tests).
    #[cfg(test)]
    pub(super) fn layout(file: &File, len: u64) -> Result<(u64, u64, HashSet<u64>), String> {
        let m0 = read_meta(file, len, 0)?;
        let m1 = read_meta(file, len, m0.page_size)?;
        let meta = if m1.txnid > m0.txnid { m1 } else { m0 };
        let free = Walk {
            file,
            len,
            page_size: meta.page_size,
            visits: 0,
        }
        .free_pages(meta.free_root)?;
        Ok((meta.page_size, meta.last_page, free))
    }

    pub(super) fn check(file: &File, len: u64) -> Result<(), String> {
        let m0 = read_meta(file, len, 0)?;
        let m1 = read_meta(file, len, m0.page_size)?;
        if m1.page_size != m0.page_size {
            return Err("the two meta pages disagree on the page size".into());
        }
        let meta = if m1.txnid > m0.txnid { m1 } else { m0 };
        let needed = meta
            .last_page
            .checked_add(1)
            .and_then(|n| n.checked_mul(meta.page_size))
            .ok_or_else(|| format!("implausible last page {}", meta.last_page))?;
        if len >= needed {
            return Ok(());
        }
        // Only whole pages count: a partial last page is missing too.
        let first_missing = len / meta.page_size;
        let free = Walk {
            file,
            len,
            page_size: meta.page_size,
            visits: 0,
        }
        .free_pages(meta.free_root)
        .map_err(|e| {
            format!("the file is {len} bytes but its pages reach {needed} bytes, and {e}; it was truncated")
        })?;
        let used = (first_missing..=meta.last_page).find(|p| !free.contains(p));
        match used {
            None => Ok(()),
            Some(p) => Err(format!(
                "the file is {len} bytes but its last transaction uses page {p} of {} bytes \
                 (pages up to {}: {needed} bytes); it was truncated",
                meta.page_size, meta.last_page
            )),
        }
    }

    /// What [`Walk::tree`] calls with each leaf node: (key, value, node flags).
    type LeafFn<'a> = dyn FnMut(&[u8], &[u8], u16) -> Result<(), String> + 'a;

    /// Reads pages of an environment with `pread`.
    struct Walk<'a> {
        file: &'a File,
        len: u64,
        page_size: u64,
        visits: usize,
    }

    impl Walk<'_> {
        fn page(&mut self, pgno: u64) -> Result<Vec<u8>, String> {
            self.visits += 1;
            if self.visits > MAX_VISITS {
                return Err("the free-page tree does not end (a loop)".into());
            }
            let offset = pgno
                .checked_mul(self.page_size)
                .filter(|o| o.saturating_add(self.page_size) <= self.len)
                .ok_or_else(|| {
                    format!("the free-page tree refers to page {pgno}, past the end of the file")
                })?;
            let mut b = vec![0u8; self.page_size as usize];
            self.file
                .read_exact_at(&mut b, offset)
                .map_err(|e| format!("cannot read page {pgno}: {e}"))?;
            if u64_at(&b, 0) != Some(pgno) {
                return Err(format!("page {pgno} carries another page number"));
            }
            Ok(b)
        }

        /// Walks the tree rooted at `root`, checking every page, and calls `f(key, value, flags)`
        /// for each leaf node.
        fn tree(
            &mut self,
            root: u64,
            seen: &mut HashSet<u64>,
            f: &mut LeafFn<'_>,
        ) -> Result<(), String> {
            if root == INVALID_PAGE {
                return Ok(());
            }
            let mut stack = vec![(root, 0usize)];
            while let Some((pgno, depth)) = stack.pop() {
                if depth > MAX_DEPTH || !seen.insert(pgno) {
                    return Err(format!("page {pgno} is reached twice or too deep (a loop)"));
                }
                let page = self.page(pgno)?;
                let bad = |what: &str| format!("page {pgno}: {what}");
                let psize = page.len();
                let flags = u16_at(&page, 10).ok_or_else(|| bad("no header"))?;
                let lower = usize::from(u16_at(&page, 12).ok_or_else(|| bad("no header"))?);
                let upper = usize::from(u16_at(&page, 14).ok_or_else(|| bad("no header"))?);
                let branch = flags & P_BRANCH != 0;
                if (branch == (flags & P_LEAF != 0))
                    || lower < PAGE_HEADER
                    || lower > upper
                    || upper > psize
                {
                    return Err(bad("not a branch or leaf page, or bad bounds"));
                }
                for i in 0..(lower - PAGE_HEADER) / 2 {
                    let at = usize::from(u16_at(&page, PAGE_HEADER + 2 * i).unwrap_or(0));
                    if at < upper || at + 8 > psize {
                        return Err(bad("a node outside the page"));
                    }
                    let lo = u64::from(u16_at(&page, at).unwrap_or(0));
                    let hi = u64::from(u16_at(&page, at + 2).unwrap_or(0));
                    let nflags = u16_at(&page, at + 4).unwrap_or(0);
                    let ksize = usize::from(u16_at(&page, at + 6).unwrap_or(0));
                    let key = page
                        .get(at + 8..at + 8 + ksize)
                        .ok_or_else(|| bad("a key outside the page"))?;
                    if branch {
                        stack.push((lo | hi << 16 | u64::from(nflags) << 32, depth + 1));
                        continue;
                    }
                    if nflags & F_DUPDATA != 0 {
                        return Err(bad("duplicate data (not read here)"));
                    }
                    let size = (lo | hi << 16) as usize;
                    let data = at + 8 + ksize;
                    if nflags & F_BIGDATA != 0 {
                        let first =
                            u64_at(&page, data).ok_or_else(|| bad("a value outside the page"))?;
                        let value = self.overflow_checked(first, size, seen)?;
                        f(key, &value, nflags)?;
                    } else {
                        let value = page
                            .get(data..data + size)
                            .ok_or_else(|| bad("a value outside the page"))?;
                        f(key, value, nflags)?;
                    }
                }
            }
            Ok(())
        }

        /// An overflow value, after checking its first page and that its run lies in the file.
        fn overflow_checked(
            &mut self,
            first: u64,
            size: usize,
            seen: &mut HashSet<u64>,
        ) -> Result<Vec<u8>, String> {
            let head = self.page(first)?;
            let flags = u16_at(&head, 10).unwrap_or(0);
            let pages = u64::from(u32_at(&head, 12).unwrap_or(0));
            let needed = (PAGE_HEADER + size).div_ceil(self.page_size as usize) as u64;
            if flags & P_OVERFLOW == 0 || pages < needed {
                return Err(format!("page {first} is not the overflow run of a value"));
            }
            for p in first..first + pages {
                if !seen.insert(p) {
                    return Err(format!("page {p} is reached twice"));
                }
            }
            self.overflow(first, size)
        }

        /// Every page number listed in the free-page tree rooted at `root`.
        fn free_pages(mut self, root: u64) -> Result<HashSet<u64>, String> {
            let mut free = HashSet::new();
            if root == INVALID_PAGE {
                return Ok(free);
            }
            let mut stack = vec![root];
            while let Some(pgno) = stack.pop() {
                let page = self.page(pgno)?;
                let bad = || format!("page {pgno} of the free-page tree is malformed");
                let flags = u16_at(&page, 10).ok_or_else(bad)?;
                let lower = usize::from(u16_at(&page, 12).ok_or_else(bad)?);
                let nodes = lower.checked_sub(PAGE_HEADER).ok_or_else(bad)? / 2;
                for i in 0..nodes {
                    let at = usize::from(u16_at(&page, PAGE_HEADER + 2 * i).ok_or_else(bad)?);
                    let lo = u64::from(u16_at(&page, at).ok_or_else(bad)?);
                    let hi = u64::from(u16_at(&page, at + 2).ok_or_else(bad)?);
                    let nflags = u16_at(&page, at + 4).ok_or_else(bad)?;
                    let ksize = usize::from(u16_at(&page, at + 6).ok_or_else(bad)?);
                    if flags & P_BRANCH != 0 {
                        stack.push(lo | hi << 16 | u64::from(nflags) << 32);
                    } else if flags & P_LEAF != 0 {
                        let size = (lo | hi << 16) as usize;
                        let data = at + 8 + ksize;
                        let value = if nflags & F_BIGDATA != 0 {
                            let first = u64_at(&page, data).ok_or_else(bad)?;
                            self.overflow(first, size)?
                        } else {
                            page.get(data..data + size).ok_or_else(bad)?.to_vec()
                        };
                        let n = u64_at(&value, 0).ok_or_else(bad)? as usize;
                        for k in 0..n {
                            free.insert(u64_at(&value, 8 + 8 * k).ok_or_else(bad)?);
                        }
                    } else {
                        return Err(bad());
                    }
                }
            }
            Ok(free)
        }

        /// The `size` bytes of a value kept on overflow pages starting at `first`.
        fn overflow(&mut self, first: u64, size: usize) -> Result<Vec<u8>, String> {
            let total = PAGE_HEADER + size;
            let pages = total.div_ceil(self.page_size as usize) as u64;
            let last = first
                .checked_add(pages - 1)
                .filter(|l| l.saturating_add(1).saturating_mul(self.page_size) <= self.len)
                .ok_or_else(|| {
                    format!("a free-page record on page {first} reaches past the end of the file")
                })?;
            let mut b = vec![0u8; total];
            self.file
                .read_exact_at(&mut b, first * self.page_size)
                .map_err(|e| format!("cannot read pages {first}..={last}: {e}"))?;
            b.drain(..PAGE_HEADER);
            Ok(b)
        }
    }
}

#[cfg(not(all(unix, target_pointer_width = "64", target_endian = "little")))]
mod imp {
    pub(super) fn check(_: &std::fs::File, _: u64) -> Result<(), String> {
        Ok(())
    }

    pub(super) fn walk(
        _: &std::fs::File,
        _: u64,
        _: &mut super::RecordFn<'_>,
    ) -> Option<Result<(), String>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heed::types::{Bytes, U32};
    use heed::{CommitOrAbort, Database, EnvOpenOptions};

    type Db<'a> = Database<'a, U32<heed::byteorder::BE>, Bytes>;

    /// Writes `n` records of `size` bytes (big ones go to overflow pages), then deletes every other one.
    fn make_env(dir: &Path, n: u32, size: usize) {
        // SAFETY: one environment per folder, opened once here.
        let env = unsafe {
            EnvOpenOptions::new()
                .map_size(1 << 30)
                .max_dbs(2)
                .open(dir)
                .unwrap()
        };
        let wtxn = env.write_txn().unwrap();
        let db = env
            .create_databases_and_commit(
                wtxn,
                |dbo, wtxn| -> Result<CommitOrAbort<Db<'_>, ()>, heed::Error> {
                    Ok(CommitOrAbort::Commit(dbo.create_database(wtxn, Some("t"))?))
                },
            )
            .unwrap()
            .unwrap_commit();
        let mut wtxn = env.write_txn().unwrap();
        for i in 0..n {
            db.put(&mut wtxn, &i, &vec![i as u8; size]).unwrap();
        }
        wtxn.commit().unwrap();
        let mut wtxn = env.write_txn().unwrap();
        for i in (0..n).step_by(2) {
            db.delete(&mut wtxn, &i).unwrap();
        }
        wtxn.commit().unwrap();
    }

    fn damage(dir: &Path) -> Option<String> {
        check_data_file(dir).unwrap().err().map(|d| d.reason)
    }

    #[test]
    fn a_healthy_file_passes_and_a_truncated_one_is_caught() {
        let dir = tempfile::tempdir().unwrap();
        make_env(dir.path(), 3000, 300);
        assert_eq!(damage(dir.path()), None);
        let data = dir.path().join("data.mdb");
        let len = std::fs::metadata(&data).unwrap().len();
        let f = std::fs::OpenOptions::new().write(true).open(&data).unwrap();
        f.set_len(len / 2).unwrap();
        let reason = damage(dir.path()).expect("a file cut in half is damage");
        assert!(reason.contains("truncated"), "{reason}");
        f.set_len(100).unwrap();
        let reason = damage(dir.path()).expect("a stub is damage");
        assert!(reason.contains("meta page"), "{reason}");
    }

    #[test]
    fn free_pages_missing_at_the_end_are_not_damage() {
        // Pages allocated and freed in one transaction are never written, so a healthy file can
        // end far short of its last page number: here 11 pages written, the last page number 109.
        let dir = tempfile::tempdir().unwrap();
        make_env(dir.path(), 10, 300);
        let open = || {
            // SAFETY: one environment per folder at a time in this test.
            let env = unsafe {
                EnvOpenOptions::new()
                    .map_size(1 << 30)
                    .max_dbs(2)
                    .open(dir.path())
                    .unwrap()
            };
            let rtxn = env.read_txn().unwrap();
            let db = env
                .open_databases_and_commit(
                    rtxn,
                    |dbo, rtxn| -> Result<CommitOrAbort<Option<Db<'_>>, ()>, heed::Error> {
                        Ok(CommitOrAbort::Commit(dbo.open_database(rtxn, Some("t"))?))
                    },
                )
                .unwrap()
                .unwrap_commit()
                .unwrap();
            (env, db)
        };
        {
            let (env, db) = open();
            let mut wtxn = env.write_txn().unwrap();
            for i in 100..110u32 {
                db.put(&mut wtxn, &i, &vec![1u8; 40_000]).unwrap();
            }
            for i in 100..110u32 {
                db.delete(&mut wtxn, &i).unwrap();
            }
            db.put(&mut wtxn, &1, &[7u8; 10]).unwrap();
            wtxn.commit().unwrap();
        }
        let f = File::open(dir.path().join("data.mdb")).unwrap();
        let len = f.metadata().unwrap().len();
        let (page, last, free) = imp::layout(&f, len).unwrap();
        assert!(
            (last + 1) * page > len + 50 * page,
            "the scenario needs a short file: {len} bytes, last page {last}"
        );
        assert!((len / page..=last).all(|p| free.contains(&p)));
        assert_eq!(damage(dir.path()), None);
        // And LMDB reads it.
        let (env, db) = open();
        let rtxn = env.read_txn().unwrap();
        assert_eq!(db.get(&rtxn, &1).unwrap(), Some(&[7u8; 10][..]));
        drop(rtxn);
        drop(env);
        // Cutting a used page is still damage.
        let used = (0..len / page).rev().find(|p| !free.contains(p)).unwrap();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.path().join("data.mdb"))
            .unwrap();
        f.set_len(used * page).unwrap();
        let reason = damage(dir.path()).expect("a used page cut off");
        assert!(reason.contains("truncated"), "{reason}");
    }

    #[test]
    fn garbage_and_empty_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(damage(dir.path()), None, "no file yet");
        std::fs::write(dir.path().join("data.mdb"), b"").unwrap();
        assert_eq!(
            damage(dir.path()),
            None,
            "an empty file is a new environment"
        );
        std::fs::write(dir.path().join("data.mdb"), vec![0x5a; 64 * 1024]).unwrap();
        let reason = damage(dir.path()).expect("garbage is damage");
        assert!(reason.contains("not an LMDB meta page"), "{reason}");
    }
}
