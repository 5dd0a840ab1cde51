//! Format detection and the four parsers. JUnit, LCOV and SARIF come from
//! their crates; Cobertura is read with quick-xml's serde support because only
//! its root attributes matter.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::error::Problem;
use crate::summary::{
    CoverageSummary, Finding, FindingSummary, Summary, TestOutcome, TestProblem, TestSummary,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    JUnit,
    Cobertura,
    Lcov,
    Sarif,
    Other,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Self::JUnit => "JUnit XML",
            Self::Cobertura => "Cobertura XML",
            Self::Lcov => "LCOV",
            Self::Sarif => "SARIF",
            Self::Other => "file",
        }
    }
}

/// The XML root element's name, skipping the prolog, comments and doctype.
fn xml_root(bytes: &[u8]) -> Option<String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf).ok()? {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e) => {
                return Some(e.local_name().into_inner().to_owned())
            }
            quick_xml::events::Event::Eof => return None,
            _ => buf.clear(),
        }
    }
}

/// By name first, then by content for `.xml` and `.json`.
pub fn detect(name: &str, bytes: &[u8]) -> Kind {
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".sarif") || lower.ends_with(".sarif.json") {
        return Kind::Sarif;
    }
    if lower.ends_with(".info") || lower.ends_with(".lcov") {
        return Kind::Lcov;
    }
    if lower.ends_with(".xml") {
        return match xml_root(bytes).as_deref() {
            Some("testsuites" | "testsuite" | "testrun") => Kind::JUnit,
            Some("coverage") => Kind::Cobertura,
            _ => Kind::Other,
        };
    }
    if lower.ends_with(".json")
        && serde_json::from_slice::<serde_json::Value>(bytes)
            .ok()
            .is_some_and(|v| v.get("runs").is_some() && v.get("version").is_some())
    {
        return Kind::Sarif;
    }
    Kind::Other
}

/// Deeper than any real report nests; the parsers recurse, so deeper input
/// is refused before they see it.
pub const MAX_XML_DEPTH: usize = 64;

/// Whether `bytes` nests elements deeper than `limit`, read as a stream
/// without building anything. Malformed XML is left to the parser to name.
fn xml_deeper_than(bytes: &[u8], limit: usize) -> bool {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    let mut depth = 0usize;
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Start(_)) => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            Ok(quick_xml::events::Event::End(_)) => depth = depth.saturating_sub(1),
            Ok(quick_xml::events::Event::Eof) | Err(_) => return false,
            Ok(_) => {}
        }
        buf.clear();
    }
}

pub(crate) fn summarise(kind: Kind, bytes: &[u8]) -> Result<Summary, Problem> {
    let malformed =
        |format: &'static str| move |e: String| Problem::Malformed { format, detail: e };
    if matches!(kind, Kind::JUnit | Kind::Cobertura) && xml_deeper_than(bytes, MAX_XML_DEPTH) {
        return Err(Problem::TooDeep {
            limit: MAX_XML_DEPTH,
        });
    }
    match kind {
        Kind::JUnit => junit(bytes).map_err(malformed("JUnit XML")),
        Kind::Cobertura => cobertura(bytes).map_err(malformed("Cobertura XML")),
        Kind::Lcov => lcov(bytes).map_err(malformed("LCOV")),
        Kind::Sarif => sarif(bytes).map_err(malformed("SARIF")),
        Kind::Other => Ok(Summary::Opaque),
    }
}

fn junit(bytes: &[u8]) -> Result<Summary, String> {
    let report = junit_parser::from_reader(bytes).map_err(|e| e.to_string())?;
    let mut s = TestSummary::default();
    fn walk(suite: &junit_parser::TestSuite, s: &mut TestSummary) {
        for case in &suite.cases {
            let st = &case.status;
            // `name` from the parser already joins classname and name.
            let name = match &case.classname {
                Some(c) if !c.is_empty() => format!("{c}::{}", case.original_name),
                _ => case.original_name.clone(),
            };
            let problem = match st {
                junit_parser::TestStatus::Failure(f) => {
                    s.failed += 1;
                    s.failing.push(name.clone());
                    Some((TestOutcome::Failed, &f.message, &f.text))
                }
                junit_parser::TestStatus::Error(e) => {
                    s.errored += 1;
                    s.failing.push(name.clone());
                    Some((TestOutcome::Errored, &e.message, &e.text))
                }
                junit_parser::TestStatus::Skipped(k) => {
                    s.skipped += 1;
                    Some((TestOutcome::Skipped, &k.message, &k.text))
                }
                junit_parser::TestStatus::Success => {
                    s.passed += 1;
                    None
                }
            };
            if let Some((outcome, message, text)) = problem {
                if s.problems.len() < MAX_DETAILS {
                    let message = if message.is_empty() { text } else { message };
                    s.problems.push(TestProblem {
                        name,
                        outcome,
                        message: message.chars().take(MAX_MESSAGE_CHARS).collect(),
                    });
                }
            }
        }
        for inner in &suite.suites {
            walk(inner, s);
        }
    }
    for suite in &report.suites {
        walk(suite, &mut s);
    }
    if s.passed + s.failed + s.errored + s.skipped == 0 {
        return Err("the report holds no test cases".into());
    }
    Ok(Summary::Tests(s))
}

/// Tests, findings and files listed one by one, at most (the totals stay whole).
const MAX_DETAILS: usize = 5_000;
/// A test's or a finding's message, at most.
const MAX_MESSAGE_CHARS: usize = 2_000;

#[derive(Deserialize)]
struct CoberturaRoot {
    #[serde(rename = "@line-rate")]
    line_rate: f64,
    #[serde(rename = "@lines-covered")]
    lines_covered: Option<u64>,
    #[serde(rename = "@lines-valid")]
    lines_valid: Option<u64>,
    #[serde(default)]
    packages: Option<CoberturaPackages>,
}

#[derive(Deserialize, Default)]
struct CoberturaPackages {
    #[serde(default)]
    package: Vec<CoberturaPackage>,
}

#[derive(Deserialize)]
struct CoberturaPackage {
    #[serde(default)]
    classes: Option<CoberturaClasses>,
}

#[derive(Deserialize, Default)]
struct CoberturaClasses {
    #[serde(default)]
    class: Vec<CoberturaClass>,
}

#[derive(Deserialize)]
struct CoberturaClass {
    #[serde(rename = "@filename")]
    filename: String,
    #[serde(default)]
    lines: Option<CoberturaLines>,
}

#[derive(Deserialize, Default)]
struct CoberturaLines {
    #[serde(default)]
    line: Vec<CoberturaLine>,
}

#[derive(Deserialize)]
struct CoberturaLine {
    #[serde(rename = "@number")]
    number: u32,
    #[serde(rename = "@hits")]
    hits: u64,
}

fn cobertura(bytes: &[u8]) -> Result<Summary, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
    let root: CoberturaRoot = quick_xml::de::from_str(text).map_err(|e| e.to_string())?;
    if !(0.0..=1.0).contains(&root.line_rate) {
        return Err(format!(
            "line-rate {} is not between 0 and 1",
            root.line_rate
        ));
    }
    let (valid, covered) = match (root.lines_valid, root.lines_covered) {
        (Some(v), Some(c)) if c <= v => (v, c),
        (Some(v), Some(c)) => return Err(format!("{c} lines covered of {v} valid")),
        // Older writers give only the rate: keep it to 0.01 % precision.
        _ => (10_000, (root.line_rate * 10_000.0).round() as u64),
    };
    let mut files: BTreeMap<String, BTreeMap<u32, u64>> = BTreeMap::new();
    for class in root
        .packages
        .iter()
        .flat_map(|p| &p.package)
        .filter_map(|p| p.classes.as_ref())
        .flat_map(|c| &c.class)
        .take(MAX_DETAILS)
    {
        let lines = files.entry(class.filename.clone()).or_default();
        for l in class.lines.iter().flat_map(|l| &l.line) {
            *lines.entry(l.number).or_default() += l.hits;
        }
    }
    Ok(Summary::Coverage(CoverageSummary {
        lines_valid: valid,
        lines_covered: covered,
        files,
    }))
}

fn lcov(bytes: &[u8]) -> Result<Summary, String> {
    use lcov::Record;
    let mut s = CoverageSummary::default();
    let mut records = 0;
    let mut file: Option<String> = None;
    for record in lcov::Reader::new(bytes) {
        match record.map_err(|e| e.to_string())? {
            Record::LinesFound { found } => s.lines_valid += u64::from(found),
            Record::LinesHit { hit } => s.lines_covered += u64::from(hit),
            Record::SourceFile { path } => {
                file = Some(path.to_string_lossy().into_owned());
            }
            Record::LineData { line, count, .. } => {
                if let Some(path) = &file {
                    if s.files.len() < MAX_DETAILS || s.files.contains_key(path) {
                        *s.files
                            .entry(path.clone())
                            .or_default()
                            .entry(line)
                            .or_default() += count;
                    }
                }
            }
            Record::EndOfRecord => file = None,
            _ => {}
        }
        records += 1;
    }
    if records == 0 {
        return Err("the tracefile is empty".into());
    }
    if s.lines_covered > s.lines_valid {
        return Err(format!(
            "{} lines hit of {} found",
            s.lines_covered, s.lines_valid
        ));
    }
    Ok(Summary::Coverage(s))
}

fn sarif(bytes: &[u8]) -> Result<Summary, String> {
    let log: serde_sarif::sarif::Sarif =
        serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mut by_level: BTreeMap<String, u64> = BTreeMap::new();
    let mut findings = Vec::new();
    for run in &log.runs {
        for result in run.results.iter().flatten() {
            // SARIF's default level is `warning` (§3.27.10).
            let level = result
                .level
                .as_ref()
                .and_then(|l| serde_json::to_value(l).ok())
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_else(|| "warning".to_owned());
            *by_level.entry(level.clone()).or_default() += 1;
            if findings.len() >= MAX_DETAILS {
                continue;
            }
            let physical = result
                .locations
                .iter()
                .flatten()
                .find_map(|l| l.physical_location.as_ref());
            findings.push(Finding {
                rule: result.rule_id.clone().unwrap_or_default(),
                level,
                message: result
                    .message
                    .text
                    .as_deref()
                    .unwrap_or_default()
                    .chars()
                    .take(MAX_MESSAGE_CHARS)
                    .collect(),
                path: physical
                    .and_then(|p| p.artifact_location.as_ref())
                    .and_then(|a| a.uri.clone()),
                line: physical
                    .and_then(|p| p.region.as_ref())
                    .and_then(|r| r.start_line)
                    .and_then(|n| u32::try_from(n).ok()),
            });
        }
    }
    Ok(Summary::Findings(FindingSummary { by_level, findings }))
}
