//! "Explain more": the reasoning model's tailored reason for one pick, on
//! request (a pick's button in the window). Every pick already shows a
//! reason composed at the speed of picks ([`super::explain`]); this one
//! costs a model call, so it is written only when a person asks, and it
//! is checked like every reason: a claim the item's facts and
//! understanding do not support refuses it.

use moodshelf_llm::Cancel;

use super::{explain, model};
use crate::error::{Code, Error, Result};
use crate::store::Store;

/// The model's reason for one pick, or why there is none.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum MoreReason {
    /// A reason that passed the check.
    Reason(String),
    /// The model wrote one the check refused (what it claimed, and why
    /// that was refused): the pick keeps the reason it has.
    Refused { why: String, refused_for: String },
}

/// Asks the reasoning model (or the reasoning endpoint) why the item
/// `item_id` fits the request `text`, and checks the reply.
pub async fn explain_more(store: &Store, text: &str, item_id: i64) -> Result<MoreReason> {
    let Some(v) = store.catalog().items_by_ids(&[item_id]).await?.pop() else {
        return Err(Error::new(
            Code::InvalidInput,
            format!("item {item_id} is not in the library"),
        ));
    };
    let profiles = store.profiles().await?;
    let cand = explain::candidate(&v, profiles.get(item_id), None);
    let reasoner = store.reasoner().await?;
    let requests = model::explain_requests(text, std::slice::from_ref(&cand));
    let out = tokio::task::spawn_blocking(move || {
        reasoner.generate_many(requests, &Cancel::default(), |_, _| {})
    })
    .await
    .map_err(Error::internal)??;
    let reply = out.first().map(|g| g.text.as_str()).unwrap_or_default();
    let Some(why) = model::parse_reason(reply) else {
        return Ok(MoreReason::Refused {
            why: reply.trim().to_string(),
            refused_for: "the model wrote no reason".into(),
        });
    };
    Ok(match explain::refusal(&why, &cand, text) {
        None => MoreReason::Reason(why),
        Some(r) => MoreReason::Refused {
            why,
            refused_for: r.to_string(),
        },
    })
}
