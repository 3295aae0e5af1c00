// A rule for `graphql-inspector diff`: breaking changes recorded as deliberate are let through.
//
//   graphql-inspector diff schema/released/public.graphql schema/public.graphql \
//     --rule tests/federation/deliberate.js
//
// The record is schema/released/deliberate-breaking-changes.json (or the file named by
// HUB_DELIBERATE_BREAKING_CHANGES): a list of {"type", "path", "reason"}, one per change, with
// the type and path inspector reports (FIELD_REMOVED, Enterprise.legalRepresentative) and why
// the break is worth it. A recorded change is reported as dangerous instead of breaking. A record
// that matches no change fails the check: it is left over from a release and would let a later
// break at the same place through unnoticed. See "The published contract" in README.md.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const RECORD =
	process.env.HUB_DELIBERATE_BREAKING_CHANGES ??
	path.join(__dirname, "..", "..", "schema", "released", "deliberate-breaking-changes.json");

function readRecord() {
	const entries = JSON.parse(fs.readFileSync(RECORD, "utf8"));
	if (!Array.isArray(entries)) {
		throw new Error(`${RECORD}: expected a list of {"type", "path", "reason"}`);
	}
	for (const entry of entries) {
		if (!entry.type || !entry.path || !String(entry.reason ?? "").trim()) {
			throw new Error(`${RECORD}: every entry needs a type, a path and a reason`);
		}
	}
	return entries;
}

function deliberate({ changes }) {
	const entries = readRecord();
	const used = new Set();
	const judged = changes.map((change) => {
		const index = entries.findIndex(
			(entry) => entry.type === change.type && entry.path === change.path,
		);
		if (index === -1 || change.criticality.level !== "BREAKING") {
			return change;
		}
		used.add(index);
		return {
			...change,
			criticality: { level: "DANGEROUS", reason: `deliberate: ${entries[index].reason}` },
		};
	});
	const stale = entries.filter((_, index) => !used.has(index));
	if (stale.length > 0) {
		const listed = stale.map((entry) => `${entry.type} ${entry.path}`).join(", ");
		throw new Error(`${RECORD}: no breaking change matches ${listed}; remove the record`);
	}
	return judged;
}

// inspector loads rules with `import()` semantics: the module itself is the default export.
module.exports = deliberate;
