//! Proptest strategies for arbitrary JSON, shared by the parser fuzz
//! (`tests/fuzz.rs`) and the API payload fuzz (`tests/api/fuzz.rs`).
//!
//! Purely random JSON almost never gets past the first type check, so the
//! strategies mix it with objects whose keys are the real field names of
//! the input under test and with values chosen to sit on the edges the
//! parsers must handle (dates that do not exist, the last representable
//! instant, numbers past `u32`, empty and huge strings, control characters).

use proptest::prelude::*;
use serde_json::{Map, Number, Value};

/// Strings that look almost right, or are right at an edge.
pub const TRICKY_STRINGS: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "\n",
    "null",
    "-1",
    "0",
    "1e400",
    "2026-12-02",
    "2026-02-30",
    "2026-13-01",
    "0000-01-01",
    "9999-12-31",
    "+262143-12-31",
    "2026-1-2",
    "2026-12-02T09:00:00+01:00",
    "2026-12-02T25:00:00Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "Europe/Amsterdam",
    "Europe/Amsterdan",
    "food-valley",
    "centraal-gelderland",
    "Ede",
    "GM0228",
    "vtb",
    "ots_end",
    "evaluation",
    "local_team",
    "coordinator",
    "chair",
    "voluntary_binding",
    "09:00",
    "24:00",
    "professional@sociaalteam-ede.example.org",
    "a@b",
    "JBT-26-0815",
    "123456782",
    "2012-05-17",
    "ḟőő-ünïcødé",
    "'; DROP TABLE referrals; --",
    "%00%ff",
];

/// Numbers at the edges of the integer types the inputs use.
fn tricky_number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::from(0)),
        Just(Value::from(-1)),
        Just(Value::from(1)),
        Just(Value::from(i64::from(u32::MAX))),
        Just(Value::from(i64::from(u32::MAX) + 1)),
        Just(Value::from(i64::MAX)),
        Just(Value::from(i64::MIN)),
        Just(Value::from(u64::MAX)),
        Just(Value::from(0.5)),
        Just(Value::from(1e300)),
        any::<i64>().prop_map(Value::from),
        (-1000i64..1000).prop_map(Value::from),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        tricky_number(),
        any::<f64>()
            .prop_filter_map("finite", Number::from_f64)
            .prop_map(Value::Number),
        prop::sample::select(TRICKY_STRINGS).prop_map(|s| Value::String(s.to_string())),
        any::<String>().prop_map(Value::String),
        // Long enough to pass any length check that forgot a bound.
        (1usize..5000).prop_map(|n| Value::String("x".repeat(n))),
    ]
}

/// Any JSON value, nested a few levels, with object keys drawn from `keys`
/// half of the time.
pub fn json(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        prop::sample::select(keys).prop_map(str::to_string),
        "[a-z_]{1,12}",
    ];
    leaf().prop_recursive(4, 48, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with some of `keys`, each set to an arbitrary value: the shape
/// a client bug or an attacker would send to an endpoint.
pub fn object_with(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(keys), json(keys)), 0..=keys.len()).prop_map(
        |pairs| {
            let mut map = Map::new();
            for (k, v) in pairs {
                map.insert(k.to_string(), v);
            }
            Value::Object(map)
        },
    )
}

/// A valid `template` with a few fields replaced by arbitrary values or
/// removed: close enough to valid to reach the checks behind the type check.
pub fn mutated(template: Value, keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (any::<prop::sample::Index>(), any::<bool>(), json(keys)),
        1..4,
    )
    .prop_map(move |edits| {
        let mut value = template.clone();
        for (at, remove, replacement) in edits {
            mutate(&mut value, at, remove, replacement);
        }
        value
    })
}

/// Replaces (or removes, where it has a parent) the node at `at` in a
/// depth-first numbering of `value`.
pub fn mutate(value: &mut Value, at: prop::sample::Index, remove: bool, replacement: Value) {
    let count = count_nodes(value);
    let target = at.index(count);
    let mut seen = 0;
    visit(value, target, &mut seen, remove, replacement);
}

fn count_nodes(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count_nodes).sum(),
        Value::Object(map) => map.values().map(count_nodes).sum(),
        _ => 0,
    }
}

/// Returns true when the edit was made. A node to remove is removed by its
/// parent; the root is replaced instead.
fn visit(
    value: &mut Value,
    target: usize,
    seen: &mut usize,
    remove: bool,
    replacement: Value,
) -> bool {
    if *seen == target {
        *value = replacement;
        return true;
    }
    *seen += 1;
    match value {
        Value::Array(items) => {
            for i in 0..items.len() {
                if *seen == target && remove {
                    items.remove(i);
                    return true;
                }
                if visit(&mut items[i], target, seen, remove, replacement.clone()) {
                    return true;
                }
            }
            false
        }
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().cloned().collect();
            for k in keys {
                if *seen == target && remove {
                    map.remove(&k);
                    return true;
                }
                let Some(child) = map.get_mut(&k) else {
                    continue;
                };
                if visit(child, target, seen, remove, replacement.clone()) {
                    return true;
                }
            }
            false
        }
        _ => false,
    }
}
