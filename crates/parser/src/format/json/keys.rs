//! The key tree compiled from [`JsonFields`], and the values a line has filled
//! its slots with so far.

use super::fields::{CLIENT, JsonFields, SLOT_COUNT, USER_AGENT};
use super::string::Span;
use crate::format::Wants;
use crate::record::LatencyUnit;

pub(super) const ROOT: u32 = 0;
/// Value has no node in the key tree.
pub(super) const NO_NODE: u32 = u32::MAX;

/// A candidate path ends at this node.
#[derive(Clone, Copy, Debug)]
struct Terminal {
    slot: u8,
    /// Index in the slot's candidate list: lower wins.
    prio: u8,
    unit: LatencyUnit,
}

/// One object level of the key tree built from all candidate paths, so that
/// each key of a line is looked up once whatever the number of slots.
#[derive(Debug, Default)]
pub(super) struct Node {
    /// Sorted by key length; `by_len[len]` is the range of keys that long,
    /// which rejects most keys of a line without looking at their bytes.
    pub(super) children: Vec<Child>,
    by_len: Vec<(u32, u32)>,
    terminals: Vec<Terminal>,
    /// The node of the first item when the value here is an array: for
    /// slots whose value may be a list (Caddy logs each header as one).
    pub(super) first_item: Option<u32>,
}

#[derive(Debug)]
pub(super) struct Child {
    key: Box<[u8]>,
    /// First eight bytes of `key`: one register compare settles nearly every
    /// lookup without chasing the pointer or calling memcmp.
    head: u64,
    id: u32,
}

fn key_head(key: &[u8]) -> u64 {
    if let Some(head) = key.first_chunk::<8>() {
        return u64::from_le_bytes(*head);
    }
    let mut head = [0u8; 8];
    for (h, &k) in head.iter_mut().zip(key) {
        *h = k;
    }
    u64::from_le_bytes(head)
}

impl Node {
    pub(super) fn child(&self, key: &[u8]) -> Option<u32> {
        let &(lo, hi) = self.by_len.get(key.len())?;
        let head = key_head(key);
        let tail = key.get(8..).unwrap_or_default();
        self.children
            .get(lo as usize..hi as usize)?
            .iter()
            .find(|c| c.head == head && (tail.is_empty() || c.key.get(8..) == Some(tail)))
            .map(|c| c.id)
    }

    pub(super) fn wants(&self, found: &FoundSlots) -> bool {
        self.terminals.iter().any(|t| beats(t, found))
    }
}

/// Compiles the candidate paths of the slots a run wants into one tree
/// (the optional slots only when `wants` has them, so that a run without
/// them looks up no extra keys); node [`ROOT`] is the line's own object. A
/// dotted path also gets a flat key spelled with the dots, for log shippers
/// that flatten objects.
pub(super) fn build(fields: &JsonFields, wants: Wants) -> Vec<Node> {
    let mut nodes = vec![Node::default()];
    for (slot, candidates) in fields.slots.iter().enumerate() {
        let wanted = match slot {
            CLIENT => wants.client,
            USER_AGENT => wants.user_agent,
            _ => true,
        };
        if !wanted {
            continue;
        }
        for (prio, cand) in candidates.iter().enumerate() {
            let terminal = Terminal {
                slot: slot as u8,
                prio: u8::try_from(prio).unwrap_or(u8::MAX),
                unit: cand.unit,
            };
            let list = slot == USER_AGENT;
            insert(&mut nodes, &cand.path, terminal, list);
            if cand.path.len() > 1 {
                let flat = cand.path.join(&b'.');
                insert(&mut nodes, &[flat.into()], terminal, list);
            }
        }
    }
    for node in &mut nodes {
        node.children.sort_by_key(|c| c.key.len());
        let max_len = node.children.last().map_or(0, |c| c.key.len());
        node.by_len = vec![(0, 0); max_len + 1];
        let mut i = 0;
        while i < node.children.len() {
            let len = node.children[i].key.len();
            let start = i;
            while i < node.children.len() && node.children[i].key.len() == len {
                i += 1;
            }
            node.by_len[len] = (start as u32, i as u32);
        }
    }
    nodes
}

/// Adds the path of one candidate; with `list`, an array value there fills
/// the slot with its first item.
fn insert(nodes: &mut Vec<Node>, path: &[Box<[u8]>], terminal: Terminal, list: bool) {
    let mut at = ROOT as usize;
    for key in path {
        let existing = nodes[at]
            .children
            .iter()
            .find(|c| c.key == *key)
            .map(|c| c.id);
        at = match existing {
            Some(id) => id as usize,
            None => {
                let id = nodes.len();
                nodes.push(Node::default());
                nodes[at].children.push(Child {
                    key: key.clone(),
                    head: key_head(key),
                    id: id as u32,
                });
                id
            }
        };
    }
    nodes[at].terminals.push(terminal);
    if list {
        let item = match nodes[at].first_item {
            Some(id) => id as usize,
            None => {
                let id = nodes.len();
                nodes.push(Node::default());
                nodes[at].first_item = Some(id as u32);
                id
            }
        };
        nodes[item].terminals.push(terminal);
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Found {
    prio: u8,
    pub(super) span: Span,
    pub(super) number: bool,
    pub(super) unit: LatencyUnit,
}

pub(super) type FoundSlots = [Option<Found>; SLOT_COUNT];

fn beats(t: &Terminal, found: &FoundSlots) -> bool {
    found[usize::from(t.slot)].is_none_or(|f| t.prio < f.prio)
}

pub(super) fn record(node: &Node, found: &mut FoundSlots, span: Span, number: bool) {
    for t in &node.terminals {
        if beats(t, found) {
            found[usize::from(t.slot)] = Some(Found {
                prio: t.prio,
                span,
                number,
                unit: t.unit,
            });
        }
    }
}
