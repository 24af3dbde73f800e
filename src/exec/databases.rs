//! A scenario's database pools: one per `sql` connection (and rendered URL), shared by every
//! client instance and the `before:`/`after:` phases.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::proto::sql::{Database, Options, SqlError, Target};

/// The pools opened so far.
#[derive(Default)]
pub struct Databases(Mutex<HashMap<(String, String), Arc<Database>>>);

impl Databases {
    /// The pool for connection `name` at `url`, set up on first use (no I/O: its connections
    /// open when a query needs one). The URL is part of the key because a connection's URL may
    /// be templated per client.
    pub fn get(&self, name: &str, url: &str, options: Options) -> Result<Arc<Database>, SqlError> {
        let mut pools = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (name.to_string(), url.to_string());
        if let Some(pool) = pools.get(&key) {
            return Ok(pool.clone());
        }
        let pool = Arc::new(Database::open(Target::parse(url)?, options)?);
        pools.insert(key, pool.clone());
        Ok(pool)
    }

    /// Waits until the cancel requests of stopped queries have reached their servers.
    pub async fn settle(&self) {
        let pools: Vec<Arc<Database>> = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for pool in pools {
            pool.settle().await;
        }
    }
}
