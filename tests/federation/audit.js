#!/usr/bin/env node
// Runs graphql-http's audit of the GraphQL over HTTP spec against a running server.
//
//   node audit.js URL [TOKEN]
//
// With TOKEN every request carries "Authorization: Bearer TOKEN". Prints one JSON array of
// {"id", "name", "status", "reason"}, status being "ok", or for a failed audit "error" (a MUST),
// "warn" (a SHOULD) or "notice" (a MAY). The audits run one after another, so that their
// requests reach the server in the order the audit lists them.
"use strict";

const { serverAudits } = require("graphql-http");

async function main() {
	const [url, token] = process.argv.slice(2);
	if (!url) {
		throw new Error("usage: node audit.js URL [TOKEN]");
	}
	const fetchFn = (input, init = {}) => {
		const headers = { ...(init.headers || {}) };
		if (token) {
			headers.authorization = `Bearer ${token}`;
		}
		return fetch(input, { ...init, headers });
	};
	const results = [];
	for (const audit of serverAudits({ url, fetchFn })) {
		const { id, name, status, reason } = await audit.fn();
		results.push({ id, name, status, reason: reason ?? null });
	}
	process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((error) => {
	process.stderr.write(`${error.stack || error}\n`);
	process.exit(2);
});
