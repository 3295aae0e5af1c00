#!/usr/bin/env node
// A federation router in front of the hub's subgraphs: @apollo/gateway on @apollo/server.
//
//   node gateway.js SUPERGRAPH.graphql PORT
//
// Serves the supergraph (composed by compose.js, which gives every subgraph its URL) at
// http://127.0.0.1:PORT/ and prints one line, {"url": ...}, once it listens. The caller's
// Authorization header is forwarded to every subgraph, so each subgraph authenticates the
// caller and serves the schema of the caller's tier, as the hub itself does.
"use strict";

const fs = require("node:fs");
const { ApolloGateway, RemoteGraphQLDataSource } = require("@apollo/gateway");
const { ApolloServer } = require("@apollo/server");
const { startStandaloneServer } = require("@apollo/server/standalone");

class ForwardingDataSource extends RemoteGraphQLDataSource {
	willSendRequest({ request, context }) {
		if (context.authorization) {
			request.http.headers.set("authorization", context.authorization);
		}
	}
}

async function main(argv) {
	const [path, port] = argv;
	if (!path || !/^\d+$/.test(port ?? "")) {
		process.stderr.write("usage: node gateway.js SUPERGRAPH.graphql PORT\n");
		return 2;
	}
	const gateway = new ApolloGateway({
		supergraphSdl: fs.readFileSync(path, "utf8"),
		buildService: ({ url }) => new ForwardingDataSource({ url }),
	});
	const server = new ApolloServer({
		gateway,
		introspection: true,
		// The hub never answers with a stack trace; neither may the router in front of it.
		includeStacktraceInErrorResponses: false,
	});
	const { url } = await startStandaloneServer(server, {
		listen: { host: "127.0.0.1", port: Number(port) },
		context: async ({ req }) => ({ authorization: req.headers.authorization }),
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
