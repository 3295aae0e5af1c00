// Hive Gateway (The Guild) in front of the hub's subgraphs, configured as the README's
// Federation section asks of a router:
//
//   ROUTER_SUPERGRAPH=supergraph.graphql ROUTER_LIMITS=limits.json \
//     node node_modules/@graphql-hive/gateway/dist/bin.cjs supergraph \
//       -c hive.config.js -h 127.0.0.1 -p PORT
//
// - the caller's Authorization header goes to every subgraph, which serves the caller's tier;
// - X-Forwarded-For (what the caller forwarded, then the address it came from) and
//   X-Hub-Operation-Id (made here per client operation, never taken from the caller) let the
//   subgraphs spend the caller's rate budget once per operation;
// - the whole document is held to the limits of the tier the supergraph was composed for
//   (ROUTER_LIMITS, from hub/limits.py): Hive's own maxTokens, and depth, aliases, directives
//   and cost as in limits.js. Hive's maxDepth counts fragments as levels and its demandControl
//   adds up the cost of each subgraph request, in which an entity fetch counts once whatever
//   the number of entities: neither measures what the hub measures.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const { defineConfig } = require("@graphql-hive/gateway");
const { check, costModel } = require("./limits.js");

const supergraph = process.env.ROUTER_SUPERGRAPH;
const limits = JSON.parse(fs.readFileSync(process.env.ROUTER_LIMITS, "utf8"));
const model = costModel(fs.readFileSync(supergraph, "utf8"));

// One id per client operation, for all the subgraph requests made for it.
const operations = new WeakMap();

function operationId(context) {
	if (!operations.has(context)) operations.set(context, crypto.randomUUID());
	return operations.get(context);
}

/** The caller's X-Forwarded-For with the address it came from appended, as a proxy does. */
function forwardedFor(context) {
	const received = context.request?.headers.get("x-forwarded-for");
	const peer = context.req?.socket?.remoteAddress;
	return [received, peer].filter(Boolean).join(", ");
}

// Refuses a document over the limits before any subgraph is asked, with the hub's own answer.
const hubLimits = {
	onExecute({ args, setResultAndStopExecution }) {
		const errors = check(
			limits,
			args.schema,
			model,
			args.document,
			args.operationName,
			args.variableValues ?? {},
		);
		if (errors.length > 0) setResultAndStopExecution({ data: null, errors });
	},
};

exports.gatewayConfig = defineConfig({
	supergraph,
	maxTokens: limits.maxTokens,
	propagateHeaders: {
		fromClientToSubgraphs({ request, context }) {
			return {
				authorization: request.headers.get("authorization") ?? undefined,
				"x-forwarded-for": forwardedFor(context) || undefined,
				"x-hub-operation-id": operationId(context),
			};
		},
	},
	plugins: () => [hubLimits],
});
