//! The person who asks: who shares the library, their taste in words with
//! its corrections ("Your taste"), and what importing a listening history
//! did.

use moodshelf_engine::Kind;
use moodshelf_engine::listens::ImportReport;
use moodshelf_engine::taste::{TastePart, TasteProfile};
use serde::Serialize;
use specta::Type;

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct People {
    pub names: Vec<String>,
    /// Who asks now.
    pub asking: String,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct TastePartView {
    /// "genre", "creator", "era" or "theme".
    pub facet: String,
    pub value: String,
    pub works: u32,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct KindTasteView {
    pub kind: Kind,
    pub works: u32,
    /// The whole of it in words.
    pub words: String,
    pub comes_back_to: Vec<TastePartView>,
    pub avoids: Vec<TastePartView>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct TasteView {
    pub person: String,
    pub kinds: Vec<KindTasteView>,
    pub across_kinds: Vec<String>,
    pub forgotten: Vec<TastePartView>,
}

#[derive(Debug, Clone, Serialize, Type)]
#[serde(rename_all = "camelCase")]
pub struct HistoryImport {
    /// What was imported, in a sentence.
    pub summary: String,
    /// Why the rest was not, a line per reason.
    pub unmatched: Vec<String>,
}

impl From<&TastePart> for TastePartView {
    fn from(p: &TastePart) -> Self {
        TastePartView {
            facet: p.facet.clone(),
            value: p.value.clone(),
            works: p.works.min(u32::MAX as usize) as u32,
        }
    }
}

impl From<TasteProfile> for TasteView {
    fn from(t: TasteProfile) -> Self {
        TasteView {
            person: t.person.name,
            kinds: t
                .kinds
                .iter()
                .map(|k| KindTasteView {
                    kind: k.kind,
                    works: k.works.min(u32::MAX as usize) as u32,
                    words: k.words.clone(),
                    comes_back_to: k.comes_back_to.iter().map(TastePartView::from).collect(),
                    avoids: k.avoids.iter().map(TastePartView::from).collect(),
                })
                .collect(),
            across_kinds: t.across_kinds.iter().map(|p| p.value.clone()).collect(),
            forgotten: t
                .forgotten
                .iter()
                .map(|f| TastePartView {
                    facet: f.facet.clone(),
                    value: f.value.clone(),
                    works: 0,
                })
                .collect(),
        }
    }
}

impl From<ImportReport> for HistoryImport {
    fn from(r: ImportReport) -> Self {
        HistoryImport {
            summary: format!(
                "{} export: {} listens, {} matched to {} tracks",
                r.service.as_str(),
                r.listens,
                r.matched,
                r.tracks
            ),
            unmatched: r
                .unmatched
                .iter()
                .map(|(why, n)| format!("{n} not matched: {}", why.says()))
                .collect(),
        }
    }
}
