// After the first frame is painted, for the benchmark to see.
requestAnimationFrame(() => requestAnimationFrame(() => { document.body.dataset.painted = "1"; }));
