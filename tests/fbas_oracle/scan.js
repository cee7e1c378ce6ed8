// Test oracle: run stellarbeat's WASM scanner (the Rust fbas_analyzer) on a nodes JSON file and print JSON.
// Usage: node scan.js NODES.json [ORGS.json] [--faulty auto|none] [--merges node,organization,isp,country]
//        [--analysis minimal_quorums|minimal_blocking_sets|minimal_splitting_sets|top_tier|symmetric_top_tier]
// With --analysis, only that analysis runs (node level), and its own time is printed: for per-analysis timeouts.
// Quirks handled here: the WASM panics on "quorumSet": null, so those keys are dropped first.
"use strict";
const fs = require("fs");
const sa = require("@stellarbeat/stellar_analysis_nodejs");

const MERGE = { node: 0, organization: 1, isp: 2, country: 3 };
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : fallback;
};
const faultyMode = option("--faulty", "auto");
const merges = option("--merges", "node,organization,isp,country").split(",");
const only = option("--analysis", null);
const [nodesPath, orgsPath] = args;

// python-fbas's {validators, qsets} format is converted to stellarbeat nodes first.
const toQset = (qsets, ref) => {
  const raw = qsets[ref];
  const members = raw.members || [];
  return {
    threshold: raw.threshold,
    validators: members.filter((m) => !(m in qsets)),
    innerQuorumSets: members.filter((m) => m in qsets).map((m) => toQset(qsets, m)),
  };
};
const parsed = JSON.parse(fs.readFileSync(nodesPath, "utf8"));
const nodes = Array.isArray(parsed)
  ? parsed
  : parsed.validators.map((v) => ({ ...(v.attrs || {}), publicKey: v.id, quorumSet: v.qset ? toQset(parsed.qsets, v.qset) : null }));
for (const node of nodes) if (node.quorumSet === null) delete node.quorumSet;
const nodesJson = JSON.stringify(nodes);
const orgsJson = orgsPath ? fs.readFileSync(orgsPath, "utf8") : "[]";
const faulty = faultyMode === "auto" ? nodes.filter((n) => n.isValidating === false).map((n) => n.publicKey) : [];

// Silence the library's own progress lines on stdout.
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = () => true;
const started = process.hrtime.bigint();
const ANALYSES = {
  minimal_quorums: () => sa.analyze_minimal_quorums(nodesJson, orgsJson, 0),
  minimal_blocking_sets: () => sa.analyze_minimal_blocking_sets(nodesJson, orgsJson, JSON.stringify(faulty), 0).result,
  minimal_splitting_sets: () => sa.analyze_minimal_splitting_sets(nodesJson, orgsJson, 0).result,
  top_tier: () => sa.analyze_top_tier(nodesJson, orgsJson, 0).top_tier,
  symmetric_top_tier: () => sa.analyze_symmetric_top_tier(nodesJson, orgsJson, 0).symmetric_top_tier,
};
if (only !== null) {
  if (!(only in ANALYSES)) throw new Error(`unknown analysis ${only}`);
  const result = ANALYSES[only]();
  const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
  const line = JSON.stringify({ analysis: only, result, elapsed_ms: elapsed }) + "\n";
  write(line, () => process.exit(0)); // the library stays silenced; exit once the pipe has taken the line
} else {
  const results = {};
  for (const merge of merges) {
    const m = MERGE[merge];
    const quorums = sa.analyze_minimal_quorums(nodesJson, orgsJson, m);
    results[merge] = {
      quorum_intersection: quorums.quorum_intersection,
      minimal_quorums: quorums.result,
      minimal_blocking_sets: sa.analyze_minimal_blocking_sets(nodesJson, orgsJson, JSON.stringify(faulty), m).result,
      minimal_splitting_sets: sa.analyze_minimal_splitting_sets(nodesJson, orgsJson, m).result,
      top_tier: sa.analyze_top_tier(nodesJson, orgsJson, m).top_tier,
      symmetric_top_tier: sa.analyze_symmetric_top_tier(nodesJson, orgsJson, m).symmetric_top_tier,
    };
  }
  const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
  process.stdout.write = write;
  console.log(JSON.stringify({ results, elapsed_ms: elapsedMs }));
}
