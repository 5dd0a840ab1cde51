use std::collections::BTreeMap;

/// What one evidence file says.
#[derive(Debug, Clone, PartialEq)]
pub enum Summary {
    Tests(TestSummary),
    Coverage(CoverageSummary),
    Findings(FindingSummary),
    /// Hashed and covered by signatures, but not a format we summarise.
    Opaque,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestSummary {
    pub passed: u64,
    pub failed: u64,
    /// Errors count as failures for approval; kept apart for the reader.
    pub errored: u64,
    pub skipped: u64,
    /// `classname::name` of every failing or erroring test.
    pub failing: Vec<String>,
    /// Every test that did not pass, with what the report says of it.
    pub problems: Vec<TestProblem>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestOutcome {
    Failed,
    Errored,
    Skipped,
}

/// A test that did not pass: its name, how, and the report's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestProblem {
    pub name: String,
    pub outcome: TestOutcome,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageSummary {
    pub lines_valid: u64,
    pub lines_covered: u64,
    /// Per source file (as the report names it): line number → hits.
    pub files: BTreeMap<String, BTreeMap<u32, u64>>,
}

impl CoverageSummary {
    pub fn percent(&self) -> Option<f64> {
        (self.lines_valid > 0).then(|| 100.0 * self.lines_covered as f64 / self.lines_valid as f64)
    }
}

/// SARIF results by level (`error`, `warning`, `note`, `none`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FindingSummary {
    pub by_level: BTreeMap<String, u64>,
    pub findings: Vec<Finding>,
}

/// One SARIF result: rule, level, message and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: String,
    pub level: String,
    pub message: String,
    pub path: Option<String>,
    pub line: Option<u32>,
}

/// Everything a change's evidence says, summed over its files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    pub tests: Option<TestSummary>,
    pub coverage: Option<CoverageSummary>,
    pub findings: Option<FindingSummary>,
}

impl Overview {
    pub fn of<'a>(summaries: impl IntoIterator<Item = &'a Summary>) -> Self {
        let mut o = Overview::default();
        for s in summaries {
            match s {
                Summary::Tests(t) => {
                    let sum = o.tests.get_or_insert_with(TestSummary::default);
                    sum.passed += t.passed;
                    sum.failed += t.failed;
                    sum.errored += t.errored;
                    sum.skipped += t.skipped;
                    sum.failing.extend(t.failing.iter().cloned());
                    sum.problems.extend(t.problems.iter().cloned());
                }
                Summary::Coverage(c) => {
                    let sum = o.coverage.get_or_insert_with(CoverageSummary::default);
                    sum.lines_valid += c.lines_valid;
                    sum.lines_covered += c.lines_covered;
                    for (path, lines) in &c.files {
                        let into = sum.files.entry(path.clone()).or_default();
                        for (line, hits) in lines {
                            *into.entry(*line).or_default() += hits;
                        }
                    }
                }
                Summary::Findings(f) => {
                    let sum = o.findings.get_or_insert_with(FindingSummary::default);
                    for (level, n) in &f.by_level {
                        *sum.by_level.entry(level.clone()).or_default() += n;
                    }
                    sum.findings.extend(f.findings.iter().cloned());
                }
                Summary::Opaque => {}
            }
        }
        o
    }
}
