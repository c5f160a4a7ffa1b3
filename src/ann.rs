//! Approximate nearest-neighbour tier for large workspaces: an arroy forest in its own LMDB environment.
//!
//! Below [`crate::config::IndexConfig::ann_threshold`] vectors the exact scan of [`VectorSet`] answers
//! every query and nothing here exists. Above it, a query asks the last built forest for candidates,
//! rescores them exactly with the in-memory vectors (dropping chunks deleted since the build), and scans
//! exactly the chunks embedded since the build ("recent"), merging both. A build runs in the background
//! once enough has changed, in a write transaction of this module's own environment, so it never blocks
//! the store; queries keep reading the previous build (LMDB snapshots) until it commits.
//!
//! The environment records the model fingerprint and the dimension it was built for; a mismatch means
//! the forest is ignored by queries and cleared by the next build. The built chunk ids are the forest's
//! own item set, and a build counter stored with them lets a query reuse its list of recent chunks until
//! either the vectors or the build change.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use arroy::distances::Cosine;
use arroy::{Reader, Writer};
use heed::types::{Bytes, Str};
use heed::{CommitOrAbort, Database, Env, RoTxn};
use rand010::SeedableRng;
use rand010::rngs::StdRng;
use roaring::RoaringBitmap;

use crate::ids::{ChunkId, ModelFingerprint};
use crate::store::Access;
use crate::vectors::VectorSet;

/// The arroy index number inside the database (one forest per environment).
const INDEX: u16 = 0;
/// Seed of the tree-building random generator: the same vectors give the same forest.
const SEED: u64 = 0x5eed_a110;
/// Items added between two checks of the cancel flag during a build.
const ADD_BATCH: usize = 4096;
/// A build is due when the chunks changed since the last one exceed this many...
pub const REBUILD_MIN_CHANGES: u64 = 10_000;
/// ...and this fraction (1/n) of the built chunks.
pub const REBUILD_FRACTION: u64 = 10;
/// Default multiplier of arroy's search budget (`count × trees` nodes); chosen from the measurements
/// in `docs/ARCHITECTURE.md`.
pub const DEFAULT_OVERSAMPLING: usize = 2;
/// Fewest candidates asked of the forest: rescoring a few dozen vectors costs microseconds and keeps
/// recall up for small `k`.
const MIN_CANDIDATES: usize = 64;

/// Keys of the `meta` database.
mod key {
    pub const MODEL: &str = "model";
    pub const DIMS: &str = "dims";
    pub const BUILD: &str = "build";
}

/// The forest's state as seen by one query.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnnStatus {
    /// Chunks in the last build (including ones deleted since).
    pub built: u64,
    /// Chunks with a vector that the last build does not hold (served by exact scan).
    pub recent: u64,
    /// Built chunks that have no vector any more (dropped from results).
    pub deleted: u64,
    /// Whether a build is running in this process.
    pub building: bool,
}

impl AnnStatus {
    /// Whether enough changed since the last build (or there is none) to build again.
    pub fn wants_build(&self) -> bool {
        self.built == 0
            || self.recent + self.deleted > REBUILD_MIN_CHANGES.max(self.built / REBUILD_FRACTION)
    }
}

/// What a build did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BuildReport {
    /// Chunks in the forest after the build.
    pub items: u64,
    /// Chunks added.
    pub added: u64,
    /// Chunks removed.
    pub removed: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// The chunks a build does not hold, for one (vectors, build) pair.
struct Recent {
    vectors: u64,
    build: u64,
    ids: Arc<Vec<ChunkId>>,
    built: u64,
    deleted: u64,
}

/// Marks a build as running; cleared on drop.
struct BuildGuard<'a>(&'a AtomicBool);

impl Drop for BuildGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// The approximate index of one workspace.
pub struct AnnIndex {
    env: Env,
    forest: arroy::Database<'static, Cosine>,
    meta: Database<'static, Str, Bytes>,
    building: AtomicBool,
    cancel: AtomicBool,
    oversampling: usize,
    recent: Mutex<Option<Recent>>,
}

impl AnnIndex {
    /// Whether an index was ever created in `dir`.
    pub fn exists(dir: &Path) -> bool {
        dir.join("data.mdb").is_file()
    }

    /// Opens the index in `dir`, creating it if needed. Opening an existing index takes only a read
    /// transaction, so it does not wait for a build running in another process.
    pub fn open(dir: &Path) -> Result<Self> {
        Self::open_with(dir, Access::ReadWrite)
    }

    /// Opens the index in `dir`; read-only, it must exist and nothing is created or written.
    pub fn open_with(dir: &Path, access: Access) -> Result<Self> {
        let env = crate::store::open_env(dir, 256 << 30, 4, access)?;
        let rtxn = env.read_txn()?;
        let found = env
            .open_databases_and_commit(
                rtxn,
                |dbo, rtxn| -> Result<CommitOrAbort<Option<_>, ()>, heed::Error> {
                    let forest = dbo.open_database(rtxn, Some("forest"))?;
                    let meta = dbo.open_database(rtxn, Some("meta"))?;
                    Ok(CommitOrAbort::Commit(forest.zip(meta)))
                },
            )?
            .unwrap_commit();
        let (forest, meta) = match found {
            Some(dbs) => dbs,
            None if access == Access::ReadOnly => {
                anyhow::bail!(
                    "no approximate index in the read-only folder {}",
                    dir.display()
                )
            }
            None => {
                let wtxn = env.write_txn()?;
                env.create_databases_and_commit(
                    wtxn,
                    |dbo, wtxn| -> Result<CommitOrAbort<_, ()>, heed::Error> {
                        Ok(CommitOrAbort::Commit((
                            dbo.create_database(wtxn, Some("forest"))?,
                            dbo.create_database(wtxn, Some("meta"))?,
                        )))
                    },
                )?
                .unwrap_commit()
            }
        };
        Ok(AnnIndex {
            env,
            forest,
            meta,
            building: AtomicBool::new(false),
            cancel: AtomicBool::new(false),
            oversampling: DEFAULT_OVERSAMPLING,
            recent: Mutex::new(None),
        })
    }

    /// Sets the multiplier of arroy's search budget (higher: better recall, slower queries).
    pub fn set_oversampling(&mut self, oversampling: usize) {
        self.oversampling = oversampling.max(1);
    }

    /// Whether a build is running in this process.
    pub fn is_building(&self) -> bool {
        self.building.load(Ordering::Acquire)
    }

    /// Asks a running build to stop (it is rolled back) and makes later builds stop at once.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Release);
    }

    fn try_lock(&self) -> Option<BuildGuard<'_>> {
        self.building
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| BuildGuard(&self.building))
    }

    fn meta_bytes<'t>(&self, txn: &'t RoTxn, k: &str) -> Result<Option<&'t [u8]>> {
        Ok(self.meta.get(txn, k)?)
    }

    fn meta_u64(&self, txn: &RoTxn, k: &str) -> Result<Option<u64>> {
        Ok(self
            .meta_bytes(txn, k)?
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes))
    }

    /// The build counter when the forest was built for this model and dimension.
    fn usable_build(
        &self,
        txn: &RoTxn,
        model: ModelFingerprint,
        dims: usize,
    ) -> Result<Option<u64>> {
        if self.meta_bytes(txn, key::MODEL)? != Some(&model.0[..])
            || self.meta_u64(txn, key::DIMS)? != Some(dims as u64)
        {
            return Ok(None);
        }
        self.meta_u64(txn, key::BUILD)
    }

    /// The recent chunks of `vs` for a build holding `items`, cached per (vectors, build).
    #[cfg(test)]
    fn recent(&self, vs: &VectorSet, build: u64, items: &RoaringBitmap) -> Arc<Vec<ChunkId>> {
        self.recent_entry(vs, build, items, |r| r.ids.clone())
    }

    fn recent_entry<T>(
        &self,
        vs: &VectorSet,
        build: u64,
        items: &RoaringBitmap,
        f: impl FnOnce(&Recent) -> T,
    ) -> T {
        let mut guard = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = guard
            .as_ref()
            .filter(|r| r.vectors == vs.generation() && r.build == build)
        {
            return f(r);
        }
        let ids: Vec<ChunkId> = vs
            .ids()
            .iter()
            .copied()
            .filter(|id| !items.contains(id.0))
            .collect();
        let still_built = (vs.len() - ids.len()) as u64;
        let r = Recent {
            vectors: vs.generation(),
            build,
            built: items.len(),
            deleted: items.len().saturating_sub(still_built),
            ids: Arc::new(ids),
        };
        let out = f(&r);
        *guard = Some(r);
        out
    }

    /// The forest's state relative to `vs`.
    pub fn status(&self, vs: &VectorSet, model: ModelFingerprint) -> Result<AnnStatus> {
        let building = self.is_building();
        let unbuilt = AnnStatus {
            recent: vs.len() as u64,
            building,
            ..Default::default()
        };
        let rtxn = self.env.read_txn()?;
        let Some(build) = self.usable_build(&rtxn, model, vs.dims())? else {
            return Ok(unbuilt);
        };
        let reader = match Reader::<Cosine>::open(&rtxn, INDEX, self.forest) {
            Ok(r) => r,
            Err(arroy::Error::MissingMetadata(_)) => return Ok(unbuilt),
            Err(e) => return Err(e.into()),
        };
        Ok(
            self.recent_entry(vs, build, reader.item_ids(), |r| AnnStatus {
                built: r.built,
                recent: r.ids.len() as u64,
                deleted: r.deleted,
                building,
            }),
        )
    }

    /// The `k` chunks of `vs` most similar to `query`, best first, scored exactly: the forest's
    /// candidates that still have a vector plus every recent chunk. `None` when there is no usable build
    /// (the caller scans exactly).
    pub fn search(
        &self,
        vs: &VectorSet,
        model: ModelFingerprint,
        query: &[f32],
        k: usize,
    ) -> Result<Option<Vec<(ChunkId, f32)>>> {
        if k == 0 || query.len() != vs.dims() {
            return Ok(Some(Vec::new()));
        }
        let rtxn = self.env.read_txn()?;
        let Some(build) = self.usable_build(&rtxn, model, vs.dims())? else {
            return Ok(None);
        };
        let reader = match Reader::<Cosine>::open(&rtxn, INDEX, self.forest) {
            Ok(r) => r,
            Err(arroy::Error::MissingMetadata(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let (recent, deleted) =
            self.recent_entry(vs, build, reader.item_ids(), |r| (r.ids.clone(), r.deleted));
        // Ask for a few more than k when deleted chunks may take some of the places.
        let count = (k + (deleted as usize).min(k)).max(MIN_CANDIDATES);
        let mut nns = reader.nns(count);
        nns.oversampling(NonZeroUsize::new(self.oversampling).unwrap_or(NonZeroUsize::MIN));
        let found = nns.by_vector(&rtxn, query)?;
        drop(rtxn);
        let mut hits = vs.score(query, found.into_iter().map(|(id, _)| ChunkId(id)));
        hits.extend(vs.score(query, recent.iter().copied()));
        hits.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        hits.truncate(k);
        Ok(Some(hits))
    }

    /// Brings the forest up to date with `vs`: removes deleted chunks, adds new ones, rebuilds the trees
    /// (incrementally when the model is unchanged) and commits, in one write transaction of this
    /// environment. Returns `None` without doing anything when another build is running; use
    /// [`AnnIndex::build_waiting`] to wait for it instead.
    pub fn build(&self, vs: &VectorSet, model: ModelFingerprint) -> Result<Option<BuildReport>> {
        match self.try_lock() {
            Some(_guard) => self.build_locked(vs, model).map(Some),
            None => Ok(None),
        }
    }

    /// Like [`AnnIndex::build`], but waits for a running build to finish first.
    pub fn build_waiting(&self, vs: &VectorSet, model: ModelFingerprint) -> Result<BuildReport> {
        loop {
            if let Some(_guard) = self.try_lock() {
                return self.build_locked(vs, model);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn build_locked(&self, vs: &VectorSet, model: ModelFingerprint) -> Result<BuildReport> {
        let t = Instant::now();
        let dims = vs.dims();
        let cancelled = || self.cancel.load(Ordering::Acquire);
        let mut wtxn = self.env.write_txn()?;
        let writer = Writer::<Cosine>::new(self.forest, INDEX, dims);
        let previous = self.usable_build(&wtxn, model, dims)?;
        let built = match previous {
            Some(_) => match Reader::<Cosine>::open(&wtxn, INDEX, self.forest) {
                Ok(r) => Some(r.item_ids().clone()),
                Err(arroy::Error::MissingMetadata(_)) => None,
                Err(e) => {
                    tracing::warn!(target: "sg::ann", "approximate index unreadable ({e}); rebuilding it");
                    None
                }
            },
            None => None,
        };
        let built = match built {
            Some(b) => b,
            None => {
                writer.clear(&mut wtxn)?;
                RoaringBitmap::new()
            }
        };
        let live: RoaringBitmap = vs.ids().iter().map(|id| id.0).collect();
        let removed = &built - &live;
        let added = &live - &built;
        let mut report = BuildReport {
            items: live.len(),
            added: added.len(),
            removed: removed.len(),
            elapsed: Duration::ZERO,
        };
        if previous.is_some() && added.is_empty() && removed.is_empty() {
            report.elapsed = t.elapsed();
            return Ok(report);
        }
        for id in &removed {
            writer.del_item(&mut wtxn, id)?;
        }
        for (i, id) in added.iter().enumerate() {
            if i % ADD_BATCH == 0 && cancelled() {
                anyhow::bail!("the approximate index build was cancelled");
            }
            if let Some(v) = vs.get(ChunkId(id)) {
                writer.add_item(&mut wtxn, id, v)?;
            }
        }
        let mut rng = StdRng::seed_from_u64(SEED);
        writer
            .builder(&mut rng)
            .cancel(cancelled)
            .build(&mut wtxn)?;
        let next = previous.unwrap_or(0) + 1;
        self.meta.put(&mut wtxn, key::MODEL, &model.0)?;
        self.meta
            .put(&mut wtxn, key::DIMS, &(dims as u64).to_le_bytes())?;
        self.meta.put(&mut wtxn, key::BUILD, &next.to_le_bytes())?;
        wtxn.commit()?;
        report.elapsed = t.elapsed();
        tracing::info!(
            target: "sg::ann",
            "approximate index built: {} chunks (+{} -{}) in {:?}",
            report.items, report.added, report.removed, report.elapsed
        );
        Ok(report)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand010::RngExt;

    const MODEL: ModelFingerprint = ModelFingerprint([7; 16]);

    fn random_unit(rng: &mut StdRng, dims: usize) -> Vec<f32> {
        // Sums of uniforms are close enough to Gaussian for directions spread over the sphere.
        let mut v: Vec<f32> = (0..dims)
            .map(|_| (0..4).map(|_| rng.random::<f32>() - 0.5).sum())
            .collect();
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= n);
        v
    }

    fn random_set(n: u32, dims: usize, seed: u64) -> VectorSet {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut vs = VectorSet::new(dims);
        for id in 0..n {
            vs.insert(ChunkId(id), &random_unit(&mut rng, dims));
        }
        vs
    }

    fn ids(hits: &[(ChunkId, f32)]) -> Vec<ChunkId> {
        hits.iter().map(|h| h.0).collect()
    }

    #[test]
    fn rescored_candidates_recall_the_exact_top_10() {
        let dir = tempfile::tempdir().unwrap();
        let ann = AnnIndex::open(dir.path()).unwrap();
        let vs = random_set(2_000, 32, 1);
        assert_eq!(
            ann.search(&vs, MODEL, vs.get(ChunkId(0)).unwrap(), 10)
                .unwrap(),
            None
        );
        let report = ann.build(&vs, MODEL).unwrap().unwrap();
        assert_eq!(
            (report.items, report.added, report.removed),
            (2_000, 2_000, 0)
        );
        let mut rng = StdRng::seed_from_u64(2);
        let (mut found, mut total) = (0usize, 0usize);
        for _ in 0..50 {
            let q = random_unit(&mut rng, 32);
            let exact = ids(&vs.top_k(&q, 10));
            let approx = ann.search(&vs, MODEL, &q, 10).unwrap().unwrap();
            assert_eq!(approx.len(), 10);
            // Scores are the exact ones, best first.
            for (id, s) in &approx {
                assert!((s - crate::vectors::dot(vs.get(*id).unwrap(), &q)).abs() < 1e-6);
            }
            assert!(approx.windows(2).all(|w| w[0].1 >= w[1].1));
            found += ids(&approx).iter().filter(|id| exact.contains(id)).count();
            total += 10;
        }
        let recall = found as f64 / total as f64;
        assert!(recall >= 0.9, "recall@10 {recall}");
        let st = ann.status(&vs, MODEL).unwrap();
        assert_eq!((st.built, st.recent, st.deleted), (2_000, 0, 0));
        assert!(!st.wants_build());
    }

    #[test]
    fn deleted_chunks_never_come_back_and_recent_ones_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let ann = AnnIndex::open(dir.path()).unwrap();
        let mut vs = random_set(500, 16, 3);
        ann.build(&vs, MODEL).unwrap().unwrap();
        // Delete the exact top 5 of a query: none may be returned.
        let q = vs.get(ChunkId(42)).unwrap().to_vec();
        let top: Vec<ChunkId> = ids(&vs.top_k(&q, 5));
        assert_eq!(top[0], ChunkId(42));
        for id in &top {
            vs.remove(*id);
        }
        let hits = ann.search(&vs, MODEL, &q, 10).unwrap().unwrap();
        assert_eq!(hits.len(), 10);
        assert!(hits.iter().all(|(id, _)| !top.contains(id)));
        // A chunk embedded after the build is served by the exact scan of recent chunks.
        let mut rng = StdRng::seed_from_u64(4);
        let fresh = random_unit(&mut rng, 16);
        vs.insert(ChunkId(10_000), &fresh);
        let hits = ann.search(&vs, MODEL, &fresh, 3).unwrap().unwrap();
        assert_eq!(hits[0].0, ChunkId(10_000));
        assert!((hits[0].1 - 1.0).abs() < 1e-5);
        let st = ann.status(&vs, MODEL).unwrap();
        assert_eq!((st.built, st.recent, st.deleted), (500, 1, 5));
        // The next build folds both changes in.
        let report = ann.build(&vs, MODEL).unwrap().unwrap();
        assert_eq!((report.items, report.added, report.removed), (496, 1, 5));
        let st = ann.status(&vs, MODEL).unwrap();
        assert_eq!((st.built, st.recent, st.deleted), (496, 0, 0));
        let hits = ann.search(&vs, MODEL, &fresh, 3).unwrap().unwrap();
        assert_eq!(hits[0].0, ChunkId(10_000));
    }

    #[test]
    fn recent_list_is_cached_until_vectors_or_build_change() {
        let dir = tempfile::tempdir().unwrap();
        let ann = AnnIndex::open(dir.path()).unwrap();
        let mut vs = random_set(300, 8, 5);
        ann.build(&vs, MODEL).unwrap().unwrap();
        vs.insert(ChunkId(1_000), &[1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let rtxn = ann.env.read_txn().unwrap();
        let reader = Reader::<Cosine>::open(&rtxn, INDEX, ann.forest).unwrap();
        let a = ann.recent(&vs, 1, reader.item_ids());
        let b = ann.recent(&vs, 1, reader.item_ids());
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(*a, vec![ChunkId(1_000)]);
        let c = ann.recent(&vs, 2, reader.item_ids());
        assert!(!Arc::ptr_eq(&a, &c));
        vs.remove(ChunkId(1_000));
        let d = ann.recent(&vs, 2, reader.item_ids());
        assert!(d.is_empty());
    }

    #[test]
    fn another_model_is_ignored_then_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let vs = random_set(200, 8, 6);
        {
            let ann = AnnIndex::open(dir.path()).unwrap();
            ann.build(&vs, MODEL).unwrap().unwrap();
        }
        // Reopened: the build persists.
        let ann = AnnIndex::open(dir.path()).unwrap();
        assert_eq!(ann.status(&vs, MODEL).unwrap().built, 200);
        let other = ModelFingerprint([9; 16]);
        let q = vs.get(ChunkId(3)).unwrap().to_vec();
        assert_eq!(ann.search(&vs, other, &q, 5).unwrap(), None);
        let st = ann.status(&vs, other).unwrap();
        assert_eq!((st.built, st.recent), (0, 200));
        assert!(st.wants_build());
        let report = ann.build(&vs, other).unwrap().unwrap();
        assert_eq!((report.added, report.removed), (200, 0));
        assert_eq!(
            ann.search(&vs, other, &q, 1).unwrap().unwrap()[0].0,
            ChunkId(3)
        );
        assert_eq!(ann.search(&vs, MODEL, &q, 1).unwrap(), None);
    }

    #[test]
    fn one_build_at_a_time_and_cancel_rolls_back() {
        let dir = tempfile::tempdir().unwrap();
        let ann = AnnIndex::open(dir.path()).unwrap();
        let vs = random_set(100, 8, 7);
        let guard = ann.try_lock().unwrap();
        assert!(ann.is_building());
        assert_eq!(ann.build(&vs, MODEL).unwrap(), None);
        drop(guard);
        ann.cancel();
        assert!(ann.build(&vs, MODEL).is_err());
        assert!(!ann.is_building());
        assert_eq!(ann.status(&vs, MODEL).unwrap().built, 0);
    }

    #[test]
    fn rebuild_policy_waits_for_enough_changes() {
        let st = |built, recent, deleted| AnnStatus {
            built,
            recent,
            deleted,
            building: false,
        };
        assert!(st(0, 5, 0).wants_build());
        assert!(!st(50_000, 10_000, 0).wants_build());
        assert!(st(50_000, 9_000, 1_001).wants_build());
        assert!(!st(200_000, 15_000, 5_000).wants_build());
        assert!(st(200_000, 20_001, 0).wants_build());
    }
}
