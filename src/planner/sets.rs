//! The sets of an instance's sites that the search treats as one: groups (the parts of a
//! multi-day visit or a PAUD pair, all served or none, by one team) and choices (alternatives,
//! at most one served).

use super::instance::Instance;

/// Per site the index of its set (or none), and per set its sites.
pub(super) type Sets = (Vec<Option<u32>>, Vec<Vec<usize>>);

/// Groups with, per group, the team's working days between consecutive parts.
pub(super) type Groups = (Vec<Option<u32>>, Vec<Vec<usize>>, Vec<u32>);

/// Groups of the instance: per site its group index, per group its sites in part order and the
/// working days between its parts. Part
/// numbers of a group must be distinct; a group of one part is an ordinary site.
pub(super) fn groups_of(inst: &Instance) -> Result<Groups, String> {
    let mut by_id: std::collections::BTreeMap<&str, Vec<(u32, usize)>> = Default::default();
    for (i, s) in inst.sites.iter().enumerate() {
        if let Some(g) = &s.group {
            by_id.entry(g.id.as_str()).or_default().push((g.part, i));
        }
    }
    let mut group_of = vec![None; inst.sites.len()];
    let mut groups = Vec::new();
    let mut gaps_of = Vec::new();
    for (id, mut parts) in by_id {
        parts.sort_unstable();
        if parts.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(format!("grup {id}: nomor bagian ganda"));
        }
        let gaps: Vec<u32> = parts
            .iter()
            .filter_map(|(_, i)| inst.sites[*i].group.as_ref().map(|g| g.gap))
            .collect::<std::collections::BTreeSet<u32>>()
            .into_iter()
            .collect();
        if gaps.len() > 1 {
            return Err(format!("grup {id}: jarak hari antarbagian berbeda"));
        }
        if parts.len() < 2 {
            continue;
        }
        for &(_, i) in &parts {
            group_of[i] = Some(groups.len() as u32);
        }
        gaps_of.push(gaps.first().copied().unwrap_or(1).max(1));
        groups.push(parts.into_iter().map(|(_, i)| i).collect());
    }
    Ok((group_of, groups, gaps_of))
}

/// Choices of the instance: per site its choice index, per choice its sites (of two or more).
pub(super) fn choices_of(inst: &Instance) -> Sets {
    let mut by_id: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, s) in inst.sites.iter().enumerate() {
        if let Some(c) = &s.choice {
            by_id.entry(c.as_str()).or_default().push(i);
        }
    }
    let mut choice_of = vec![None; inst.sites.len()];
    let mut choices = Vec::new();
    for members in by_id.into_values().filter(|m| m.len() > 1) {
        for &i in &members {
            choice_of[i] = Some(choices.len() as u32);
        }
        choices.push(members);
    }
    (choice_of, choices)
}
