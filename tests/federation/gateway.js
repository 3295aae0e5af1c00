#!/usr/bin/env node
// A federation router in front of the hub's subgraphs: @apollo/gateway on @apollo/server.
//
//   node gateway.js SUPERGRAPH.graphql PORT LIMITS.json
//
// Serves the supergraph (composed by compose.js, which gives every subgraph its URL) at
// http://127.0.0.1:PORT/ and prints one line, {"url": ...}, once it listens. It does what the
// README's Federation section asks of a router:
//
// - it forwards the caller's Authorization header to every subgraph, so each subgraph
//   authenticates the caller and serves the schema of the caller's tier, as the hub does;
// - it tells the subgraphs who the caller is (X-Forwarded-For: what the caller forwarded, then
//   the address the caller came from) and which client operation each of their requests
//   belongs to (X-Hub-Operation-Id, made here per operation, never taken from the caller), so
//   that the caller's rate budget is spent once per operation;
// - it holds the whole document to the limits of the tier its supergraph was composed for
//   (LIMITS.json, from hub/limits.py; limits.js), which no subgraph can: each sees only its part.
"use strict";

const crypto = require("node:crypto");
const fs = require("node:fs");
const { ApolloGateway, RemoteGraphQLDataSource } = require("@apollo/gateway");
const { ApolloServer } = require("@apollo/server");
const { startStandaloneServer } = require("@apollo/server/standalone");
const { check, costModel, tooManyTokens } = require("./limits.js");

class ForwardingDataSource extends RemoteGraphQLDataSource {
	willSendRequest({ request, context }) {
		if (context.authorization) {
			request.http.headers.set("authorization", context.authorization);
		}
		if (context.forwardedFor) {
			request.http.headers.set("x-forwarded-for", context.forwardedFor);
		}
		if (context.operationId) {
			request.http.headers.set("x-hub-operation-id", context.operationId);
		}
	}
}

/** The caller's X-Forwarded-For with the address it came from appended, as a proxy does. */
function forwardedFor(req) {
	const received = req.headers["x-forwarded-for"];
	const peer = req.socket.remoteAddress;
	return [received, peer].filter(Boolean).join(", ");
}

// Refuses a document over the limits before the gateway plans it, with the hub's own answer
// (status 200, data null, QUERY_TOO_COMPLEX errors). A validation rule would do the same, but
// Apollo Server gives every validation error the code GRAPHQL_VALIDATION_FAILED.
function limitsPlugin(limits, model) {
	return {
		async requestDidStart() {
			return {
				async responseForOperation({ document, operationName, request, schema }) {
					const errors = check(
						limits,
						schema,
						model,
						document,
						operationName,
						request.variables ?? {},
					);
					if (errors.length === 0) return null;
					return {
						http: { status: 200, headers: new Map() },
						body: {
							kind: "single",
							singleResult: { data: null, errors: errors.map((error) => error.toJSON()) },
						},
					};
				},
			};
		},
	};
}

async function main(argv) {
	const [path, port, limitsPath] = argv;
	if (!path || !/^\d+$/.test(port ?? "") || !limitsPath) {
		process.stderr.write("usage: node gateway.js SUPERGRAPH.graphql PORT LIMITS.json\n");
		return 2;
	}
	const supergraphSdl = fs.readFileSync(path, "utf8");
	const limits = JSON.parse(fs.readFileSync(limitsPath, "utf8"));
	const gateway = new ApolloGateway({
		supergraphSdl,
		buildService: ({ url }) => new ForwardingDataSource({ url }),
	});
	const server = new ApolloServer({
		gateway,
		introspection: true,
		// The hub never answers with a stack trace; neither may the router in front of it.
		includeStacktraceInErrorResponses: false,
		parseOptions: { maxTokens: limits.maxTokens },
		plugins: [limitsPlugin(limits, costModel(supergraphSdl))],
		formatError(formatted) {
			// graphql-js stops parsing at maxTokens ("more that", sic); say so as the hub does.
			if (/Document contains more tha[nt] \d+ tokens/.test(formatted.message)) {
				return { ...tooManyTokens(limits).toJSON(), locations: formatted.locations };
			}
			return formatted;
		},
	});
	const { url } = await startStandaloneServer(server, {
		listen: { host: "127.0.0.1", port: Number(port) },
		context: async ({ req }) => ({
			authorization: req.headers.authorization,
			forwardedFor: forwardedFor(req),
			operationId: crypto.randomUUID(),
		}),
	});
	process.stdout.write(`${JSON.stringify({ url })}\n`);
	const stop = () => server.stop().then(() => process.exit(0));
	process.on("SIGTERM", stop);
	process.on("SIGINT", stop);
	return 0;
}

main(process.argv.slice(2)).then(
	(status) => {
		if (status !== 0) process.exit(status);
	},
	(error) => {
		process.stderr.write(`${error.stack ?? error}\n`);
		process.exit(1);
	},
);
