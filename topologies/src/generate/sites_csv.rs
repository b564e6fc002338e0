//! The sites CSV that [`consortium`](super::consortium) reads: one row per site, errors naming the
//! line and column.

use std::collections::HashMap;

use models::units::Bandwidth;

use super::consortium::{router_name, worker_name};
use super::{sanitize_name, GenerateError, GeoPoint};
use crate::check::NAME_MAX;

/// The most workers a generated scenario may have (`consortium` over all its rows, `uniform`'s
/// `--nodes`): 200 times the 5,000 nodes Kubernetes v1.16 is tested to (its scalability
/// thresholds), so a bound only a typo reaches, well before the generator's loops take minutes.
pub const MAX_WORKERS: u64 = 1_000_000;

/// The most sites a generated scenario may have (`consortium`'s rows, `uniform`'s `--sites`, and
/// `kubetwin bench scale --sites`). The full-mesh VPN's tunnels, and the routes over them, grow
/// as the square of the sites. On the 2-core development machine (release build), 1,000 sites
/// with every pair of routers linked (499,500 WAN links, a 53 MB file) take 30 s and 1.7 GB to
/// generate, then 50 s and 1.6 GB to load and run 4 pods; on a ring (`--layout ring`) 0.6 s and
/// 66 MB, then 1.8 s and 100 MB. 2,000 took 325 s and 6.7 GB. Thirty times the 32 universities
/// of the consortium the design aims at.
pub const MAX_SITES: usize = 1000;

const COLUMNS: [&str; 5] = ["name", "latitude", "longitude", "workers", "access_bandwidth"];
const REQUIRED: usize = 4;
const HEADER_HELP: &str = "a header `name,latitude,longitude,workers[,access_bandwidth]`";

/// One parsed row, with where its fields are.
#[derive(Debug, Clone)]
pub(super) struct Row {
    pub(super) raw_name: String,
    pub(super) name: String,
    pub(super) point: GeoPoint,
    pub(super) workers: u32,
    pub(super) access: Option<Bandwidth>,
    pub(super) line: usize,
    /// Column of each field, in COLUMNS order (0 when absent).
    pub(super) columns: [usize; 5],
}

/// Splits one CSV line into (1-based column of the value's first character, value) pairs.
/// Fields may be quoted with `"` (a doubled `""` inside is a quote); spaces around a field are
/// ignored. Err((column, message)) on an unterminated quote or text after a closing quote.
fn split_line(line: &str) -> Result<Vec<(usize, String)>, (usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let mut fields = Vec::new();
    let mut i = 0;
    loop {
        while i < chars.len() && chars[i].is_whitespace() {
            i += 1;
        }
        let start = i + 1;
        let mut value = String::new();
        if i < chars.len() && chars[i] == '"' {
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err((start, "unterminated quoted field; expected a closing `\"`".into()));
                    }
                    Some('"') if chars.get(i + 1) == Some(&'"') => {
                        value.push('"');
                        i += 2;
                    }
                    Some('"') => {
                        i += 1;
                        break;
                    }
                    Some(&c) => {
                        value.push(c);
                        i += 1;
                    }
                }
            }
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            if i < chars.len() && chars[i] != ',' {
                return Err((
                    i + 1,
                    "text after a closing quote; expected `,` or the end of the line".into(),
                ));
            }
        } else {
            while i < chars.len() && chars[i] != ',' {
                value.push(chars[i]);
                i += 1;
            }
            value.truncate(value.trim_end().len());
        }
        fields.push((start, value));
        if i >= chars.len() {
            return Ok(fields);
        }
        i += 1; // the comma
    }
}

/// The sites of a CSV read from `origin`, in file order (see [`consortium`](super::consortium)
/// for the format).
pub(super) fn parse_sites(text: &str, origin: &str) -> Result<Vec<Row>, GenerateError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
    let Some((hline, header)) = lines.next() else {
        return Err(At {
            origin,
            line: text.lines().count().max(1),
        }
        .error(
            1,
            "header",
            format!("no header and no sites; expected {HEADER_HELP} and one row per site"),
        ));
    };
    let header_at = At { origin, line: hline };
    let header = Header::parse(header_at, header)?;
    let mut rows: Vec<Row> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut total_workers = 0u64;
    for (line, text) in lines {
        let at = At { origin, line };
        let values = header.values(at, text)?;
        let (name_col, raw_name) = values.name;
        let name = site_name(at, name_col, &raw_name)?;
        if let Some(first) = seen.get(&name) {
            return Err(at.error(
                name_col,
                "name",
                format!(
                    "site name `{raw_name}` (`{name}`) is already used on line {first}; expected a name unique after lower-casing and replacing punctuation with `-`"
                ),
            ));
        }
        let latitude = degrees(at, &values.latitude, "latitude", 90.0)?;
        let longitude = degrees(at, &values.longitude, "longitude", 180.0)?;
        let (w_col, workers) = values.workers;
        let workers = worker_count(at, w_col, &workers)?;
        host_names_fit(at, name_col, &name, workers)?;
        total_workers += u64::from(workers);
        if total_workers > MAX_WORKERS {
            return Err(at.error(
                w_col,
                "workers",
                format!(
                    "{workers} brings the consortium to {total_workers} workers; expected at most {MAX_WORKERS} in all"
                ),
            ));
        }
        let access = access_bandwidth(at, values.access)?;
        if rows.len() == MAX_SITES {
            return Err(at.error(
                1,
                "name",
                format!("a site beyond the {MAX_SITES}th; expected at most {MAX_SITES} sites (rows)"),
            ));
        }
        seen.insert(name.clone(), line);
        rows.push(Row {
            raw_name,
            name,
            point: GeoPoint { latitude, longitude },
            workers,
            access,
            line,
            columns: values.columns,
        });
    }
    if rows.is_empty() {
        return Err(header_at.error(
            1,
            "header",
            format!("no site rows after the header; expected one row per site under {HEADER_HELP}"),
        ));
    }
    Ok(rows)
}

/// A line of the CSV, where [`GenerateError::Csv`] errors point.
#[derive(Debug, Clone, Copy)]
struct At<'a> {
    /// The file.
    origin: &'a str,
    /// The 1-based line.
    line: usize,
}

impl At<'_> {
    /// The error at `column` of this line, in `field`.
    fn error(self, column: usize, field: &str, message: String) -> GenerateError {
        GenerateError::Csv {
            origin: self.origin.to_owned(),
            line: self.line,
            column,
            field: field.to_owned(),
            message,
        }
    }
}

/// The header: which CSV field holds which column.
#[derive(Debug)]
struct Header {
    /// The field of each column, in COLUMNS order (`None` when absent).
    slot_of: [Option<usize>; 5],
    /// How many fields the header has; a row may have no more.
    width: usize,
}

/// One row's values as written, each with its column.
#[derive(Debug)]
struct Values {
    name: (usize, String),
    latitude: (usize, String),
    longitude: (usize, String),
    workers: (usize, String),
    /// Absent when the header has no `access_bandwidth` column or the row stops before it.
    access: Option<(usize, String)>,
    /// Column of each field, in COLUMNS order (0 when absent).
    columns: [usize; 5],
}

impl Header {
    /// Parses the header line `header` at `at`: known columns, none twice, the required ones all
    /// there.
    fn parse(at: At<'_>, header: &str) -> Result<Header, GenerateError> {
        let fields = split_line(header).map_err(|(c, m)| at.error(c, "header", m))?;
        let mut slot_of: [Option<usize>; 5] = [None; 5];
        for (k, (col, value)) in fields.iter().enumerate() {
            let v = value.trim().to_ascii_lowercase();
            match COLUMNS.iter().position(|c| *c == v) {
                Some(p) if slot_of[p].is_some() => {
                    return Err(at.error(
                        *col,
                        "header",
                        format!("column `{v}` appears twice; expected {HEADER_HELP}"),
                    ));
                }
                Some(p) => slot_of[p] = Some(k),
                None => {
                    return Err(at.error(
                        *col,
                        "header",
                        format!("unknown column `{}`; expected {HEADER_HELP}", value.trim()),
                    ));
                }
            }
        }
        if let Some(missing) = (0..REQUIRED).find(|&p| slot_of[p].is_none()) {
            return Err(at.error(
                header.chars().count() + 1,
                "header",
                format!("missing column `{}`; expected {HEADER_HELP}", COLUMNS[missing]),
            ));
        }
        Ok(Header {
            slot_of,
            width: fields.len(),
        })
    }

    /// The values of the row `text` at `at`, by column: no more values than the header has
    /// columns, and one for each required column.
    fn values(&self, at: At<'_>, text: &str) -> Result<Values, GenerateError> {
        let width = self.width;
        let fields = split_line(text).map_err(|(c, m)| at.error(c, "row", m))?;
        if fields.len() > width {
            return Err(at.error(
                fields[width].0,
                "row",
                format!(
                    "{} values where the header has {width} columns; expected {width} comma-separated values",
                    fields.len()
                ),
            ));
        }
        let mut columns = [0usize; 5];
        let mut value = |p: usize| -> Result<Option<(usize, &str)>, GenerateError> {
            let Some(k) = self.slot_of[p] else { return Ok(None) };
            match fields.get(k) {
                Some((col, v)) => {
                    columns[p] = *col;
                    Ok(Some((*col, v.as_str())))
                }
                None if p < REQUIRED => Err(at.error(
                    text.chars().count() + 1,
                    COLUMNS[p],
                    format!(
                        "missing value for `{}`: the row has {}; expected {width} comma-separated values",
                        COLUMNS[p],
                        crate::count(fields.len() as u64, "value")
                    ),
                )),
                None => Ok(None),
            }
        };
        let mut required = |p: usize| -> Result<(usize, String), GenerateError> {
            let (col, v) = value(p)?.unwrap_or((1, ""));
            Ok((col, v.to_owned()))
        };
        let name = required(0)?;
        let latitude = required(1)?;
        let longitude = required(2)?;
        let workers = required(3)?;
        let access = value(4)?.map(|(c, v)| (c, v.to_owned()));
        Ok(Values {
            name,
            latitude,
            longitude,
            workers,
            access,
            columns,
        })
    }
}

/// The sanitized site name of `raw_name` (at column `col`), which must keep a Latin letter or a
/// digit.
fn site_name(at: At<'_>, col: usize, raw_name: &str) -> Result<String, GenerateError> {
    let name = sanitize_name(raw_name);
    if name.is_empty() {
        return Err(at.error(
            col,
            "name",
            if raw_name.chars().any(char::is_alphanumeric) {
                format!(
                    "site name `{raw_name}` has no Latin letter or digit, and host names are built from those; expected a name with a Latin part, such as `University of Tokyo ({raw_name})`"
                )
            } else {
                format!("site name `{raw_name}` has no letter or digit; expected a name such as `Keio University`")
            },
        ));
    }
    Ok(name)
}

/// Refuses a site name (sanitized `name`, at column `col`) that would make a host name of the
/// site longer than a Kubernetes node's name may be ([`NAME_MAX`] characters): its router
/// `<name>-gw` and, with `workers` workers, the last of them `<name>-wNN`.
fn host_names_fit(at: At<'_>, col: usize, name: &str, workers: u32) -> Result<(), GenerateError> {
    let longest = std::iter::once(router_name(name))
        .chain((workers > 0).then(|| worker_name(name, workers, workers)))
        .max_by_key(String::len)
        .expect("the router is always there");
    if longest.len() <= NAME_MAX {
        return Ok(());
    }
    let suffix = &longest[name.len()..];
    Err(at.error(
        col,
        "name",
        format!(
            "site name is {} characters once sanitized, which makes host names of up to {} characters (`<site>{suffix}`); expected a name of at most {} characters, as a host name (a Kubernetes node's) has at most {NAME_MAX}",
            name.len(),
            longest.len(),
            NAME_MAX - suffix.len()
        ),
    ))
}

/// A latitude or longitude (`field`) in decimal degrees, in `-limit..=limit`.
fn degrees(at: At<'_>, (col, v): &(usize, String), field: &str, limit: f64) -> Result<f64, GenerateError> {
    match v.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && (-limit..=limit).contains(&x) => Ok(x),
        Ok(x) => Err(at.error(
            *col,
            field,
            format!("{field} {x} is out of range; expected decimal degrees in -{limit}..={limit}"),
        )),
        Err(_) => Err(at.error(
            *col,
            field,
            format!("`{v}` is not a number; expected decimal degrees in -{limit}..={limit}, such as 35.68"),
        )),
    }
}

/// A site's worker count: a whole number, 0 allowed, at most [`MAX_WORKERS`].
fn worker_count(at: At<'_>, col: usize, workers: &str) -> Result<u32, GenerateError> {
    let too_many = || {
        at.error(
            col,
            "workers",
            format!(
                "{} workers at one site; expected at most {MAX_WORKERS} in all",
                workers.trim()
            ),
        )
    };
    match workers.trim().parse::<u64>() {
        Ok(n) if n > MAX_WORKERS => Err(too_many()),
        Ok(n) => u32::try_from(n).map_err(|_| too_many()),
        // A whole number too large for any integer (`parse` says so for digits only).
        Err(_) if !workers.trim().is_empty() && workers.trim().bytes().all(|b| b.is_ascii_digit()) => Err(too_many()),
        Err(_) => Err(at.error(
            col,
            "workers",
            format!("`{workers}` is not a worker count; expected a whole number >= 0, such as 10"),
        )),
    }
}

/// A site's access bandwidth: `None` when the column or the value is absent or blank.
fn access_bandwidth(at: At<'_>, access: Option<(usize, String)>) -> Result<Option<Bandwidth>, GenerateError> {
    Ok(match access {
        Some((_, v)) if v.trim().is_empty() => None,
        Some((col, v)) => Some(v.parse::<Bandwidth>().map_err(|e| {
            at.error(
                col,
                "access_bandwidth",
                format!("{e}; expected a bandwidth such as \"1Gbit\" or an empty field for the default"),
            )
        })?),
        None => None,
    })
}
