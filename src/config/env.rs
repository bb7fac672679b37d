//! Environment overrides: `NIRYAT__SECTION__KEY=value` sets `key` of `[section]`, as containers
//! are configured (`NIRYAT__TELEGRAM__CHANNEL`, `NIRYAT__STORAGE__PATH`, `NIRYAT__SERVER__LISTEN`).
//!
//! The overlay is generic over the TOML table: the file is parsed into a table, each variable is
//! checked against the keys the config structs accept ([`super::known_keys`]) and written into
//! the table, and the table is then read exactly as a file would be. A key added to the structs
//! later can be set from the environment without more code.
//!
//! * Names are the key path in capitals joined by `__` (nested tables too:
//!   `NIRYAT__SOURCES__DPRCG_DISTRICT__LIST__ITEM`). Keys are matched case-insensitively.
//! * Values are read as a TOML value (`true`, `20`, `0.6`, `["a", "b"]`) and otherwise as a
//!   string; keys that hold strings always take the value as written (a chat id `-100…` stays a
//!   string).
//! * Sources (`[[sources]]`, an array of tables) are addressed by id:
//!   `NIRYAT__SOURCES__<ID>__<KEY>`, where `<ID>` is the source's id in capitals with every
//!   character other than a letter or digit written `_` (`dprcg-district` → `DPRCG_DISTRICT`).
//!   Only sources in the file can be changed (not added, and not their `id`).
//! * A variable that names no key is an error naming the variable (exit 2), never ignored.

use toml::{Table, Value};

use super::keys::Leaf;

/// Prefix of every override variable.
pub const PREFIX: &str = "NIRYAT__";

/// One override applied: the key it set, as validation errors name it (`telegram.channel`,
/// `sources[3].enabled`), and the variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub key: String,
    pub var: String,
}

/// A variable that cannot be applied: `(variable, why)`.
pub type EnvError = (String, String);

/// Write every `NIRYAT__…` variable of `vars` into `table`. `known` lists the accepted leaf keys
/// (sources' keys under `sources.`).
pub fn apply(
    table: &mut Table,
    vars: impl IntoIterator<Item = (String, String)>,
    known: &[(String, Leaf)],
) -> Result<Vec<Override>, EnvError> {
    let mut vars: Vec<(String, String)> = vars
        .into_iter()
        .filter(|(k, _)| k.starts_with(PREFIX))
        .collect();
    vars.sort();
    let mut applied = Vec::new();
    for (var, raw) in vars {
        let fail = |msg: String| (var.clone(), msg);
        let parts: Vec<&str> = var[PREFIX.len()..].split("__").collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(fail(format!(
                "not a key path: write {PREFIX}SECTION__KEY, e.g. {PREFIX}TELEGRAM__CHANNEL"
            )));
        }
        let lower: Vec<String> = parts.iter().map(|p| p.to_ascii_lowercase()).collect();
        if lower[0] == "sources" {
            if parts.len() < 3 {
                return Err(fail(format!(
                    "sources are set by id: {PREFIX}SOURCES__<ID>__<KEY>, e.g. {PREFIX}SOURCES__DPRCG_DISTRICT__ENABLED=false"
                )));
            }
            let key = lower[2..].join(".");
            let leaf = leaf_of(known, &format!("sources.{key}"))
                .filter(|_| key != "id")
                .ok_or_else(|| fail(unknown(known, &format!("sources.{key}"))))?;
            let (i, source) = find_source(table, parts[1]).map_err(fail)?;
            set(source, &lower[2..], value(&raw, leaf)).map_err(fail)?;
            applied.push(Override {
                key: format!("sources[{i}].{key}"),
                var,
            });
        } else {
            let key = lower.join(".");
            let leaf = leaf_of(known, &key)
                .filter(|_| !key.starts_with("sources."))
                .ok_or_else(|| fail(unknown(known, &key)))?;
            set(table, &lower, value(&raw, leaf)).map_err(fail)?;
            applied.push(Override { key, var });
        }
    }
    Ok(applied)
}

/// `id` as it is written in a variable name.
pub fn env_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect()
}

fn leaf_of(known: &[(String, Leaf)], key: &str) -> Option<Leaf> {
    known.iter().find(|(k, _)| k == key).map(|(_, l)| *l)
}

/// "unknown key", with the keys of the same section as a hint.
fn unknown(known: &[(String, Leaf)], key: &str) -> String {
    let section = key.rsplit_once('.').map_or("", |(s, _)| s);
    let siblings: Vec<&str> = known
        .iter()
        .filter_map(|(k, _)| k.strip_prefix(section)?.strip_prefix('.'))
        .filter(|k| !k.contains('.') && *k != "id")
        .collect();
    if section.is_empty() || siblings.is_empty() {
        let sections: std::collections::BTreeSet<&str> = known
            .iter()
            .map(|(k, _)| k.split('.').next().unwrap_or_default())
            .collect();
        format!(
            "no config key `{key}` (sections: {})",
            sections.into_iter().collect::<Vec<_>>().join(", ")
        )
    } else {
        format!(
            "no config key `{key}` (keys of [{section}]: {})",
            siblings.join(", ")
        )
    }
}

/// The source whose id is written `name` in a variable, with its index.
fn find_source<'t>(table: &'t mut Table, name: &str) -> Result<(usize, &'t mut Table), String> {
    let sources: &mut [Value] = match table.get_mut("sources") {
        Some(Value::Array(a)) => a,
        _ => &mut [],
    };
    let id_of = |v: &Value| {
        v.get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let ids: Vec<String> = sources.iter().map(id_of).collect();
    let wanted = name.to_ascii_uppercase();
    let hits: Vec<usize> = (0..ids.len())
        .filter(|&i| env_name(&ids[i]) == wanted)
        .collect();
    match hits.as_slice() {
        [i] => match &mut sources[*i] {
            Value::Table(t) => Ok((*i, t)),
            _ => Err(format!("sources[{i}] is not a table")),
        },
        [] => Err(format!(
            "no source whose id is written {wanted} (ids in capitals, other characters as '_'; the config has: {})",
            ids.iter()
                .map(|id| env_name(id))
                .collect::<Vec<_>>()
                .join(", ")
        )),
        many => Err(format!(
            "{wanted} names {} sources ({}): give them ids that differ in more than '-', '.' and '_'",
            many.len(),
            many.iter()
                .map(|&i| ids[i].as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The variable's text as the value of a key of type `leaf`.
fn value(raw: &str, leaf: Leaf) -> Value {
    if leaf == Leaf::String {
        return Value::String(raw.to_owned());
    }
    toml::from_str::<Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_owned()))
}

/// Set `path` in `table`, creating the tables on the way.
fn set(table: &mut Table, path: &[String], v: Value) -> Result<(), String> {
    let Some((last, parents)) = path.split_last() else {
        return Err("empty key".to_owned());
    };
    let mut t = table;
    for (depth, p) in parents.iter().enumerate() {
        let entry = t
            .entry(p.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        t = match entry {
            Value::Table(inner) => inner,
            _ => {
                return Err(format!(
                    "`{}` is a value in the file, not a table",
                    path[..=depth].join(".")
                ));
            }
        };
    }
    t.insert(last.clone(), v);
    Ok(())
}

/// The value at a dotted `key` of `table`, if set.
pub fn get<'t>(table: &'t Table, key: &str) -> Option<&'t Value> {
    let mut parts = key.split('.');
    let mut v = table.get(parts.next()?)?;
    for p in parts {
        v = v.get(p)?;
    }
    Some(v)
}
