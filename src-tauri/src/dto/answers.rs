//! Answers as the window shows them: cards, what the reasoning model
//! understood of a work, the events an answer streams, stored
//! conversations, feedback and suggestions; and how the engine's picks,
//! intents and recommendations become them.

use moodshelf_catalog::{Conversation, ItemView, Message};
use moodshelf_engine::recommend::intent::{NeedSource, PickRef};
use moodshelf_engine::{Intent, Kind, Pick, RecEvent, Recommendation};
use serde::{Deserialize, Serialize};
use specta::Type;

/// One pick as the window shows it. Paths are shown, never opened by the
/// webview: Open and Show in folder go through commands that take the id.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    pub id: i64,
    pub kind: Kind,
    pub title: String,
    pub creator: Option<String>,
    pub album: Option<String>,
    pub year: Option<i32>,
    pub duration_secs: Option<f64>,
    pub path: String,
    pub has_cover: bool,
    pub why: String,
}

impl From<&Pick> for Card {
    fn from(p: &Pick) -> Self {
        Card {
            id: p.item.id,
            kind: p.item.kind,
            title: p.item.title.clone(),
            creator: p.item.creator.clone(),
            album: p.item.album.clone(),
            year: p.item.year,
            duration_secs: p.item.duration_secs,
            path: moodshelf_engine::names::display(&p.item.path).into_owned(),
            has_cover: p.item.cover.is_some(),
            why: p.why.clone(),
        }
    }
}

/// What the reasoning model understood of a pick's work, for its details
/// (read at index time: `moodshelf enrich`, or in the background after a
/// scan).
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Understood {
    /// "yes" (the model knows the work), "partly" (read from what its file
    /// says), "no"; `None` until the work is read.
    pub known: Option<String>,
    /// One sentence of what the work is (only when known).
    pub about: Option<String>,
    /// Facets in words: ("Genres", "courtroom drama, coming of age").
    pub facets: Vec<FacetLine>,
    /// The model that read it.
    pub by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct FacetLine {
    pub label: String,
    pub value: String,
}

impl From<moodshelf_engine::enrich::ItemDetails> for Understood {
    fn from(d: moodshelf_engine::enrich::ItemDetails) -> Self {
        let Some(u) = d.understanding else {
            return Understood {
                known: None,
                about: None,
                facets: Vec::new(),
                by: d.understood_by,
            };
        };
        let setting: Vec<String> = [u.place.clone(), u.era.clone()]
            .into_iter()
            .flatten()
            .collect();
        let lines = [
            ("Style", u.style.clone()),
            ("Genres", Some(u.genres.join(", "))),
            ("About", Some(u.themes.join(", "))),
            ("Set in", Some(setting.join(", "))),
            ("Feels", Some(u.moods.join(", "))),
            ("Tone", u.tone.clone()),
            ("Pace", u.pace.clone()),
            ("Energy", u.energy.clone()),
            ("For", u.audience.clone()),
        ];
        Understood {
            known: Some(u.known.clone()),
            about: u.about.clone(),
            facets: lines
                .into_iter()
                .filter_map(|(label, v)| {
                    v.filter(|v| !v.is_empty()).map(|value| FacetLine {
                        label: label.into(),
                        value,
                    })
                })
                .collect(),
            by: d.understood_by,
        }
    }
}

/// The model's tailored reason for one pick ("Explain more"): a reason
/// that passed the check, or what the check refused and why.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct MoreReason {
    pub why: Option<String>,
    /// Why the model's reason was not shown ("claims a genre the item
    /// does not have"); the pick keeps its own.
    pub refused: Option<String>,
}

impl From<moodshelf_engine::recommend::more::MoreReason> for MoreReason {
    fn from(r: moodshelf_engine::recommend::more::MoreReason) -> Self {
        use moodshelf_engine::recommend::more::MoreReason as M;
        match r {
            M::Reason(why) => MoreReason {
                why: Some(why),
                refused: None,
            },
            M::Refused { refused_for, .. } => MoreReason {
                why: None,
                refused: Some(refused_for),
            },
        }
    }
}

/// A stored pick: reasons are not kept.
impl From<&ItemView> for Card {
    fn from(v: &ItemView) -> Self {
        Card {
            id: v.id,
            kind: v.kind,
            title: v.title.clone(),
            creator: v.creator.clone(),
            album: v.album.clone(),
            year: v.year,
            duration_secs: v.duration_secs,
            path: moodshelf_engine::names::display(&v.path).into_owned(),
            has_cover: v.cover.is_some(),
            why: String::new(),
        }
    }
}

/// What an answer streams while it is made.
#[derive(Debug, Clone, Serialize, Type)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum AnswerEvent {
    /// How the request was read, as short phrases ("no horror").
    Understood {
        phrases: Vec<String>,
    },
    /// The picks, with rule-based reasons, before the model explains.
    Picks {
        cards: Vec<Card>,
    },
    /// A piece of the model's reply (for a live "thinking" line).
    Piece {
        text: String,
    },
    /// A checked reason from the model for one pick.
    Why {
        id: i64,
        why: String,
    },
    Notice {
        message: String,
    },
}

impl From<RecEvent> for AnswerEvent {
    fn from(ev: RecEvent) -> Self {
        match ev {
            RecEvent::Intent(i) => AnswerEvent::Understood {
                phrases: understood(&i),
            },
            RecEvent::Picks(picks) => AnswerEvent::Picks {
                cards: picks.iter().map(Card::from).collect(),
            },
            RecEvent::Piece(text) => AnswerEvent::Piece { text },
            RecEvent::Why { id, why } => AnswerEvent::Why { id, why },
            RecEvent::Notice(message) => AnswerEvent::Notice { message },
        }
    }
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub conversation_id: Option<i64>,
    pub cards: Vec<Card>,
    pub understood: Vec<String>,
    pub follow_up: bool,
    pub explained_by: String,
    pub notices: Vec<String>,
    pub first_picks_ms: f64,
    pub total_ms: f64,
}

impl From<Recommendation> for Answer {
    fn from(rec: Recommendation) -> Self {
        Answer {
            conversation_id: rec.conversation_id,
            cards: rec.items.iter().map(Card::from).collect(),
            understood: understood(&rec.intent),
            follow_up: rec.follow_up,
            explained_by: rec.explained_by.as_str().into(),
            notices: rec.notices,
            first_picks_ms: rec.timings_ms.first_picks_ms,
            total_ms: rec.timings_ms.total_ms,
        }
    }
}

/// The reading of a request as short phrases for the window.
pub fn understood(i: &Intent) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    if !i.kinds.is_empty() && i.kinds.len() < 3 {
        let kinds: Vec<&str> = i.kinds.iter().map(|k| k.plural()).collect();
        out.push(kinds.join(" or "));
    }
    out.extend(
        i.needs
            .iter()
            .filter(|n| n.from != NeedSource::Earlier)
            .map(|n| n.descriptor.clone()),
    );
    out.extend(i.audience.iter().map(|a| format!("for {}", a.as_str())));
    if let Some(m) = i.max_minutes {
        out.push(format!("under {m} min"));
    }
    if let Some(m) = i.min_minutes {
        out.push(format!("over {m} min"));
    }
    match (i.year_from, i.year_to) {
        (Some(a), Some(b)) => out.push(format!("{a}–{b}")),
        (Some(a), None) => out.push(format!("from {a}")),
        (None, Some(b)) => out.push(format!("up to {b}")),
        (None, None) => {}
    }
    out.extend(i.like.iter().map(|l| format!("like {l}")));
    out.extend(i.like_picks.iter().map(|p| match p {
        PickRef::Nth(n) => format!("like pick {n}"),
        PickRef::Last => "like the last pick".to_string(),
    }));
    out.extend(i.exclude.iter().map(|e| format!("no {e}")));
    out.extend(i.avoid.iter().map(|a| format!("not too {a}")));
    out.extend(i.refine.iter().map(|r| r.as_string()));
    out
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, Type)]
#[serde(rename_all = "camelCase")]
pub enum Verdict {
    Like,
    Dislike,
    NotNow,
}

impl From<Verdict> for moodshelf_catalog::Verdict {
    fn from(v: Verdict) -> Self {
        match v {
            Verdict::Like => Self::Like,
            Verdict::Dislike => Self::Dislike,
            Verdict::NotNow => Self::NotNow,
        }
    }
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct Suggestion {
    pub label: String,
    pub prompt: String,
}

impl From<moodshelf_engine::Suggestion> for Suggestion {
    fn from(s: moodshelf_engine::Suggestion) -> Self {
        Suggestion {
            label: s.label,
            prompt: s.prompt,
        }
    }
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ConversationSummary {
    pub id: i64,
    pub title: String,
    pub updated_at: i64,
}

impl From<Conversation> for ConversationSummary {
    fn from(c: Conversation) -> Self {
        ConversationSummary {
            id: c.id,
            title: c.title,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    /// "user" or "assistant".
    pub role: String,
    pub text: String,
    pub cards: Vec<Card>,
}

impl ChatMessage {
    /// A stored message, its picks as cards from `views` (the items of
    /// the conversation; reasons are not kept).
    pub fn stored(m: Message, views: &[ItemView]) -> Self {
        ChatMessage {
            cards: m
                .items
                .iter()
                .filter_map(|id| views.iter().find(|v| v.id == *id))
                .map(Card::from)
                .collect(),
            role: m.role,
            text: m.text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::understood;

    #[test]
    fn understood_reads_as_phrases() {
        use moodshelf_engine::recommend::intent::PickRef;
        let i = moodshelf_engine::Intent {
            kinds: vec![moodshelf_engine::Kind::Video],
            max_minutes: Some(120),
            exclude: vec!["horror".into()],
            like_picks: vec![PickRef::Last],
            ..Default::default()
        };
        assert_eq!(
            understood(&i),
            vec!["videos", "under 120 min", "like the last pick", "no horror"],
            "the last pick reads as words, not as a huge number"
        );
    }
}
