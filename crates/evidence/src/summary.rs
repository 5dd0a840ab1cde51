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
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CoverageSummary {
    pub lines_valid: u64,
    pub lines_covered: u64,
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
                }
                Summary::Coverage(c) => {
                    let sum = o.coverage.get_or_insert_with(CoverageSummary::default);
                    sum.lines_valid += c.lines_valid;
                    sum.lines_covered += c.lines_covered;
                }
                Summary::Findings(f) => {
                    let sum = o.findings.get_or_insert_with(FindingSummary::default);
                    for (level, n) in &f.by_level {
                        *sum.by_level.entry(level.clone()).or_default() += n;
                    }
                }
                Summary::Opaque => {}
            }
        }
        o
    }
}
