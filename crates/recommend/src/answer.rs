//! What goes into the recommender and what comes out of it: the request,
//! the moment it is asked at, the picks and the answer around them, and the
//! events a host sees while the answer is made.

use chrono::NaiveDateTime;
use moodshelf_catalog::ItemView;
use serde::Serialize;

use super::intent::{self, Intent};
use super::rank::{self, Weights};
use crate::context::{Context, Hemisphere};

/// The most picks one answer may hold.
pub const MAX_LIMIT: usize = 200;

/// A moment as both clocks see it: Unix seconds for storage, the user's
/// wall time for meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moment {
    pub unix: i64,
    pub local: NaiveDateTime,
}

/// How much understanding to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Plain embedding search: the request's vector, nothing else.
    Search,
    /// The fast path: rules read the request, ranking uses everything else.
    Rules,
    /// Rules plus the reasoning model, which also explains the picks.
    Model,
}

#[derive(Debug, Clone)]
pub struct RecommendRequest {
    pub text: String,
    /// Restricts kinds, whatever the request says.
    pub kind: Option<crate::Kind>,
    /// The kinds a person includes at all (a host setting); empty means
    /// every kind. A request for a kind left out is answered with an error
    /// that says so, not with another kind.
    pub included_kinds: Vec<crate::Kind>,
    pub limit: usize,
    pub moment: Moment,
    /// `None` uses the settings.
    pub hemisphere: Option<Hemisphere>,
    pub mode: Mode,
    /// Continue this conversation (follow-ups refine its last answer).
    pub conversation: Option<i64>,
    /// Store the conversation and what was shown. Evaluations turn it off.
    pub remember: bool,
    /// Ranking weights other than the fitted ones (the fitting script
    /// tries candidates); `None` uses [`rank::FITTED`].
    pub weights: Option<Weights>,
    /// The host answers this one request and exits (`moodshelf ask`): the
    /// embedding model is let go once the request is embedded, so that it
    /// does not stay resident beside the reasoning model while the reasons
    /// are written. A host that answers again keeps it warm.
    pub one_shot: bool,
}

impl RecommendRequest {
    pub fn new(text: impl Into<String>, moment: Moment) -> Self {
        RecommendRequest {
            text: text.into(),
            kind: None,
            included_kinds: Vec::new(),
            limit: 10,
            moment,
            hemisphere: None,
            mode: Mode::Rules,
            conversation: None,
            remember: true,
            weights: None,
            one_shot: false,
        }
    }
}

/// One pick: the catalog's item, its score and the reason shown for it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Pick {
    #[serde(flatten)]
    pub item: ItemView,
    pub score: f32,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, Default, PartialEq)]
pub struct RecTimings {
    pub embed_ms: f64,
    pub vector_ms: f64,
    pub text_ms: f64,
    pub catalog_ms: f64,
    pub understand_ms: f64,
    pub model_intent_ms: f64,
    pub search_ms: f64,
    pub rank_ms: f64,
    /// From the request to the first picks (what a host shows at once).
    pub first_picks_ms: f64,
    pub explain_first_token_ms: Option<f64>,
    /// From the request to the first checked reason from the model.
    pub first_reason_ms: Option<f64>,
    pub explain_ms: f64,
    pub total_ms: f64,
}

/// Who read a request: the rules alone, or the rules and then the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum UnderstoodBy {
    #[serde(rename = "rules")]
    Rules,
    #[serde(rename = "rules+model")]
    RulesAndModel,
}

impl UnderstoodBy {
    /// As answers are shown and stored: "rules" or "rules+model".
    pub fn as_str(self) -> &'static str {
        match self {
            UnderstoodBy::Rules => "rules",
            UnderstoodBy::RulesAndModel => "rules+model",
        }
    }
}

/// Who wrote an answer's reasons: the rules, or the model (for the picks
/// it explained before it stopped, if it did).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExplainedBy {
    Rules,
    Model,
}

impl ExplainedBy {
    /// As answers are shown and stored: "rules" or "model".
    pub fn as_str(self) -> &'static str {
        match self {
            ExplainedBy::Rules => "rules",
            ExplainedBy::Model => "model",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    pub items: Vec<Pick>,
    pub intent: Intent,
    pub context: Context,
    pub mode: Mode,
    pub conversation_id: Option<i64>,
    pub follow_up: bool,
    /// Who read the request. The model is asked only when the rules found
    /// no need in it.
    pub understood_by: UnderstoodBy,
    /// Who wrote the reasons.
    pub explained_by: ExplainedBy,
    /// Which model read the request or wrote reasons, when one did.
    pub reasoner: ReasonerInfo,
    /// The needs the moment added (season, holidays, time of day), with
    /// their weights, when the request left it room.
    pub moment_needs: Vec<intent::Need>,
    /// Model reasons refused by the checks, and why (the rule reason was
    /// shown instead).
    pub refused_reasons: Vec<RefusedReason>,
    /// Things the user should know (no model loaded, a reference not found).
    pub notices: Vec<String>,
    pub timings_ms: RecTimings,
}

/// The model behind an answer, and its name when there was one.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReasonerInfo {
    pub kind: ReasonerKind,
    pub model: Option<String>,
}

/// Where the model behind an answer ran: `local` (the model file on this
/// machine), `endpoint` (a server on another machine) or `none` (the fast
/// path: no model read the request or wrote a reason).
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ReasonerKind {
    Local,
    Endpoint,
    None,
}

impl ReasonerKind {
    /// The kind of a reasoner in use.
    pub fn of(r: &moodshelf_llm::Reasoner) -> ReasonerKind {
        match r {
            moodshelf_llm::Reasoner::Local(_) => ReasonerKind::Local,
            moodshelf_llm::Reasoner::Endpoint(_) => ReasonerKind::Endpoint,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RefusedReason {
    pub id: i64,
    pub why: String,
    pub refused_for: String,
}

/// A request's candidates before ranking (see [`Library::candidates`]).
#[derive(Debug, Clone)]
pub struct Pool {
    pub intent: Intent,
    pub candidates: Vec<rank::Scored>,
}

/// What a host sees while an answer is made.
#[derive(Debug, Clone)]
pub enum RecEvent {
    Intent(Box<Intent>),
    /// Picks with rule-based reasons; sent before the model explains.
    Picks(Vec<Pick>),
    /// A piece of the model's raw reply.
    Piece(String),
    /// A checked reason from the model for one pick.
    Why {
        id: i64,
        why: String,
    },
    Notice(String),
}

pub type EventFn<'a> = &'a mut (dyn FnMut(RecEvent) + Send);
