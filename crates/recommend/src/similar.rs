//! Tracks that sound like another (`moodshelf similar`), and every
//! analysed track's sound as answers and playlists read it.

use std::collections::HashMap;
use std::path::Path;

use moodshelf_catalog::ItemView;
use serde::Serialize;

use crate::error::{Code, Error, Result};
use crate::hearing::Sound;
use crate::store::Store;

/// A track that sounds like another, with how far apart they are.
#[derive(Debug, Clone, Serialize)]
pub struct Alike {
    #[serde(flatten)]
    pub item: ItemView,
    /// Distance in sound space (0 = alike).
    pub distance: f32,
    /// What was heard in it.
    pub heard: Vec<String>,
}

/// Every analysed, audible track's sound on available folders, by item
/// id, read from the analysis alone.
pub(crate) async fn sounds(store: &Store) -> Result<HashMap<i64, Sound>> {
    Ok(store
        .catalog()
        .sound_rows(moodshelf_sound::ANALYSIS_VERSION)
        .await?
        .into_iter()
        .filter_map(|(id, json)| Some((id, Sound::from_json(&json)?)))
        .collect())
}

/// The `limit` analysed tracks that sound most like the track at
/// `path`, nearest first.
pub async fn sounds_like(store: &Store, path: &Path, limit: usize) -> Result<Vec<Alike>> {
    let item = store.item_at(path).await?;
    // From the analysis itself: it needs no index or embedding.
    let sounds = sounds(store).await?;
    let Some(sound) = sounds.get(&item.id).copied() else {
        return Err(Error::new(
            Code::InvalidInput,
            format!(
                "{} has no sound analysis yet (run `moodshelf analyze`; silent or undecodable tracks have none)",
                path.display()
            ),
        ));
    };
    let mut near: Vec<(i64, f32)> = sounds
        .iter()
        .filter(|(id, _)| **id != item.id)
        .map(|(id, s)| (*id, s.distance(&sound)))
        .collect();
    near.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
    near.truncate(limit);
    let ids: Vec<i64> = near.iter().map(|(id, _)| *id).collect();
    let distance: HashMap<i64, f32> = near.into_iter().collect();
    Ok(store
        .catalog()
        .items_in_order(&ids)
        .await?
        .into_iter()
        .filter_map(|item| {
            Some(Alike {
                distance: *distance.get(&item.id)?,
                heard: sounds.get(&item.id)?.words(),
                item,
            })
        })
        .collect())
}
