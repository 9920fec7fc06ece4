//! What changed between two versions of a week, visit by visit: the list a coordinator reads after
//! re-planning (the counts in `Changes` say how many; this says which).

use std::collections::BTreeMap;

use serde::Serialize;

use super::PlanView;

/// One visit (a site's part) that moved, was added or was dropped.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ChangedVisit {
    pub site_id: i64,
    pub name: String,
    pub part: i32,
    pub parts: i32,
    /// Team and day before (`None` for an added visit).
    pub before: Option<(String, String)>,
    /// Team and day now (`None` for a dropped visit).
    pub after: Option<(String, String)>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ChangeList {
    pub moved: Vec<ChangedVisit>,
    pub added: Vec<ChangedVisit>,
    pub dropped: Vec<ChangedVisit>,
}

impl ChangeList {
    pub fn is_empty(&self) -> bool {
        self.moved.is_empty() && self.added.is_empty() && self.dropped.is_empty()
    }
}

type Placed = BTreeMap<(i64, i32), (String, i32, (String, String))>;

fn placed(view: &PlanView) -> Placed {
    view.routes
        .iter()
        .flat_map(|r| {
            r.stops.iter().map(move |s| {
                (
                    (s.site_id, s.part),
                    (s.name.clone(), s.parts, (r.team.clone(), r.day.clone())),
                )
            })
        })
        .collect()
}

/// The visits of `after` against those of `before`, matched by site and part.
pub fn change_list(before: &PlanView, after: &PlanView) -> ChangeList {
    let (old, new) = (placed(before), placed(after));
    let mut out = ChangeList::default();
    for (key, (name, parts, now)) in &new {
        let visit = |before: Option<(String, String)>| ChangedVisit {
            site_id: key.0,
            name: name.clone(),
            part: key.1,
            parts: *parts,
            before,
            after: Some(now.clone()),
        };
        match old.get(key) {
            None => out.added.push(visit(None)),
            Some((_, _, then)) if then != now => out.moved.push(visit(Some(then.clone()))),
            Some(_) => {}
        }
    }
    for (key, (name, parts, then)) in &old {
        if !new.contains_key(key) {
            out.dropped.push(ChangedVisit {
                site_id: key.0,
                name: name.clone(),
                part: key.1,
                parts: *parts,
                before: Some(then.clone()),
                after: None,
            });
        }
    }
    out
}
